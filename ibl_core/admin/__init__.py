"""Admin pages for tenancy, user groups and API keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from ibl_core.models import (
    APIKey,
    Department,
    DepartmentAdmin,
    DepartmentMember,
    Platform,
    PlatformMembership,
    UserGroup,
    UserGroupMember,
)
from ibl_core.sql import in_list
from ibl_core.tenancy import groups
from ibl_core.tenancy.members import platform_members


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ("key", "org", "name", "active", "created")
    list_filter = ("active",)
    search_fields = ("key", "org", "name")
    readonly_fields = ("created", "modified")


@admin.register(PlatformMembership)
class PlatformMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "platform", "is_admin", "active", "created")
    list_filter = ("is_admin", "active", "platform")
    search_fields = ("user__username", "user__email", "platform__key")
    list_select_related = ("user", "platform")
    autocomplete_fields = ("user", "platform")


class DepartmentMemberInline(admin.TabularInline):
    model = DepartmentMember
    autocomplete_fields = ("user",)
    extra = 0


class DepartmentAdminInline(admin.TabularInline):
    model = DepartmentAdmin
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Department)
class DepartmentModelAdmin(admin.ModelAdmin):
    list_display = ("name", "platform")
    list_filter = ("platform",)
    search_fields = ("name", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)
    inlines = (DepartmentMemberInline, DepartmentAdminInline)


@admin.register(DepartmentMember)
class DepartmentMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "platform")
    list_filter = ("department__platform",)
    search_fields = ("user__username", "department__name")
    list_select_related = ("user", "department__platform")
    autocomplete_fields = ("user", "department")

    @admin.display(ordering="department__platform__key")
    def platform(self, obj: DepartmentMember) -> Platform:
        return obj.department.platform


@admin.register(DepartmentAdmin)
class DepartmentAdminAdmin(DepartmentMemberAdmin):
    pass


class UserGroupMemberForm(forms.ModelForm):
    """A row names its user for good: to replace a member, delete the row and add one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["user"].disabled = True


class UserGroupMemberFormSet(BaseInlineFormSet):
    """Refuses, on the row, a user who is not an active member of the group's platform,
    or not in the department the group is (being) attached to; and a department chosen
    while members outside it stay."""

    def clean(self) -> None:
        super().clean()
        group = self.instance  # with the department chosen on the page
        if any(self.errors) or group.platform_id is None:
            return
        joining = {
            form.cleaned_data["user"].pk: form
            for form in self.forms
            if form.instance.pk is None
            and form.cleaned_data.get("user") is not None
            and not form.cleaned_data.get(DELETION_FIELD_NAME)
        }
        staying = {
            form.instance.user_id: form
            for form in self.forms
            if form.instance.pk is not None and not form.cleaned_data.get(DELETION_FIELD_NAME)
        }
        if joining:
            members = set(
                platform_members(group.platform)
                .filter(in_list("pk", joining))
                .values_list("pk", flat=True)
            )
            for pk, form in joining.items():
                if pk not in members:
                    form.add_error(
                        "user",
                        f"{form.cleaned_data['user']} is not an active member of platform "
                        f"{group.platform.key}.",
                    )
        if group.department_id is None or not (joining or staying):
            return
        in_department = set(
            DepartmentMember.objects.filter(
                in_list("user_id", [*joining, *staying]), department_id=group.department_id
            ).values_list("user_id", flat=True)
        )
        for pk, form in joining.items():
            if pk not in in_department and not form.errors:
                form.add_error(
                    "user",
                    f"{form.cleaned_data['user']} is not in department "
                    f"{group.department.name}, which the group is attached to.",
                )
        outside = sorted(
            str(form.instance.user) for pk, form in staying.items() if pk not in in_department
        )
        if outside:
            raise forms.ValidationError(
                f"Members not in department {group.department.name}: {', '.join(outside)}. "
                "A group attached to a department holds only its members: remove them, or "
                "choose another department."
            )


class UserGroupMemberInline(admin.TabularInline):
    model = UserGroupMember
    form = UserGroupMemberForm
    formset = UserGroupMemberFormSet
    autocomplete_fields = ("user",)
    readonly_fields = ("created",)
    extra = 1


@admin.register(UserGroup)
class UserGroupAdmin(admin.ModelAdmin):
    """Members are edited inline; every change goes through ``ibl_core.tenancy.groups``, so what
    listens to membership changes hears the admin's too."""

    list_display = ("name", "platform", "department", "user_count", "modified")
    list_filter = ("platform",)
    search_fields = ("name", "platform__key", "department__name")
    list_select_related = ("platform", "department")
    autocomplete_fields = ("platform", "department")
    readonly_fields = ("created", "modified")
    inlines = (UserGroupMemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserGroup]:
        return groups.with_user_count(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: UserGroup | None = None) -> Any:
        if obj is not None:  # its members belong to that platform
            return (*self.readonly_fields, "platform")
        return self.readonly_fields

    @admin.display(description="Members", ordering="user_count")
    def user_count(self, group: UserGroup) -> int:
        """Members of the group who are active members of its platform."""
        return group.user_count  # type: ignore[attr-defined]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not UserGroupMember:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # lists new and deleted rows; writes nothing
        groups.change_members(
            form.instance,
            add=[member.user_id for member in formset.new_objects],
            remove=[member.user_id for member in formset.deleted_objects],
        )

    def delete_model(self, request: HttpRequest, obj: UserGroup) -> None:
        groups.delete_group(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserGroup]) -> None:
        for group in queryset:
            groups.delete_group(group)


@admin.register(UserGroupMember)
class UserGroupMemberAdmin(admin.ModelAdmin):
    """Who is in which group. Members are added on the group's page; removing them here
    goes through ``ibl_core.tenancy.groups`` like everywhere else."""

    list_display = ("user", "group", "platform", "created")
    list_filter = ("group__platform",)
    search_fields = ("user__username", "user__email", "group__name")
    list_select_related = ("user", "group__platform")

    @admin.display(ordering="group__platform__key")
    def platform(self, obj: UserGroupMember) -> Platform:
        return obj.group.platform

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: UserGroupMember) -> None:
        groups.remove_members(obj.group, [obj.user_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserGroupMember]) -> None:
        by_group: dict[int, list[int]] = {}
        for group_id, user_id in queryset.values_list("group_id", "user_id"):
            by_group.setdefault(group_id, []).append(user_id)
        for group in UserGroup.objects.filter(pk__in=by_group).select_related("platform"):
            groups.remove_members(group, by_group[group.pk])


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Keys are issued here too; the raw key is shown once, in the success message."""

    list_display = (
        "prefix",
        "name",
        "user",
        "platform",
        "created",
        "expires",
        "status",
        "last_used",
    )
    list_filter = ("revoked", "platform")
    search_fields = ("prefix", "name", "user__username", "platform__key")
    list_select_related = ("user", "platform")
    autocomplete_fields = ("user", "platform")
    readonly_fields = ("prefix", "created", "last_used")
    actions = ("revoke",)

    def get_readonly_fields(self, request: HttpRequest, obj: APIKey | None = None) -> Any:
        if obj is not None:  # who and where a key acts cannot change after issue
            return (*self.readonly_fields, "user", "platform")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: APIKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, raw_key = APIKey.objects.issue(
            user=obj.user, platform=obj.platform, name=obj.name, expires=obj.expires
        )
        obj.pk = issued.pk
        obj.prefix = issued.prefix
        obj.hashed_key = issued.hashed_key
        obj.created = issued.created
        obj._state.adding = False
        self.message_user(
            request,
            f"The API key is {raw_key} . Copy it now: it is stored only as a hash and "
            "will not be shown again.",
            level=messages.WARNING,
        )

    @admin.display(description="Status", ordering="revoked")
    def status(self, api_key: APIKey) -> str:
        """In words: a boolean "revoked" column showed a red cross for every healthy key."""
        if api_key.revoked:
            return "Revoked"
        if api_key.is_expired:
            return "Expired"
        return "Active"

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        count = queryset.update(revoked=True)
        self.message_user(request, f"{count} API key(s) revoked.")


from ibl_core.events.webhooks import admin as webhooks_admin  # noqa: E402, F401  (registers its pages)
