from typing import Any

from django.contrib import admin

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.models import (
    Course,
    CourseGroupSuggestion,
    CourseGroupSupport,
    Pathway,
    PathwayGroupSuggestion,
    PathwayGroupSupport,
    Program,
    ProgramGroupSuggestion,
    ProgramGroupSupport,
    SuggestionCount,
)
from ibl_catalog.suggestions.base import SuggestionKind


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("course_id", "name", "platform", "enabled", "modified")
    list_filter = ("enabled", "platform")
    search_fields = ("course_id", "name", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ("pathway_id", "name", "pathway_uuid", "platform", "enabled", "modified")
    list_filter = ("enabled", "platform")
    search_fields = ("pathway_id", "pathway_uuid", "name", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("program_key", "name", "platform", "enabled", "modified")
    list_filter = ("enabled", "platform")
    search_fields = ("program_key", "name", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)


class SuggestionAdmin(admin.ModelAdmin):
    """Per-user suggestions of one kind (``register_suggestion_admin`` fills in the item)."""

    list_filter = ("accepted", "visible", "direct", "platform")
    readonly_fields = ("created", "modified")
    date_hierarchy = "created"


def register_suggestion_admin(kind: SuggestionKind) -> None:
    """The admin page of ``kind``'s suggestions: searchable by user and item."""
    item = kind.item_field
    attrs = {
        "list_display": ("id", "user", item, "platform", "accepted", "visible", "direct",
                         "suggested_by", "modified"),
        "search_fields": ("user__username", "user__email", f"{item}__{kind.name_field}",
                          *(f"{item}__{i.field}" for i in kind.identifiers)),
        "list_select_related": ("user", item, "platform", "suggested_by"),
        "autocomplete_fields": ("platform", item, "user", "suggested_by"),
        "__module__": __name__,
    }  # fmt: skip
    admin.site.register(kind.model, type(f"{kind.model.__name__}Admin", (SuggestionAdmin,), attrs))


for _kind in SUGGESTION_KINDS:
    register_suggestion_admin(_kind)


@admin.register(SuggestionCount)
class SuggestionCountAdmin(admin.ModelAdmin):
    """Read-only: the database's own bookkeeping of list counts (triggers write it).

    A platform's count of a kind is the sum of its rows' ``delta``.
    """

    list_display = ("platform", "kind", "delta")
    list_filter = ("kind",)
    search_fields = ("platform__key",)
    list_select_related = ("platform",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: a write must go through the API, which fans a group
    suggestion out to the group's members and keeps the support rows exact."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CourseGroupSuggestion, PathwayGroupSuggestion, ProgramGroupSuggestion)
class GroupSuggestionAdmin(ReadOnlyAdmin):
    """Group suggestions (read-only: create, change and delete them with the API)."""

    list_display = ("id", "group", "item", "platform", "accepted", "visible", "modified")
    list_filter = ("platform",)
    search_fields = ("group__name", "item__name")
    list_select_related = ("group", "item", "platform")


@admin.register(CourseGroupSupport, PathwayGroupSupport, ProgramGroupSupport)
class GroupSupportAdmin(ReadOnlyAdmin):
    """Which group suggestion gave which learner's suggestion (bookkeeping)."""

    list_display = ("id", "group_suggestion", "suggestion")
    list_select_related = ("group_suggestion", "suggestion")
