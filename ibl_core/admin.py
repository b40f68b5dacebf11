"""Admin pages for tenancy and API keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    APIKey,
    Department,
    DepartmentAdmin,
    DepartmentMember,
    Platform,
    PlatformMembership,
)


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
