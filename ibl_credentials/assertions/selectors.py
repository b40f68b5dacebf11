"""Reads: a platform's assertions as a caller may see them, and the list filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.api.paginator import SlicedRows
from ibl_core.models import Platform
from ibl_core.sql.compiled import CompiledQuery, Marker, instance
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import parse_bool
from ibl_core.tenancy.roles import managed_user_ids, roles_for
from ibl_credentials.assertions.shapes import RELATED
from ibl_credentials.models import Assertion, Credential, Issuer, ItemKind

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


# --- a credential's active assertions, compiled once -------------------------------
#
# The list's usual request (a whole-platform admin, no filter) reads the same three
# statement shapes every time: the credential with its issuer, a page of its active
# assertions with their recipients, their count. Each is compiled once
# (``ibl_core.sql.compiled``) and builds the instances the querysets above build.


def _fields(model: Any, prefix: str = "") -> list[str]:
    return [f"{prefix}{field.attname}" for field in model._meta.concrete_fields]


def _split(row: list[Any], models: tuple[Any, ...], alias: str) -> list[Any]:
    found, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        found.append(instance(model, alias, row[start : start + width]))
        start += width
    return found


def _credential_rows(platform_id: Marker, entity_id: Marker) -> QuerySet:
    return (
        Credential.objects.filter(platform_id=platform_id.number, entity_id=entity_id.text)
        .order_by("pk")
        .values_list(*_fields(Credential), *_fields(Issuer, "issuer__"))
    )


_CREDENTIAL = CompiledQuery(Credential, _credential_rows, 2)


def credential_with_issuer(platform: Platform, entity_id: str) -> Credential:
    """:func:`credential_of_platform`, with a query compiled once."""
    if UNSTORABLE.search(entity_id):
        raise exceptions.NotFound(CREDENTIAL_NOT_FOUND)
    alias = router.db_for_read(Credential) or "default"
    rows = _CREDENTIAL.rows([platform.pk, entity_id], limit=1, using=alias)
    if not rows:
        raise exceptions.NotFound(CREDENTIAL_NOT_FOUND)
    credential, issuer = _split(rows[0], (Credential, Issuer), alias)
    credential.issuer = issuer
    return credential


def _active(credential_id: Marker, now: Marker) -> QuerySet[Assertion]:
    """:meth:`ListQuery.apply` without flags, of :func:`assertions_of_credential`."""
    return (
        Assertion.objects.filter(credential_id=credential_id.number, revoked=False)
        .filter(superseded=False)
        .filter(Q(expires__isnull=True) | Q(expires__gt=now.moment))
    )


def _page_rows(credential_id: Marker, now: Marker) -> QuerySet:
    return (
        _active(credential_id, now)
        .order_by("-issued_on", "-id")
        .values_list(*_fields(Assertion), *_fields(get_user_model(), "recipient__"))
    )


def _count_rows(credential_id: Marker, now: Marker) -> QuerySet:
    return (
        _active(credential_id, now)
        .order_by()
        .values("credential_id")
        .annotate(n=Count("id"))
        .values_list("n")
    )


_PAGE = CompiledQuery(Assertion, _page_rows, 2)
_COUNT = CompiledQuery(Assertion, _count_rows, 2)


class ActiveAssertions(SlicedRows):
    """A credential's active assertions, newest first, with their recipients and the
    credential (loaded once, with its issuer): what ``ListQuery().apply(
    assertions_of_credential(credential))`` reads, a page at a time."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        self.now = timezone.now()
        self.alias = router.db_for_read(Assertion) or "default"

    def __getitem__(self, window: slice) -> list[Assertion]:
        start, stop = window.start or 0, window.stop
        rows = _PAGE.rows(
            [self.credential.pk, self.now], limit=stop - start, offset=start, using=self.alias
        )
        page = []
        models = (Assertion, get_user_model())
        for row in rows:
            assertion, recipient = _split(row, models, self.alias)
            assertion.credential = self.credential
            assertion.recipient = recipient
            page.append(assertion)
        return page

    def count(self) -> int:
        rows = _COUNT.rows([self.credential.pk, self.now], using=self.alias)
        return int(rows[0][0]) if rows else 0
