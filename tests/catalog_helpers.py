"""Helpers for the program-suggestion tests."""

from __future__ import annotations

from ibl_catalog.models import ProgramSuggestion
from tests.factories import ProgramFactory

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
