"""Helpers for the program-suggestion tests."""

from __future__ import annotations

import itertools
import uuid

from ibl_catalog.models import ProgramSuggestion
from tests.support.factories import ProgramFactory

MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = MANAGE + "bulk/"
FIELDS = {
    "id", "user_id", "username", "name", "platform_key", "accepted", "visible", "created",
    "modified", "metadata", "program_key", "program_name",
}  # fmt: skip


def iso(dt) -> str:
    """A datetime as the API writes it: ISO 8601, UTC, Z suffix."""
    return dt.isoformat().replace("+00:00", "Z")


def expected(suggestion: ProgramSuggestion) -> dict:
    """The exact JSON object of a suggestion, built from the database."""
    suggestion.refresh_from_db()
    user = suggestion.user
    return {
        "id": suggestion.pk,
        "user_id": user.pk,
        "username": user.username,
        "name": f"{user.first_name} {user.last_name}".strip(),
        "platform_key": suggestion.platform.key,
        "accepted": suggestion.accepted,
        "visible": suggestion.visible,
        "created": iso(suggestion.created),
        "modified": iso(suggestion.modified),
        "metadata": suggestion.metadata,
        "program_key": suggestion.program.program_key,
        "program_name": suggestion.program.name,
    }


def suggest(world, user_name: str, program=None, platform=None, **fields) -> ProgramSuggestion:
    platform = platform or world.p1
    program = program or ProgramFactory(platform=platform)
    return ProgramSuggestion.objects.create(
        platform=platform, user=world.users[user_name], program=program, **fields
    )


_ITEM_NUMBERS = itertools.count(1)


def make_item(kind, platform, **fields):
    """A suggestable item of ``kind`` on ``platform`` (identifiers generated)."""
    number = next(_ITEM_NUMBERS)
    values = {kind.name_field: f"{kind.label.title()} {number}"}
    for identifier in kind.identifiers:
        if identifier.is_uuid:
            values[identifier.field] = uuid.uuid4()
        else:
            values[identifier.field] = f"{kind.label}-v1:org+item{number}+run"
    return kind.item_model._default_manager.create(platform=platform, **values | fields)


def item_json(kind, item) -> dict:
    """The item's fields of a suggestion object: identifiers, name, platform key."""
    fields = {i.name: str(getattr(item, i.field)) for i in kind.identifiers}
    fields[kind.item_name] = getattr(item, kind.name_field)
    if kind.platform_key_name:
        fields[kind.platform_key_name] = item.platform.key
    return fields


def suggestion_json(kind, suggestion) -> dict:
    """The exact JSON object of a suggestion of any kind, built from the database."""
    suggestion.refresh_from_db()
    user, item = suggestion.user, getattr(suggestion, kind.item_field)
    body = {
        "id": suggestion.pk,
        "user_id": user.pk,
        "username": user.username,
        "name": f"{user.first_name} {user.last_name}".strip(),
        "platform_key": suggestion.platform.key,
        "accepted": suggestion.accepted,
        "visible": suggestion.visible,
        "created": iso(suggestion.created),
        "modified": iso(suggestion.modified),
        "metadata": suggestion.metadata,
    }
    body.update(item_json(kind, item))
    return body


def manage_url(kind) -> str:
    return f"/api/catalog/suggestions/{kind.label}/manage/"


def group_url(kind) -> str:
    return f"/api/catalog/suggestions/{kind.label}/manage/group/"


def group_body(kind, group, item, **fields) -> dict:
    """A group suggestion POST body naming ``item`` by every identifier."""
    keys = {i.name: str(getattr(item, i.field)) for i in kind.identifiers}
    return {"platform_key": group.platform.key, "group_id": group.pk, **keys, **fields}


def group_suggestion_json(kind, suggestion, *, user_count: int) -> dict:
    """The exact JSON object of a group suggestion, built from the database."""
    suggestion.refresh_from_db()
    item = suggestion.item
    body = {
        "id": suggestion.pk,
        "group_id": suggestion.group_id,
        "group_name": suggestion.group.name,
        "platform_key": suggestion.platform.key,
        "accepted": suggestion.accepted,
        "visible": suggestion.visible,
        "created": iso(suggestion.created),
        "modified": iso(suggestion.modified),
        "metadata": suggestion.metadata,
    }
    body.update(item_json(kind, item))
    body["user_count"] = user_count
    return body
