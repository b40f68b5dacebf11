"""Whose suggestions a learner-view request reads, and which suggestions a caller may answer.

``GET .../user/`` names a learner by ``user`` (a username or a user id), ``username``,
``user_id`` or ``email``; several must name the same user. What the caller reads:

* a DM admin: every suggestion of that user;
* a platform admin: all of that user's suggestions on the platforms they administer
  where the user is an active member (read-only);
* the learner themself: their own visible suggestions on the platforms they are an
  active member of.

An API key keeps to its own platform, and ``platform_key``/``platform_org`` narrow the
list to one platform. Anyone else gets 403; a learner who names another user gets the
same 403 whether that user exists or not, so the endpoint cannot be used to probe for
users. :class:`LearnerScope` is computed once per request and read by the permission
classes (``permissions.py``) and the list alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_core.models import APIKey, DepartmentMember, Platform, PlatformMembership
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import (
    department_mode_requested,
    platform_identifier,
    resolve_platform,
)

#: The query parameters that name the learner, in the order they are checked.
LEARNER_PARAMETERS = ("user", "username", "user_id", "email")
_CACHE_ATTR = "_ibl_learner_scope"


@dataclass
class LearnerScope:
    """The learner a request names and what the caller may read of theirs."""

    #: The named user's id; ``None`` when nobody the caller may read was named.
    user_id: int | None = None
    #: DM admin: every platform.
    every_platform: bool = False
    #: Platforms whose suggestions of the learner the caller reads in full (admin).
    admin_platform_ids: set[int] = field(default_factory=set)
    #: Platforms whose visible suggestions the caller reads (the learner themself).
    own_platform_ids: set[int] = field(default_factory=set)

    @property
    def readable(self) -> bool:
        return self.user_id is not None and (
            self.every_platform or bool(self.admin_platform_ids or self.own_platform_ids)
        )


def learner_parameters(request: Request) -> dict[str, str]:
    """The learner-naming parameters given (at least one), as strings."""
    given = {}
    for name in LEARNER_PARAMETERS:
        value = request.query_params.get(name)
        if value is None or value == "":
            continue
        if UNSTORABLE.search(value) or len(value) > 254:
            raise exceptions.ValidationError({name: ["Not a user name, id or email."]})
        given[name] = value.strip()
    if not given:
        raise exceptions.ValidationError(
            {"user": ["Name the learner with user, username, user_id or email."]}
        )
    if "user_id" in given and not (given["user_id"].isascii() and given["user_id"].isdigit()):
        raise exceptions.ValidationError({"user_id": ["A user id is a positive integer."]})
    return given


def names_user(given: Mapping[str, str], user: Any) -> bool:
    """Whether every parameter in ``given`` names ``user``."""
    for name, value in given.items():
        if name == "user":
            matches = value == user.username or (value.isdigit() and int(value) == user.pk)
        elif name == "username":
            matches = value == user.username
        elif name == "user_id":
            matches = int(value) == user.pk
        else:
            matches = bool(user.email) and value.lower() == user.email.lower()
        if not matches:
            return False
    return True


def candidates(given: Mapping[str, str]) -> QuerySet:
    """Active users that any parameter of ``given`` names."""
    condition = Q()
    for name, value in given.items():
        if name == "user":
            condition |= Q(username=value)
            if value.isdigit() and len(value) < 19:
                condition |= Q(pk=int(value))
        elif name == "username":
            condition |= Q(username=value)
        elif name == "user_id":
            condition |= Q(pk=int(value)) if len(value) < 19 else Q(pk__in=[])
        else:
            condition |= Q(email__iexact=value)
    return get_user_model()._default_manager.filter(condition, is_active=True)


def named_user(given: Mapping[str, str], users: QuerySet) -> Any:
    """The one user of ``users`` that every parameter of ``given`` names, or ``None``
    when none is; 400 when the parameters name different users."""
    found = list(users.distinct()[: len(given) + 1])
    matching = [user for user in found if names_user(given, user)]
    if len(matching) > 1 and "user" in given:  # "user" is a username before an id
        matching = [user for user in matching if user.username == given["user"]]
    if len(matching) == 1:
        return matching[0]
    if found:
        raise exceptions.ValidationError({"user": ["The parameters name different users."]})
    return None


def requested_platform(request: Request) -> Platform | None:
    """The platform the list is narrowed to, if ``platform_key``/``platform_org`` say one."""
    key = platform_identifier(request, "platform_key")
    org = platform_identifier(request, "platform_org")
    if key is None and org is None:
        return None
    return resolve_platform(key=key, org=org)


def learner_scope(request: Request) -> LearnerScope:
    """What the caller may read of the learner the request names (once per request)."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    scope = _learner_scope(request)
    setattr(request, _CACHE_ATTR, scope)
    return scope


def _learner_scope(request: Request) -> LearnerScope:
    user = request.user
    scope = LearnerScope()
    if not user or not user.is_authenticated:
        return scope
    given = learner_parameters(request)
    only = requested_platform(request)
    platforms = Platform.objects.filter(active=True)
    if only is not None:
        platforms = platforms.filter(pk=only.pk)
    if isinstance(request.auth, APIKey) and not user.is_superuser:
        platforms = platforms.filter(pk=request.auth.platform_id)

    if user.is_superuser:
        target = named_user(given, candidates(given))
        if target is None:
            raise exceptions.NotFound("User not found.")
        scope.user_id = target.pk
        if only is None:
            scope.every_platform = True
        else:
            scope.admin_platform_ids = {only.pk}
        return scope

    memberships = PlatformMembership.objects.filter(
        active=True, platform__in=platforms, user__is_active=True
    )
    administered = set(
        memberships.filter(user=user, is_admin=True).values_list("platform_id", flat=True)
    )
    if names_user(given, user):
        scope.user_id = user.pk
        scope.own_platform_ids = set(
            memberships.filter(user=user).values_list("platform_id", flat=True)
        )
        scope.admin_platform_ids = administered
        return scope
    if not administered:
        return scope  # a learner naming someone else: 403, whoever it is
    # Only users the caller administers can be found: anyone else is the same 403.
    target = named_user(
        given,
        candidates(given).filter(
            platform_memberships__platform_id__in=administered,
            platform_memberships__active=True,
        ),
    )
    if target is None:
        return scope
    scope.user_id = target.pk
    scope.admin_platform_ids = set(
        memberships.filter(user=target, platform_id__in=administered).values_list(
            "platform_id", flat=True
        )
    )
    return scope


def learner_suggestions(kind: SuggestionKind, scope: LearnerScope) -> QuerySet:
    """The suggestions of the scope's learner that the caller may read."""
    assert scope.user_id is not None  # the permission classes let no one else through
    suggestions = kind.model._default_manager.filter(user_id=scope.user_id)
    if scope.every_platform:
        return suggestions.filter(platform__active=True)
    readable = Q(platform_id__in=scope.admin_platform_ids)
    readable |= Q(platform_id__in=scope.own_platform_ids, visible=True)
    return suggestions.filter(readable)


def answerable_suggestions(kind: SuggestionKind, request: Request) -> QuerySet:
    """The suggestions the caller may answer (accept or dismiss).

    Their own, on platforms they are an active member of; and those they could
    manage: every one for a DM admin, their platforms' for a platform admin, with
    ``department_mode=true`` those of their departments' members. An API key keeps
    to its own platform. Anything else is not found.
    """
    user = request.user
    user_id = int(user.pk or 0)  # authenticated: the view lets no anonymous caller here
    suggestions = kind.model._default_manager.filter(platform__active=True)
    if user.is_superuser:
        return suggestions
    if isinstance(request.auth, APIKey):
        suggestions = suggestions.filter(platform_id=request.auth.platform_id)
    memberships = PlatformMembership.objects.filter(user_id=user_id, active=True)
    allowed = Q(user_id=user_id, platform__in=memberships.values("platform"))
    allowed |= Q(platform__in=memberships.filter(is_admin=True).values("platform"))
    if department_mode_requested(request):
        allowed |= Q(
            Exists(
                DepartmentMember.objects.filter(
                    user=OuterRef("user"),
                    department__platform=OuterRef("platform"),
                    department__departmentadmin__user_id=user_id,
                )
            ),
            platform__in=memberships.values("platform"),
        )
    return suggestions.filter(allowed)
