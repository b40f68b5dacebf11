"""Shared behaviour of the ``ibl_*`` management commands."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ibl_core.models import Platform


class IblCommand(BaseCommand):
    """A command whose bad arguments give one line on stderr and exit status 2."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if parser.called_from_command_line:

            def one_line_error(message: str) -> NoReturn:
                sys.stderr.write(f"{parser.prog}: error: {message}\n")
                sys.exit(2)

            parser.error = one_line_error  # type: ignore[method-assign]
        return parser


def check_length(value: str, limit: int, what: str) -> None:
    """One-line error for text longer than its column (PostgreSQL would raise)."""
    if len(value) > limit:
        raise CommandError(f"{what} must be at most {limit} characters.")


def get_platform(key: str) -> Platform:
    try:
        return Platform.objects.get(key=key)
    except Platform.DoesNotExist:
        raise CommandError(
            f"Platform {key!r} does not exist (create it with ibl_platform)."
        ) from None


def get_user(username: str) -> Any:
    user_model = get_user_model()
    try:
        return user_model._default_manager.get(username=username)
    except user_model.DoesNotExist:
        raise CommandError(f"User {username!r} does not exist (create it with ibl_user).") from None
