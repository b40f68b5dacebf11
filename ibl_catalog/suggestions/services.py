"""Writes: create-or-update one suggestion, many at once, or delete one.

Both the single and the bulk write end in :func:`write_suggestions`: one
``INSERT ... ON CONFLICT (platform, user, item) DO UPDATE`` per batch, which
updates only the fields the request sent. That keeps "fields absent are not
overwritten" identical for both, and makes concurrent writes of one suggestion
safe on SQLite and PostgreSQL (the database resolves the race, not Python).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions

from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.sql import in_list

from .base import WRITABLE_FIELDS, SuggestionKind
from .serializers import clean_row

#: Bulk per-row error codes (documented in README.md, "Bulk error codes").
INVALID_ROW = "invalid_row"
USER_NOT_FOUND = "user_not_found"
# <label>_not_found: program_not_found for programs (SuggestionKind.not_found_code)
USER_NOT_IN_DEPARTMENT = "user_not_in_department"
DUPLICATE_ROW = "duplicate_row"

USER_NOT_FOUND_MESSAGE = "No such user on this platform."


@dataclass(frozen=True)
class PendingWrite:
    """One suggestion to create or update, with only the fields the request sent."""

    user_id: int
    item_id: int
    fields: dict[str, Any]


@dataclass
class BulkResult:
    successes: int = 0
    error_codes: list[str] = field(default_factory=list)


def platform_members(platform: Platform, user_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (username, email)}`` of the given users who are active members, in one query."""
    users = get_user_model()._default_manager.filter(
        in_list("pk", set(user_ids)),
        platform_memberships__platform=platform,
        platform_memberships__active=True,
    )
    return {
        pk: (username, email)
        for pk, username, email in users.values_list("pk", "username", "email")
    }


def suggestable_items(
    kind: SuggestionKind, platform: Platform, keys: Iterable[str]
) -> dict[str, int]:
    """``{item key: item id}`` of the platform's suggestable items, in one query."""
    items = kind.item_model._default_manager.filter(
        in_list(kind.key_field, set(keys), text=True), platform=platform
    )
    if kind.enabled_field:
        items = items.filter(**{kind.enabled_field: True})
    return dict(items.values_list(kind.key_field, "pk"))


def users_in_scope(user_scope: QuerySet | None, user_ids: Iterable[int]) -> set[int] | None:
    """Which of ``user_ids`` the caller may manage; ``None`` when it may manage all."""
    if user_scope is None:
        return None
    return set(
        user_scope.filter(in_list("user_id", set(user_ids))).values_list("user_id", flat=True)
    )


def identity_matches(identity: tuple[str, str], row: dict[str, Any]) -> bool:
    """Whether ``username``/``email``, when given, are those of the user ``user_id`` names."""
    username, email = identity
    if "username" in row and row["username"] != username:
        return False
    return "email" not in row or row["email"].lower() == (email or "").lower()


def write_suggestions(
    kind: SuggestionKind,
    platform: Platform,
    writes: Sequence[PendingWrite],
    *,
    suggested_by_id: int | None,
) -> None:
    """Create or update ``writes`` set-based, in one transaction.

    Rows are grouped by the set of fields they carry, so each group's
    ``ON CONFLICT DO UPDATE`` touches exactly those fields (and ``modified``).
    """
    groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    # One order for every request, so concurrent overlapping bulks lock rows in the
    # same sequence and cannot deadlock each other.
    now = timezone.now()
    for write in sorted(writes, key=lambda w: (w.user_id, w.item_id)):
        obj = kind.model(
            created=now,
            modified=now,
            platform_id=platform.pk,
            user_id=write.user_id,
            suggested_by_id=write.fields.get("suggested_by_id", suggested_by_id),
            **{f"{kind.item_field}_id": write.item_id},
            **{k: v for k, v in write.fields.items() if k != "suggested_by_id"},
        )
        groups[tuple(sorted(write.fields))].append(obj)
    batch_size = ibl_settings.BULK_BATCH_SIZE
    with transaction.atomic():
        for present, objs in groups.items():
            if present:
                kind.model._default_manager.bulk_create(
                    objs,
                    batch_size=batch_size,
                    update_conflicts=True,
                    unique_fields=kind.unique_fields,
                    update_fields=[*present, "modified"],
                )
            else:  # nothing to change on existing suggestions
                kind.model._default_manager.bulk_create(
                    objs, batch_size=batch_size, ignore_conflicts=True
                )


def upsert_suggestion(
    kind: SuggestionKind,
    *,
    platform: Platform,
    data: dict[str, Any],
    actor_id: int | None,
    user_scope: QuerySet | None,
) -> QuerySet:
    """Create or update one suggestion from a validated body; return it as a queryset.

    Raises 400 for an unknown or non-member user (one message for both), a
    username/email of another user, an unknown item or suggester; 403 when the
    caller, a department admin, may not manage the user.
    """
    user_id = data["user_id"]
    identity = platform_members(platform, [user_id]).get(user_id)
    if identity is None:
        raise exceptions.ValidationError({"user_id": [USER_NOT_FOUND_MESSAGE]})
    for name in ("username", "email"):
        if name in data and not identity_matches(identity, {name: data[name]}):
            raise exceptions.ValidationError(
                {name: [f"Does not match the user of user_id {user_id}."]}
            )
    scope = users_in_scope(user_scope, [user_id])
    if scope is not None and user_id not in scope:
        raise exceptions.PermissionDenied("This user is not in a department you administer.")
    item_id = suggestable_items(kind, platform, [data[kind.key_name]]).get(data[kind.key_name])
    if item_id is None:
        raise exceptions.ValidationError(
            {kind.key_name: [f"No such {kind.label} on this platform."]}
        )
    fields = {name: data[name] for name in WRITABLE_FIELDS if name in data}
    if "suggested_by" in data:
        fields["suggested_by_id"] = suggester_id(platform, data["suggested_by"])
    write_suggestions(
        kind, platform, [PendingWrite(user_id, item_id, fields)], suggested_by_id=actor_id
    )
    return kind.model._default_manager.filter(
        platform=platform, user_id=user_id, **{f"{kind.item_field}_id": item_id}
    )


def suggester_id(platform: Platform, username: str) -> int:
    """The id of the platform member named ``username`` (``suggested_by``)."""
    user_model = get_user_model()
    suggester = (
        user_model._default_manager.filter(
            username=username,
            platform_memberships__platform=platform,
            platform_memberships__active=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if suggester is None:
        raise exceptions.ValidationError({"suggested_by": [USER_NOT_FOUND_MESSAGE]})
    return suggester


def bulk_upsert_suggestions(
    kind: SuggestionKind,
    *,
    platform: Platform,
    rows: Sequence[Any],
    row_fields: Mapping[str, Any],
    actor_id: int | None,
    user_scope: QuerySet | None,
) -> BulkResult:
    """Apply every valid row as :func:`upsert_suggestion` would; report the others.

    Users, memberships, department scope and items named anywhere in the request
    are each looked up in one query; the writes are batched ``INSERT ... ON
    CONFLICT`` statements in one transaction.
    """
    result = BulkResult()
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        values = clean_row(row_fields, row)
        if values is None:
            result.error_codes.append(f"{index}:{INVALID_ROW}")
        else:
            cleaned.append((index, values))

    user_ids = {values["user_id"] for _, values in cleaned}
    members = platform_members(platform, user_ids)
    items = suggestable_items(kind, platform, {values[kind.key_name] for _, values in cleaned})
    scope = users_in_scope(user_scope, members)

    writes: list[PendingWrite] = []
    seen: set[tuple[int, int]] = set()
    for index, values in cleaned:
        user_id = values["user_id"]
        identity = members.get(user_id)
        item_id = items.get(values[kind.key_name])
        if identity is None or not identity_matches(identity, values):
            code = USER_NOT_FOUND
        elif item_id is None:
            code = kind.not_found_code
        elif scope is not None and user_id not in scope:
            code = USER_NOT_IN_DEPARTMENT
        elif (user_id, item_id) in seen:
            code = DUPLICATE_ROW
        else:
            seen.add((user_id, item_id))
            fields = {name: values[name] for name in WRITABLE_FIELDS if name in values}
            writes.append(PendingWrite(user_id, item_id, fields))
            continue
        result.error_codes.append(f"{index}:{code}")

    write_suggestions(kind, platform, writes, suggested_by_id=actor_id)
    result.successes = len(writes)
    result.error_codes.sort(key=lambda entry: int(entry.split(":", 1)[0]))
    return result


def delete_suggestion(suggestions: QuerySet, suggestion_id: int) -> None:
    """Delete the suggestion ``suggestion_id`` among ``suggestions`` (404 when absent)."""
    deleted, _ = suggestions.filter(pk=suggestion_id).delete()
    if not deleted:
        raise exceptions.NotFound("Suggestion not found.")
