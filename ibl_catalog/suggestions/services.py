"""Writes: create-or-update one suggestion, many at once, or delete one.

Both the single and the bulk write check their rows with the same rules, in the same
order, and end in :func:`~.writer.write_suggestions`, which changes only the fields a
request sent and returns the rows as written. The order of the checks matters: for a
department admin the department scope is decided first, so a user they do not manage
gets one answer whether the user exists, is a member, or matches the username sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import Field, Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions

from ibl_catalog.suggestions import selectors
from ibl_catalog.suggestions.base import WRITABLE_FIELDS, Identifier, Item, Member, SuggestionKind
from ibl_catalog.suggestions.events import (
    answer_type,
    suggestion_events,
    written_events,
    written_type,
)
from ibl_catalog.suggestions.rules import RowRules, clean_row
from ibl_catalog.suggestions.serializers import build_serializers, represent_rows
from ibl_catalog.suggestions.writer import KEYS, PendingWrite, write_suggestions
from ibl_core.events.outbox import PendingEvent, record_events
from ibl_core.models import Platform
from ibl_core.sql import in_list
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.scope import (
    USER_NOT_FOUND_MESSAGE,
    classify,
    full_name_text,
    require_in_scope,
    users_in_scope,
)

__all__ = ["PendingWrite", "write_suggestions"]

#: Bulk per-row error codes (documented in docs/suggestions.md, "Bulk error codes"),
#: besides ibl_core.tenancy.scope's user_not_found and user_not_in_department, and
#: <label>_not_found: program_not_found for programs (SuggestionKind.not_found_code).
INVALID_ROW = "invalid_row"
DUPLICATE_ROW = "duplicate_row"


@dataclass
class BulkResult:
    successes: int = 0
    error_codes: list[str] = field(default_factory=list)


def members_by_id(platform: Platform, user_ids: Iterable[int]) -> dict[int, Member]:
    """The given users who are members of ``platform`` (active users), in one query."""
    users = platform_members(platform).filter(in_list("pk", set(user_ids)))
    return {
        pk: Member(username, email or "", full_name_text(first, last))
        for pk, username, email, first, last in users.values_list(
            "pk", "username", "email", "first_name", "last_name"
        )
    }


class ItemIndex:
    """The suggestable items a request names, found by each of the kind's identifiers."""

    def __init__(self, kind: SuggestionKind, items: Iterable[Item]) -> None:
        self.kind = kind
        self.by_identifier: dict[str, dict[str, Item]] = {
            name: {} for name in kind.identifier_names
        }
        for item in items:
            for name, value in item.keys.items():
                self.by_identifier[name][value] = item
        # A kind with one identifier (required in every row) needs no loop per row.
        self.only = self.by_identifier[kind.key_name] if len(kind.identifiers) == 1 else None

    def find(self, values: Mapping[str, Any]) -> tuple[Item | None, str | None]:
        """The item that ``values`` name, or ``None`` and the name of the identifier
        that fails: unknown, or naming another item than the identifier before it."""
        if self.only is not None:  # one identifier: one lookup
            item = self.only.get(values[self.kind.key_name])
            return item, None if item is not None else self.kind.key_name
        found: Item | None = None
        for name in self.kind.identifier_names:
            if name not in values:
                continue
            item = self.by_identifier[name].get(values[name])
            if item is None or (found is not None and item.id != found.id):
                return None, name
            found = item
        return found, None


def suggestable_items(
    kind: SuggestionKind, platform: Platform, rows: Iterable[Mapping[str, Any]]
) -> ItemIndex:
    """The platform's suggestable items named by ``rows`` (by any identifier), in one query."""
    wanted: dict[str, set[str]] = {name: set() for name in kind.identifier_names}
    for row in rows:
        for name, values in wanted.items():
            if name in row:
                values.add(row[name])
    condition = Q()
    for identifier in kind.identifiers:
        if wanted[identifier.name]:
            condition |= in_list(
                identifier.field,
                {prepared(kind, identifier, value) for value in wanted[identifier.name]},
                db_type="uuid" if identifier.is_uuid else "text",
            )
    if not condition:
        return ItemIndex(kind, [])
    items = kind.item_model._default_manager.filter(condition, platform=platform)
    if kind.enabled_field:
        items = items.filter(**{kind.enabled_field: True})
    fields = [identifier.field for identifier in kind.identifiers]
    return ItemIndex(
        kind,
        (
            Item(
                pk,
                name,
                {i.name: str(value) for i, value in zip(kind.identifiers, keys, strict=True)},
            )
            for pk, name, *keys in items.values_list("pk", kind.name_field, *fields)
        ),
    )


def prepared(kind: SuggestionKind, identifier: Identifier, value: str) -> Any:
    """``value`` as the database compares it (a UUID is 32 hex digits on SQLite)."""
    if not identifier.is_uuid:
        return value
    field = cast(Field, kind.item_model._meta.get_field(identifier.field))
    connection = connections[kind.item_model._default_manager.db]
    return field.get_db_prep_value(uuid.UUID(value), connection)


def identity_matches(identity: Member, row: Mapping[str, Any]) -> bool:
    """Whether ``username``/``email``, when given, are those of the user ``user_id`` names."""
    if "username" in row and row["username"] != identity.username:
        return False
    return "email" not in row or row["email"].lower() == identity.email.lower()


def item_named(kind: SuggestionKind, platform: Platform, data: Mapping[str, Any]) -> Item:
    """The suggestable item a single write names (one query); 400 naming the identifier
    that names no item, or another item than the identifier before it."""
    item, failing = suggestable_items(kind, platform, [data]).find(data)
    if item is None:
        assert failing is not None
        first = next(name for name in kind.identifier_names if name in data)
        message = (
            f"No such {kind.label} on this platform."
            if failing == first
            else f"Names another {kind.label} than {first}."
        )
        raise exceptions.ValidationError({failing: [message]})
    return item


def direct_write_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a direct write sets: those sent, and ``direct`` always (the body's
    value, else true), so a suggestion a group gave becomes the learner's own once an
    admin writes it directly and outlives the group suggestion."""
    fields = {name: data[name] for name in WRITABLE_FIELDS if name in data}
    fields.setdefault("direct", True)
    return fields


def upsert_suggestion(
    kind: SuggestionKind,
    *,
    platform: Platform,
    data: dict[str, Any],
    actor_id: int | None,
    user_scope: QuerySet | None,
) -> dict[str, Any]:
    """Create or update one suggestion from a validated body; the suggestion object as
    the API answers it (the output serializer's representation, which is also its
    event's data: built once, from the row the write returned).

    Checks, in this order: the department scope of a department admin (403 for any
    user they do not manage, known or not), membership (one 400 for an unknown user
    and a non-member), ``username``/``email`` (400), the item (400), ``suggested_by``
    (400).
    """
    user_id = data["user_id"]
    not_found = {"user_id": [USER_NOT_FOUND_MESSAGE]}
    scope = users_in_scope(user_scope, [user_id])
    require_in_scope(user_id, scope, not_found=not_found)  # before the member is read
    member = members_by_id(platform, [user_id]).get(user_id)
    # A department member who is no (longer a) platform member: 403 as out of scope.
    require_in_scope(user_id, scope, not_found=not_found, is_member=member is not None)
    assert member is not None
    for name in ("username", "email"):
        if name in data and not identity_matches(member, {name: data[name]}):
            mismatch: dict[str, list[str]] = {
                name: [f"Does not match the user of user_id {user_id}."]
            }
            raise exceptions.ValidationError(mismatch)
    item = item_named(kind, platform, data)
    fields = direct_write_fields(data)
    if "suggested_by" in data:
        fields["suggested_by_id"] = suggester_id(platform, data["suggested_by"])
    written: list[dict[str, Any]] = []

    def record(rows: list[dict[str, Any]], inserted_at: Any) -> None:
        (row,) = rows
        shaped = represent_rows(
            build_serializers(kind).output,
            [selectors.written_row(kind, platform, row, member, item)],
        )
        written[:] = shaped
        # The event's data is the answer: shaped once (suggestion_events, for one).
        event = PendingEvent(written_type(row, inserted_at), shaped[0]["id"], shaped[0])
        record_events(platform, [event])

    write_suggestions(
        kind,
        platform,
        [PendingWrite(user_id, item.id, fields)],
        suggested_by_id=actor_id,
        then=record,
    )
    return written[0]


def suggester_id(platform: Platform, username: str) -> int:
    """The id of the platform member named ``username`` (``suggested_by``)."""
    suggester = platform_members(platform).filter(username=username).values_list("pk", flat=True)
    found = suggester.first()
    if found is None:
        raise exceptions.ValidationError({"suggested_by": [USER_NOT_FOUND_MESSAGE]})
    return found


def bulk_upsert_suggestions(
    kind: SuggestionKind,
    *,
    platform: Platform,
    rows: Sequence[Any],
    rules: RowRules,
    actor_id: int | None,
    user_scope: QuerySet | None,
) -> BulkResult:
    """Apply every valid row as :func:`upsert_suggestion` would; report the others.

    Users, memberships, department scope and items named anywhere in the request
    are each looked up in one query; the writes are a few set-based statements per
    batch, in one transaction (``writer.py``).
    """
    result = BulkResult()
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        values = clean_row(rules, row)
        if values is None:
            result.error_codes.append(f"{index}:{INVALID_ROW}")
        else:
            cleaned.append((index, values))

    user_ids = {values["user_id"] for _, values in cleaned}
    scope = users_in_scope(user_scope, user_ids)
    members = members_by_id(platform, user_ids)
    items = suggestable_items(kind, platform, (values for _, values in cleaned))

    writes: list[PendingWrite] = []
    seen: set[tuple[int, int]] = set()
    find, member_of = items.find, members.get
    for index, values in cleaned:
        user_id = values["user_id"]
        member = member_of(user_id)
        item, _ = find(values)
        if (
            scope is None
            and member is not None
            and "username" not in values
            and "email" not in values
        ):
            code = None  # what classify answers here (no scope, a member, nothing to match)
        else:
            # Department scope first: out of scope, unknown and non-member are one code.
            code = classify(
                user_id,
                scope,
                is_member=member is not None,
                identity_matches=member is not None and identity_matches(member, values),
            )
        if code is None:
            if item is None:
                code = kind.not_found_code
            elif (user_id, item.id) in seen:
                code = DUPLICATE_ROW
            else:
                seen.add((user_id, item.id))
                writes.append(PendingWrite(user_id, item.id, direct_write_fields(values)))
                continue
        result.error_codes.append(f"{index}:{code}")

    def record(rows: list[dict[str, Any]], inserted_at: Any) -> None:
        # One event per row written, built and written by the database in one
        # statement: no row is read back into Python (events.written_events).
        written_events(kind, platform, [row["id"] for row in rows], inserted_at)

    # What only the checks needed goes before the write.
    del cleaned, seen, scope, members
    write_suggestions(kind, platform, writes, suggested_by_id=actor_id, then=record, columns=KEYS)
    result.successes = len(writes)
    result.error_codes.sort(key=lambda entry: int(entry.split(":", 1)[0]))
    return result


def delete_suggestion(kind: SuggestionKind, suggestions: QuerySet, suggestion_id: int) -> None:
    """Delete the suggestion ``suggestion_id`` among ``suggestions`` (404 when absent);
    its ``suggestion.deleted`` event holds the object as it was."""
    with transaction.atomic(using=suggestions.db):
        platform_id = suggestions.filter(pk=suggestion_id).values_list("platform_id", flat=True)
        found = platform_id.first()
        rows = selectors.rows_in_order(kind, [suggestion_id], None) if found else []
        deleted, _ = suggestions.filter(pk=suggestion_id).delete() if rows else (0, None)
        if not deleted or found is None:
            raise exceptions.NotFound("Suggestion not found.")
        suggestion_events(kind, found, [("suggestion.deleted", rows[0])])


def answer_suggestion(
    kind: SuggestionKind, answerable: QuerySet, suggestion_id: int, answer: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A learner's answer (``accepted``/``visible``) to one of the suggestions
    ``answerable`` holds, with its event, in one transaction: the suggestion's row as
    the list reads it, or ``[]`` when there is no such suggestion to answer."""
    with transaction.atomic(using=kind.model._default_manager.db):
        # The UPDATE holds the row until commit: the row read below is the one written.
        updated = answerable.filter(pk=suggestion_id).update(**answer, modified=timezone.now())
        rows = selectors.rows_in_order(kind, [suggestion_id], None) if updated else []
        if rows:
            platform_ids = kind.model._default_manager.filter(pk=suggestion_id)
            platform_id = platform_ids.values_list("platform_id", flat=True)[0]
            suggestion_events(kind, platform_id, [(answer_type(answer), rows[0])])
    return rows
