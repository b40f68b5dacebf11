"""Who may read, make and remove assignments (docs/assignments.md, "Who may call").

* Reading user assignments: any member (their own), department admins with
  ``department_mode=true`` (their departments' users), platform and DM admins (all).
  A caller who may see none gets 403 with the published message.
* Assigning, removing, and reading group assignments: platform admins, DM admins and
  department admins with ``department_mode=true`` (their departments' users and groups).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ibl_core.tenancy.permissions import CanManagePlatform, IsDMAdmin, IsPlatformMember
from ibl_core.tenancy.platforms import department_mode_requested, platform_for_request
from ibl_core.tenancy.roles import roles_for
from ibl_credentials.assignments.selectors import readable_user_ids
from ibl_credentials.permissions import IsPathUserOrPlatformAdmin, IsPlatformMemberOrDMAdmin

NO_VISIBLE_ASSIGNMENTS = "You don't have permission to view these assignments"


class MaySeeAssignments(BasePermission):
    """A member or DM admin who may see some assignment: a department admin acting in
    ``department_mode`` whose departments have no users may see none."""

    message = NO_VISIBLE_ASSIGNMENTS

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (IsDMAdmin | IsPlatformMember)().has_permission(request, view):
            return False
        platform = platform_for_request(request, view)
        scope = readable_user_ids(request, platform)
        if scope is None or not department_mode_requested(request):
            return True
        if not roles_for(request, platform).is_department_admin:
            return True  # a member reads their own
        return bool(scope.exists())


class CanAssignCredentials(BasePermission):
    """A platform admin, a DM admin, or a department admin with ``department_mode=true``."""

    message = (
        "Only platform admins, or department admins with department_mode=true, "
        "may assign credentials, remove assignments or list group assignments."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(CanManagePlatform().has_permission(request, view))


#: GET assignments/users/.
ASSIGNMENT_READERS = [MaySeeAssignments, IsPathUserOrPlatformAdmin]
#: POST users/ and groups/, GET groups/, DELETE {id}.
ASSIGNERS = [IsPlatformMemberOrDMAdmin, IsPathUserOrPlatformAdmin, CanAssignCredentials]
