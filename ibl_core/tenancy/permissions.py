"""The role permission classes, which the apps' own permission classes build on.

All are plain DRF permission classes built on :func:`ibl_core.tenancy.roles.roles_for`
and :func:`ibl_core.tenancy.platforms.platform_for_request`, and compose with ``|``. The
other modules that decide access are listed in docs/architecture.md ("Where each rule
lives")::

    permission_classes = [IsDMAdmin | IsPlatformAdmin | IsDepartmentModeAdminInPlatform]

An anonymous caller is refused before the platform is looked at (401, not 404).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ibl_core.tenancy.platforms import department_mode_requested, platform_for_request
from ibl_core.tenancy.roles import PlatformRoles, roles_for


class IsDMAdmin(BasePermission):
    """The data-manager admin (Django superuser): acts on every platform."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser)


class _PlatformRolePermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return self.allows(request, roles_for(request, platform_for_request(request, view)))

    def allows(self, request: Request, roles: PlatformRoles) -> bool:
        raise NotImplementedError


class IsPlatformAdmin(_PlatformRolePermission):
    """An active member of the request's platform with the admin flag."""

    def allows(self, request: Request, roles: PlatformRoles) -> bool:
        return roles.is_platform_admin


class IsDepartmentModeAdminInPlatform(_PlatformRolePermission):
    """A department admin of the request's platform, only with ``department_mode=true``."""

    def allows(self, request: Request, roles: PlatformRoles) -> bool:
        return roles.is_department_admin and department_mode_requested(request)


class IsPlatformMember(_PlatformRolePermission):
    """Any active member of the request's platform."""

    def allows(self, request: Request, roles: PlatformRoles) -> bool:
        return roles.is_member


#: The access rule of every ``manage`` endpoint.
CanManagePlatform: Any = IsDMAdmin | IsPlatformAdmin | IsDepartmentModeAdminInPlatform
