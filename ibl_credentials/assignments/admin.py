"""Admin pages of credential assignments: read them, and remove them as the API does.

Loaded by ``ibl_credentials.admin``. Assignments are written by the API (and its jobs)
only; the "Remove" action removes through the same service as ``DELETE``, so what an
assignment issued is revoked ("assignment removed"), never deleted silently.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ibl_core.admin.base import ReadOnlyAdmin
from ibl_credentials.assignments import services
from ibl_credentials.assignments.models import GroupAssignment, UserAssignment


class RemovesThroughTheService(ReadOnlyAdmin):
    """Read-only, deleted only by the "Remove" action (the plain delete would not revoke)."""

    actions = ["remove"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Remove (revokes what they issued)")
    def remove(self, request: HttpRequest, queryset: QuerySet) -> None:
        removed = 0
        for assignment in queryset:
            services.remove_assignment(assignment)
            removed += 1
        self.message_user(request, f"{removed} assignment(s) removed.", messages.SUCCESS)


@admin.register(UserAssignment)
class UserAssignmentAdmin(RemovesThroughTheService):
    list_display = ("entity_id", "credential", "user", "status", "group_assignment", "created")
    list_filter = ("status", "platform")
    search_fields = ("entity_id", "user__username", "user__email", "credential__name")
    list_select_related = ("credential", "user", "group_assignment")
    raw_id_fields = ("assertion",)


@admin.register(GroupAssignment)
class GroupAssignmentAdmin(RemovesThroughTheService):
    list_display = ("entity_id", "credential", "group", "follow_membership", "job", "created")
    list_filter = ("follow_membership", "platform")
    search_fields = ("entity_id", "group__name", "credential__name")
    list_select_related = ("credential", "group", "job")
