"""The one role resolver: what may this request's user do on a platform?

Roles are computed at most once per request and platform. A request authenticated
with an API key has no role on any platform but the key's own, unless its user is
a DM admin (superuser).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request

from ibl_core.models import APIKey, DepartmentAdmin, DepartmentMember, Platform, PlatformMembership
from ibl_core.tenancy.authentication import OWN_MEMBERSHIP
from ibl_core.tenancy.platforms import department_mode_requested

_CACHE_ATTR = "_ibl_roles"


class PlatformRoles:
    """The roles of one user on one platform."""

    def __init__(
        self,
        *,
        user_id: int | None,
        platform: Platform,
        is_dm_admin: bool,
        membership: PlatformMembership | None,
        locked_out: bool = False,
    ) -> None:
        self.user_id = user_id
        self.platform = platform
        self.is_dm_admin = is_dm_admin
        self._membership = membership
        self._locked_out = locked_out

    @property
    def is_member(self) -> bool:
        return self._membership is not None and self._membership.active

    @property
    def is_platform_admin(self) -> bool:
        return self.is_member and bool(self._membership and self._membership.is_admin)

    @cached_property
    def administered_department_ids(self) -> frozenset[int]:
        if not self.is_member or self.user_id is None:
            return frozenset()
        return frozenset(
            DepartmentAdmin.objects.filter(
                user_id=self.user_id, department__platform=self.platform
            ).values_list("department_id", flat=True)
        )

    @property
    def is_department_admin(self) -> bool:
        return bool(self.administered_department_ids)

    @property
    def manages_whole_platform(self) -> bool:
        return self.is_dm_admin or self.is_platform_admin


def roles_for(request: Request, platform: Platform) -> PlatformRoles:
    """Resolve (once per request) the caller's roles on ``platform``."""
    cache: dict[int, PlatformRoles] = getattr(request, _CACHE_ATTR, None) or {}
    if platform.pk in cache:
        return cache[platform.pk]
    user = request.user
    if not user or not user.is_authenticated:
        roles = PlatformRoles(user_id=None, platform=platform, is_dm_admin=False, membership=None)
    elif (
        not user.is_superuser
        and isinstance(request.auth, APIKey)
        and request.auth.platform_id != platform.pk
    ):
        roles = PlatformRoles(
            user_id=user.pk, platform=platform, is_dm_admin=False, membership=None
        )
    else:
        roles = roles_of_user(user, platform, known=read_with_key(request, platform))
    cache[platform.pk] = roles
    setattr(request, _CACHE_ATTR, cache)
    return roles


#: ``known`` of :func:`roles_of_user` when the membership has not been read.
_UNKNOWN: Any = object()


def read_with_key(request: Request, platform: Platform) -> Any:
    """The caller's membership of ``platform`` as read with their API key (``None``: not
    a member), when the key is of ``platform``; else :data:`_UNKNOWN`."""
    auth = request.auth
    if (
        isinstance(auth, APIKey)
        and auth.platform_id == platform.pk
        and auth.user_id == request.user.pk
        and hasattr(auth, OWN_MEMBERSHIP)
    ):
        return getattr(auth, OWN_MEMBERSHIP)
    return _UNKNOWN


def roles_of_user(user: Any, platform: Platform, *, known: Any = _UNKNOWN) -> PlatformRoles:
    """The roles of ``user`` on ``platform``, outside any request: what a background task
    acting for the user who asked for it may do when it runs. An inactive (or deleted:
    ``None``) user has none. ``known``: the user's membership of ``platform`` (or
    ``None``), when it has been read already."""
    if user is None or not user.is_active:
        return PlatformRoles(user_id=None, platform=platform, is_dm_admin=False, membership=None)
    if user.is_superuser:
        return PlatformRoles(user_id=user.pk, platform=platform, is_dm_admin=True, membership=None)
    membership = known
    if membership is _UNKNOWN:
        membership = PlatformMembership.objects.filter(user=user, platform=platform).first()
    return PlatformRoles(
        user_id=user.pk, platform=platform, is_dm_admin=False, membership=membership
    )


def managed_user_ids(request: Request, platform: Platform) -> QuerySet | None:
    """Which users of ``platform`` the caller may manage.

    ``None`` means every user of the platform (DM admin, platform admin). A department
    admin acting in ``department_mode`` gets a subquery of the user ids that belong to
    a department they administer; anyone else gets an empty subquery.
    """
    return users_managed_by(roles_for(request, platform), department_mode_requested(request))


def users_managed_by(roles: PlatformRoles, department_mode: bool) -> QuerySet | None:
    """:func:`managed_user_ids` for resolved roles (a request's, or a task's)."""
    if roles.manages_whole_platform:
        return None
    department_ids = roles.administered_department_ids if department_mode else frozenset()
    return DepartmentMember.objects.filter(department_id__in=department_ids).values("user_id")


def manageable_platforms(request: Request) -> QuerySet[Platform]:
    """Platforms the caller may manage: every one for a DM admin; those where they are a
    platform admin; with ``department_mode=true`` also those where they administer a
    department. Keys keep to their own platform. Used to find an object's platform
    without telling other tenants' objects apart from missing ones."""
    user = request.user
    platforms = Platform.objects.filter(active=True)
    if not user or not user.is_authenticated:
        return platforms.none()
    if user.is_superuser:
        return platforms
    admin_of = Q(memberships__user=user, memberships__active=True, memberships__is_admin=True)
    if department_mode_requested(request):
        admin_of |= Q(
            memberships__user=user,
            memberships__active=True,
            departments__departmentadmin__user=user,
        )
    platforms = platforms.filter(admin_of).distinct()
    if isinstance(request.auth, APIKey):
        platforms = platforms.filter(pk=request.auth.platform_id)
    return platforms
