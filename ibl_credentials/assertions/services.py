"""Writes: issuing one assertion or many, revoking, and the recipient's answer.

Every write runs in one transaction. "One active assertion per (credential, recipient,
item)" is the database's partial unique constraint; these functions only decide what
to answer when it says no:

* a single issue that loses a race to a concurrent one answers the winner (200), as if
  it had come second;
* a bulk issue inserts with ``ON CONFLICT DO NOTHING`` and reports the rows it could
  not insert as ``already_issued``.

An active assertion that has expired is marked ``superseded`` (it stays readable, with
``include_expired``) when the credential is issued again for the same item.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connections, router, transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, JSONObject, Lower, Replace
from django.utils import timezone
from rest_framework import exceptions

from ibl_core.api.fields import encode_json
from ibl_core.api.representation import JsonMerge
from ibl_core.catalog_items import item_names
from ibl_core.events.outbox import PendingEvent, record_events, record_selected_events
from ibl_core.models import Platform
from ibl_core.sql import in_list, json_rows, quoted_column, quoted_table, retrying_transaction
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.scope import (
    USER_NOT_FOUND_MESSAGE,
    classify,
    full_name_sql,
    require_in_scope,
    users_in_scope,
)
from ibl_credentials.assertions.selectors import ASSERTION_NOT_FOUND, CREDENTIAL_NOT_FOUND
from ibl_credentials.assertions.shapes import (
    ENTITY_MARK,
    RELATED,
    assertion_object,
    open_badges_url_templates,
)
from ibl_credentials.models import (
    Assertion,
    Credential,
    CredentialItem,
    ItemKind,
    Revocation,
    generate_entity_id,
)

#: Bulk reasons (docs/credentials.md), besides ibl_core.tenancy.scope's user_not_found and
#: user_not_in_department.
ALREADY_ISSUED = "already_issued"
DUPLICATE = "duplicate"

ALREADY_REVOKED_MESSAGE = "A revoked assertion cannot be un-revoked."
REVOKED_ANSWER_MESSAGE = "A revoked assertion cannot be accepted or rejected."


class Item(NamedTuple):
    """The catalog item an assertion is earned for (``kind`` ``""``: none)."""

    kind: str
    key: str
    name: str


NO_ITEM = Item("", "", "")


@dataclass(frozen=True)
class IssueDetails:
    """What every assertion of one issue request carries besides its recipient."""

    item: Item = NO_ITEM
    narrative: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    expires: dt.datetime | None = None  # None: from the credential's rule


# Items and expiry -------------------------------------------------------------------


def item_for_credential(platform: Platform, credential: Credential, kind: str, key: str) -> Item:
    """The item ``kind``/``key`` names, checked: an item of the platform's catalog and,
    when the credential lists items of that kind, one of them. 400 (on the field)
    otherwise."""
    name = item_names(platform, kind, [key]).get(key)
    if name is None:
        raise exceptions.ValidationError({kind: [f"No such {kind} on this platform."]})
    linked = set(
        CredentialItem.objects.filter(credential=credential, kind=kind).values_list(
            "key", flat=True
        )
    )
    if linked and key not in linked:
        raise exceptions.ValidationError(
            {kind: [f"This credential is not earned for this {kind}."]}
        )
    return Item(kind, key, name)


def issue_details(
    platform: Platform, credential: Credential, data: Mapping[str, Any]
) -> IssueDetails:
    """The details of a validated issue body (one or bulk), its item checked."""
    item = NO_ITEM
    for kind in ItemKind.values:
        if kind in data:
            item = item_for_credential(platform, credential, kind, data[kind])
    return IssueDetails(
        item=item,
        narrative=data.get("narrative", ""),
        evidence=[dict(entry) for entry in data.get("evidence", [])],
        metadata=data.get("metadata") or {},
        expires=data.get("expires"),
    )


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """``start`` plus calendar months; a day the target month lacks becomes its last day
    (January 31 + 1 month = February 28 or 29)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def expiry_from_rule(credential: Credential, issued_on: dt.datetime) -> dt.datetime | None:
    """When an assertion issued at ``issued_on`` expires under the credential's rule."""
    amount, duration = credential.expires_amount, credential.expires_duration
    if not amount or not duration:
        return None
    if duration == Credential.Duration.DAYS:
        return issued_on + dt.timedelta(days=amount)
    if duration == Credential.Duration.WEEKS:
        return issued_on + dt.timedelta(weeks=amount)
    months = amount if duration == Credential.Duration.MONTHS else 12 * amount
    return add_months(issued_on, months)


def is_expired(expires: dt.datetime | None, now: dt.datetime) -> bool:
    return expires is not None and expires <= now


# Recipients -------------------------------------------------------------------------


def identity_text(identity: str | int) -> str:
    """A recipient as sent (a username, an email or an id) as text: the bulk answer's name."""
    return str(identity)


def resolve_identities(platform: Platform, identities: Iterable[str]) -> dict[str, int]:
    """``{identity: user id}`` for the identities that name an active member of
    ``platform``, in one query.

    An identity is a username (exact), else a user id (digits), else an email
    (case-insensitive, when exactly one member has it). Anything else names nobody.
    """
    return {identity: row[0] for identity, row in identity_rows(platform, identities).items()}


def identity_rows(
    platform: Platform, identities: Iterable[str], *fields: str
) -> dict[str, tuple[Any, ...]]:
    """``{identity: (user id, username, lower-case email, *fields)}``: the members
    :func:`resolve_identities` finds, with the user columns ``fields``, in one query."""
    # Text no database column can hold (a NUL) names nobody: never sent to the database.
    identities = {i for i in identities if i and not UNSTORABLE.search(i)}
    if not identities:
        return {}
    digits = {int(i) for i in identities if i.isascii() and i.isdigit() and len(i) <= 18}
    emails = {i.lower() for i in identities if "@" in i}
    if len(identities) == 1:
        # A single issue: plain equalities, which Django compiles in half the time of
        # the one-parameter lists below (about 1 ms of a 8 ms issue, in-process).
        condition = Q(username=next(iter(identities)))
        if digits:
            condition |= Q(pk=next(iter(digits)))
        if emails:
            condition |= Q(email_lower=next(iter(emails)))
    else:
        condition = in_list("username", identities, text=True)
        if digits:
            condition |= in_list("pk", digits)
        if emails:
            condition |= in_list("email_lower", emails, text=True)
    rows = (
        platform_members(platform)
        .annotate(email_lower=Lower("email"))
        .filter(condition)
        .values_list("pk", "username", "email_lower", *fields)
    )
    by_username: dict[str, tuple[Any, ...]] = {}
    by_id: dict[int, tuple[Any, ...]] = {}
    by_email: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        pk, username, email = row[:3]
        by_username[username] = row
        by_id[pk] = row
        if email:
            by_email.setdefault(email, []).append(row)
    found: dict[str, tuple[Any, ...]] = {}
    for identity in identities:
        if identity in by_username:
            found[identity] = by_username[identity]
        elif identity.isascii() and identity.isdigit() and int(identity) in by_id:
            found[identity] = by_id[int(identity)]
        elif len(by_email.get(identity.lower(), ())) == 1:
            found[identity] = by_email[identity.lower()][0]
    return found


#: The recipient's columns the assertion object shows (``shapes.assertion_object``).
RECIPIENT_FIELDS = ("email", "first_name", "last_name")


def recipient_for_issue(platform: Platform, identity: str, scope: QuerySet | None) -> Any:
    """The member ``identity`` names, for a single issue: a user instance holding the
    columns the assertion object shows (read with the lookup: no query of its own).

    A department admin gets the same 403 for a user outside their departments, an
    unknown user and a non-member (as the catalog's single POST); others get 400 for an
    unknown user or a non-member.
    """
    row = identity_rows(platform, [identity], *RECIPIENT_FIELDS).get(identity)
    user_id = row[0] if row is not None else None
    in_scope = users_in_scope(scope, [user_id] if user_id is not None else [])
    require_in_scope(
        user_id,
        in_scope,
        is_member=user_id is not None,
        not_found={"recipient": {"identity": [USER_NOT_FOUND_MESSAGE]}},
    )
    assert row is not None
    pk, username, _, *values = row
    # As a queryset's .only() builds it: any other column is deferred, read from the
    # database if something asks for it, never a default standing in for it.
    user_model = get_user_model()
    known = {user_model._meta.pk.attname: pk, "username": username}
    known.update(zip(RECIPIENT_FIELDS, values, strict=True))
    ordered = [f.attname for f in user_model._meta.concrete_fields if f.attname in known]
    return user_model.from_db(
        router.db_for_read(user_model), ordered, [known[name] for name in ordered]
    )


# Issuing ----------------------------------------------------------------------------


def active_assertions(credential: Credential, item: Item) -> QuerySet[Assertion]:
    """The credential's assertions for ``item`` that hold the one-active slot."""
    return Assertion.objects.filter(
        credential=credential,
        item_kind=item.kind,
        item_key=item.key,
        revoked=False,
        superseded=False,
    )


def lock_credential(credential: Credential) -> None:
    """Hold ``credential`` against a concurrent delete until the issue commits.

    Issuing takes the credential's row (``FOR NO KEY UPDATE``) before it reads or
    writes assertions, the order a delete takes them in (credential ``FOR UPDATE``,
    then its assertions): a delete either waits for the issue and sees its active
    assertion (409), or goes first and the issue finds no credential (404), never a
    foreign key failing at commit (500).
    """
    if not Credential.objects.select_for_update(no_key=True).filter(pk=credential.pk).exists():
        raise exceptions.NotFound(CREDENTIAL_NOT_FOUND)


def issue_assertion(
    *, credential: Credential, recipient: Any, details: IssueDetails, issued_by: Any
) -> tuple[Assertion, bool]:
    """Issue ``credential`` to a member (``recipient``: from :func:`recipient_for_issue`);
    ``(assertion, created)``, the assertion with its credential, issuer and recipient.

    The recipient's active, unexpired assertion for the same item is answered as is
    (``created`` false); an expired one is superseded by the new one.

    A new assertion's object (its event, the answer) is built from what the write
    holds: the credential and issuer read by the view, the recipient read by the
    identity lookup, and the row as inserted, with no read-back, unless the database
    would give its JSON back in another form (:func:`stored_as_given`).
    """

    def work() -> tuple[int, Assertion | None]:
        lock_credential(credential)
        now = timezone.now()
        mine = active_assertions(credential, details.item).filter(recipient_id=recipient.pk)
        current = mine.values_list("pk", "expires").first()
        if current is not None and not is_expired(current[1], now):
            return current[0], None
        if current is not None:
            mine.filter(pk=current[0]).update(superseded=True, modified=now)
        assertion = Assertion(
            platform_id=credential.platform_id,
            credential=credential,
            recipient=recipient,
            item_kind=details.item.kind,
            item_key=details.item.key,
            item_name=details.item.name,
            issued_on=now,
            expires=details.expires or expiry_from_rule(credential, now),
            narrative=details.narrative,
            evidence=details.evidence,
            metadata=details.metadata,
            issued_by=issued_by,
        )
        try:
            with transaction.atomic():
                assertion.save(force_insert=True)
        except IntegrityError:
            # A concurrent issue took the one active slot first: answer its assertion.
            winner = mine.values_list("pk", flat=True).first()
            if winner is None:
                raise
            return winner, None
        vendor = connections[assertion._state.db or "default"].vendor
        if not all(stored_as_given(v, vendor) for v in (assertion.metadata, assertion.evidence)):
            assertion = Assertion.objects.select_related(*RELATED).get(pk=assertion.pk)
        event = PendingEvent("assertion.issued", assertion.entity_id, assertion_object(assertion))
        record_events(assertion.platform_id, [event])
        return assertion.pk, assertion

    pk, issued = retrying_transaction(work)
    if issued is not None:
        return issued, True
    return Assertion.objects.select_related(*RELATED).get(pk=pk), False


def stored_as_given(value: Any, vendor: str) -> bool:
    """Whether the JSON ``value`` (parsed from a request: JSON types only) reads back
    from a ``JSONField`` of ``vendor`` equal to itself, key order included.

    SQLite stores the text Python wrote. PostgreSQL's ``jsonb`` keeps an object's keys
    shorter first, then by their UTF-8 bytes, and a number as ``numeric``, which drops a
    float's exponent (``1e+16`` reads back as the integer ``10000000000000000``) and
    its sign at zero: a value holding any of these is read back instead.
    """
    if vendor == "sqlite":
        return True
    if vendor != "postgresql":
        return False
    if isinstance(value, dict):
        keys = [key.encode() for key in value]
        return keys == sorted(keys, key=lambda key: (len(key), key)) and all(
            stored_as_given(item, vendor) for item in value.values()
        )
    if isinstance(value, list):
        return all(stored_as_given(item, vendor) for item in value)
    if isinstance(value, float):
        return "e" not in repr(value) and math.copysign(1.0, value) > 0
    return True


def record_bulk_issued(credential: Credential, inserted: Mapping[int, str]) -> None:
    """``assertion.issued`` for each assertion a bulk issue inserted (recipient id ->
    entity id), in recipient order, in two queries whatever their number.

    The rows of one bulk issue differ only in their entity id and recipient (the
    statement wrote the same values in every other column), so the object is built
    once in Python from one of them, and the database writes every event: that object
    with each row's entity id, the URLs naming it, and its recipient, set over it
    (``ibl_core.api.representation.JsonMerge``), in one ``INSERT ... SELECT``.
    """
    if not inserted:
        return
    first = Assertion.objects.select_related(*RELATED).get(entity_id=next(iter(inserted.values())))
    entity_id = F("entity_id")
    # verifyUrl, imageUrl: they name the assertion.
    urls = {
        name: Replace(Value(url), Value(ENTITY_MARK), entity_id)  # type: ignore[arg-type]
        for name, url in open_badges_url_templates().items()
    }
    patch = JSONObject(
        entityId=entity_id,
        **urls,
        recipient=JSONObject(
            username=F("recipient__username"),
            email=Coalesce(F("recipient__email"), Value("")),
            name=full_name_sql("recipient__"),
            user_id=Cast("recipient_id", CharField()),
        ),
    )
    issued = Assertion.objects.filter(
        in_list("entity_id", list(inserted.values()), text=True), credential=credential
    ).order_by("recipient_id")
    record_selected_events(
        credential.platform_id,
        issued,
        type=Value("assertion.issued"),
        object_id=entity_id,
        data=JsonMerge(assertion_object(first), patch),
    )


def record_assertion_events(event_type: str, assertion_ids: Sequence[int]) -> None:
    """Record ``event_type`` for each assertion of ``assertion_ids``, their objects as
    the API answers them (one query whatever their number; events of one platform)."""
    if not assertion_ids:
        return
    assertions = Assertion.objects.select_related(*RELATED).filter(in_list("pk", assertion_ids))
    by_platform: dict[int, list[PendingEvent]] = {}
    for assertion in assertions.order_by("pk"):
        by_platform.setdefault(assertion.platform_id, []).append(
            PendingEvent(event_type, assertion.entity_id, assertion_object(assertion))
        )
    for platform_id, events in by_platform.items():
        record_events(platform_id, events)


@dataclass
class BulkOutcome:
    """The bulk answer: names as sent, in the order sent."""

    issued: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


def bulk_issue(
    *,
    credential: Credential,
    identities: Sequence[str | int],
    details: IssueDetails,
    issued_by_id: int | None,
    scope: QuerySet | None,
) -> BulkOutcome:
    """Issue ``credential`` to every member named in ``identities`` who does not hold it.

    A fixed number of queries whatever the count: the recipients, the department scope,
    the active assertions and the write are each one set-based statement, in one
    transaction. Reasons, in the order they are decided: ``user_not_in_department``
    (a department admin: outside their departments, unknown or non-member alike),
    ``user_not_found``, ``duplicate`` (the same user named again), ``already_issued``.
    """
    platform = credential.platform
    names = [identity_text(identity) for identity in identities]
    members = resolve_identities(platform, names)
    in_scope = users_in_scope(scope, members.values())
    reasons: dict[int, str] = {}  # position in the request -> reason
    candidates: dict[int, int] = {}  # user id -> position of its first mention
    for position, name in enumerate(names):
        user_id = members.get(name)
        code = classify(user_id, in_scope, is_member=user_id is not None)
        if code is None and user_id in candidates:
            code = DUPLICATE
        if code is not None:
            reasons[position] = code
        elif user_id is not None:  # always: classify lets members only through
            candidates[user_id] = position

    def work() -> set[int]:
        return issue_to_members(credential, set(candidates), details, issued_by_id)

    already = retrying_transaction(work) if candidates else set()
    for user_id in already:
        reasons[candidates[user_id]] = ALREADY_ISSUED
    outcome = BulkOutcome()
    for position, name in enumerate(names):
        if position in reasons:
            outcome.skipped.append(name)
            outcome.reasons.setdefault(name, reasons[position])
        else:
            outcome.issued.append(name)
    return outcome


def issue_to_members(
    credential: Credential,
    recipient_ids: set[int],
    details: IssueDetails,
    issued_by_id: int | None,
) -> set[int]:
    """Issue ``credential`` to members already checked (``recipient_ids``); the ids of
    those who already held it. The write of :func:`bulk_issue`, for callers that resolved
    and scoped the recipients themselves (credential assignments): run it in a
    transaction (:func:`~ibl_core.sql.retrying_transaction`).

    A fixed number of statements: the credential's lock, the active assertions, the
    superseding of expired ones, the insert and its events.
    """
    lock_credential(credential)
    now = timezone.now()
    current = active_assertions(credential, details.item).filter(
        in_list("recipient_id", recipient_ids)
    )
    holders, expired = set(), []
    for pk, recipient_id, expires in current.values_list("pk", "recipient_id", "expires"):
        if is_expired(expires, now):
            expired.append(pk)
        else:
            holders.add(recipient_id)
    if expired:
        Assertion.objects.filter(in_list("pk", expired)).update(superseded=True, modified=now)
    to_issue = sorted(recipient_ids - holders)
    inserted = insert_assertions(credential, to_issue, details, issued_by_id, now)
    record_bulk_issued(credential, inserted)
    return holders | (set(to_issue) - set(inserted))


def insert_assertions(
    credential: Credential,
    recipient_ids: Sequence[int],
    details: IssueDetails,
    issued_by_id: int | None,
    now: dt.datetime,
) -> dict[int, str]:
    """Insert one assertion per recipient in ONE statement; the recipients inserted,
    each with the entity id of its assertion.

    The rows travel as one parameter (a JSON array of ``[entityId, recipient id]``),
    so the statement is the same for 1 or 10,000 recipients. A recipient whose row the
    one-active constraint refuses (a concurrent issue won) is left out of the answer.
    Rows are inserted in recipient order, the order every bulk issue locks in.
    """
    if not recipient_ids:
        return {}
    connection = connections[Assertion.objects.db]
    vendor = connection.vendor
    meta = Assertion._meta
    constants: dict[str, Any] = {
        "platform": credential.platform_id,
        "credential": credential.pk,
        "item_kind": details.item.kind,
        "item_key": details.item.key,
        "item_name": details.item.name,
        "issued_on": now,
        "expires": details.expires or expiry_from_rule(credential, now),
        "narrative": details.narrative,
        "evidence": details.evidence,
        "metadata": details.metadata,
        "revoked": False,
        "revocation_reason": "",
        "revoked_at": None,
        "superseded": False,
        "acceptance": Assertion.Acceptance.UNACCEPTED,
        "issued_by": issued_by_id,
        "created": now,
        "modified": now,
    }
    columns, placeholders, params = [], [], []
    for name, value in constants.items():
        model_field: Any = meta.get_field(name)
        columns.append(quoted_column(connection, Assertion, name))
        internal = model_field.get_internal_type()
        if internal == "JSONField":
            value = encode_json(value)
        elif internal == "DateTimeField" and value is not None:
            value = connection.ops.adapt_datetimefield_value(value)
        placeholders.append(
            f"CAST(%s AS {model_field.db_type(connection)})" if vendor == "postgresql" else "%s"
        )
        params.append(value)
    entity_column = quoted_column(connection, Assertion, "entity_id")
    recipient_column = quoted_column(connection, Assertion, "recipient")
    payload = json.dumps([[generate_entity_id(), user_id] for user_id in recipient_ids])
    source = json_rows(vendor, ("text", "bigint"))
    sql = (
        f"{source} INSERT INTO {quoted_table(connection, Assertion)} "
        f"({entity_column}, {recipient_column}, {', '.join(columns)}) "
        f"SELECT s.c0, s.c1, {', '.join(placeholders)} FROM s WHERE true ORDER BY s.c1 "
        f"ON CONFLICT DO NOTHING RETURNING {recipient_column}, {entity_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload, *params])
        return {row[0]: row[1] for row in cursor.fetchall()}


# Revoking and answering -------------------------------------------------------------


def revoke_assertion(assertion: Assertion, reason: str) -> Assertion:
    """Revoke ``assertion`` with ``reason``. Revoking a revoked assertion changes
    nothing: it keeps its first reason and time."""
    if assertion.revoked:
        return assertion
    now = timezone.now()
    with transaction.atomic():
        updated = Assertion.objects.filter(pk=assertion.pk, revoked=False).update(
            revoked=True, revocation_reason=reason, revoked_at=now, modified=now
        )
        if updated:
            assertion.revoked, assertion.revocation_reason = True, reason
            assertion.revoked_at = assertion.modified = now
            record_revocations([(assertion.platform_id, assertion.entity_id)], reason, now)
            record_events(
                assertion.platform_id,
                [
                    PendingEvent(
                        "assertion.revoked", assertion.entity_id, assertion_object(assertion)
                    )
                ],
            )
    if not updated:  # revoked concurrently: answer as it is now
        assertion.refresh_from_db(fields=["revoked", "revocation_reason", "revoked_at", "modified"])
    return assertion


def update_assertion(assertion: Assertion, changes: Mapping[str, Any]) -> Assertion:
    """Apply a validated PUT body: revoke (``revoked``, ``revocation_reason``) and/or
    set ``acceptance``. Un-revoking is a 400; so is answering a revoked assertion.

    The assertion's row is taken first (``FOR NO KEY UPDATE``) and the change applied
    to it as it is then: an assertion deleted since the request read it (its
    credential's DELETE, once none of its assertions was active) is a 404, and a
    concurrent revoke or answer is seen, not overwritten.
    """
    with transaction.atomic():
        locked = (
            Assertion.objects.select_for_update(no_key=True, of=("self",))
            .select_related(*RELATED)
            .filter(pk=assertion.pk)
            .first()
        )
        if locked is None:
            raise exceptions.NotFound(ASSERTION_NOT_FOUND)
        assertion = locked
        if "revoked" in changes:
            if changes["revoked"]:
                assertion = revoke_assertion(assertion, changes["revocation_reason"])
            elif assertion.revoked:
                raise exceptions.ValidationError({"revoked": [ALREADY_REVOKED_MESSAGE]})
        if "acceptance" in changes:
            if assertion.revoked:
                raise exceptions.ValidationError({"acceptance": [REVOKED_ANSWER_MESSAGE]})
            if assertion.acceptance != changes["acceptance"]:
                assertion.acceptance = changes["acceptance"]
                assertion.modified = timezone.now()
                assertion.save(update_fields=["acceptance", "modified"])
                answer = ANSWER_EVENTS.get(str(assertion.acceptance))
                if answer:
                    data = assertion_object(assertion)
                    record_events(
                        assertion.platform_id,
                        [PendingEvent(answer, assertion.entity_id, data)],
                    )
    return assertion


#: The event of a recipient's answer (back to "Unaccepted" records none).
ANSWER_EVENTS: dict[str, str] = {
    Assertion.Acceptance.ACCEPTED.value: "assertion.accepted",
    Assertion.Acceptance.REJECTED.value: "assertion.rejected",
}


def revoke_many(assertions: QuerySet[Assertion], reason: str) -> int:
    """Revoke every assertion of ``assertions`` not yet revoked (the admin's action)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(assertions.filter(revoked=False).values_list("pk", flat=True))
        revoked = Assertion.objects.filter(in_list("pk", ids), revoked=False).update(
            revoked=True, revocation_reason=reason, revoked_at=now, modified=now
        )
        revoked_now = Assertion.objects.filter(in_list("pk", ids), revoked=True, revoked_at=now)
        record_revocations(revoked_now.values_list("platform_id", "entity_id"), reason, now)
        record_assertion_events("assertion.revoked", ids)
    return revoked


def record_revocations(revoked: Iterable[tuple[int, str]], reason: str, when: dt.datetime) -> None:
    """Keep, in the revoking transaction, the permanent record of each revocation
    (platform id, ``entityId``): it outlives the assertion (``docs/trust.md``). A second
    revocation of the same assertion keeps the first record."""
    Revocation.objects.bulk_create(
        [
            Revocation(
                platform_id=platform_id,
                entity_id=entity_id,
                revocation_reason=reason,
                revoked_at=when,
            )
            for platform_id, entity_id in revoked
        ],
        ignore_conflicts=True,
    )
