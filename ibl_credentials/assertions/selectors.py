"""Reads: a platform's assertions as a caller may see them, and the list filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import parse_bool
from ibl_core.tenancy.roles import managed_user_ids, roles_for
from ibl_credentials.assertions.shapes import RELATED
from ibl_credentials.models import Assertion, Credential, ItemKind

CREDENTIAL_NOT_FOUND = "Credential not found."
ASSERTION_NOT_FOUND = "Assertion not found."


def assertions_of_platform(platform: Platform) -> QuerySet[Assertion]:
    """A platform's assertions, newest first, with what the assertion object reads."""
    return (
        Assertion.objects.filter(platform=platform)
        .select_related(*RELATED)
        .order_by("-issued_on", "-id")
    )


def assertions_of_credential(credential: Credential) -> QuerySet[Assertion]:
    """A credential's assertions, newest first.

    Filtered by the credential alone (it belongs to one platform): the index on
    (credential, issued_on, id, revoked, superseded, expires) then both orders the page
    and answers the list's COUNT without reading the table, whatever the platform holds.
    """
    return (
        Assertion.objects.filter(credential=credential)
        .select_related(*RELATED)
        .order_by("-issued_on", "-id")
    )


def credential_of_platform(platform: Platform, entity_id: str) -> Credential:
    """The credential ``entity_id`` of ``platform``; 404 for any other (or another tenant's)."""
    credential = None
    if not UNSTORABLE.search(entity_id):
        credential = (
            Credential.objects.filter(platform=platform, entity_id=entity_id)
            .select_related("issuer")
            .first()
        )
    if credential is None:
        raise exceptions.NotFound(CREDENTIAL_NOT_FOUND)
    return credential


def manages_user(request: Request, platform: Platform, user_id: int) -> bool:
    """Whether the caller may issue to, revoke from and read the assertions of ``user_id``."""
    scope = managed_user_ids(request, platform)
    return scope is None or scope.filter(user_id=user_id).exists()


def visible_assertions(request: Request, platform: Platform) -> QuerySet[Assertion]:
    """The assertions of ``platform`` the caller may see: their own, and those of the
    users they manage (every user for platform and DM admins; a department admin's
    department members with ``department_mode=true``). Others are simply not found."""
    assertions = assertions_of_platform(platform)
    if roles_for(request, platform).manages_whole_platform:
        return assertions
    scope = managed_user_ids(request, platform)
    return assertions.filter(Q(recipient_id=request.user.pk) | Q(recipient_id__in=scope))


def visible_assertion(request: Request, platform: Platform, entity_id: str) -> Assertion:
    """One assertion of :func:`visible_assertions`; 404 otherwise."""
    found = None
    if not UNSTORABLE.search(entity_id):
        found = visible_assertions(request, platform).filter(entity_id=entity_id).first()
    if found is None:
        raise exceptions.NotFound(ASSERTION_NOT_FOUND)
    return found


def scoped_to_managed_users(
    request: Request, platform: Platform, assertions: QuerySet[Assertion]
) -> QuerySet[Assertion]:
    """``assertions`` of the users the caller manages (all for platform and DM admins)."""
    scope = managed_user_ids(request, platform)
    return assertions if scope is None else assertions.filter(recipient_id__in=scope)


@dataclass(frozen=True)
class ListQuery:
    """The query parameters of the assertion lists."""

    course: str | None = None
    include_revoked: bool = False
    include_expired: bool = False

    @classmethod
    def from_request(cls, request: Request) -> ListQuery:
        params = request.query_params
        course = params.get("course")
        if course is not None and (not course or UNSTORABLE.search(course)):
            raise exceptions.ValidationError({"course": ["A course key is required."]})
        flags: dict[str, Any] = {}
        for name in ("include_revoked", "include_expired"):
            raw = params.get(name)
            flags[name] = False if raw is None else parse_bool(raw, name)
        return cls(course=course, **flags)

    def apply(self, assertions: QuerySet[Assertion]) -> QuerySet[Assertion]:
        """Active assertions only, unless the flags ask for revoked or expired ones too.

        A superseded assertion (expired, then issued again) counts as expired."""
        if self.course is not None:
            assertions = assertions.filter(item_kind=ItemKind.COURSE, item_key=self.course)
        if not self.include_revoked:
            assertions = assertions.filter(revoked=False)
        if not self.include_expired:
            now = timezone.now()
            assertions = assertions.filter(superseded=False).filter(
                Q(expires__isnull=True) | Q(expires__gt=now)
            )
        return assertions


def public_assertions() -> QuerySet[Assertion]:
    """Assertions anyone may look up by entityId: every one, whatever its platform's
    state, as the Open Badges documents answer (issued credentials stay verifiable)."""
    return Assertion.objects.select_related(*RELATED)
