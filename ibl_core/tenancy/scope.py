"""The recipient scope of a write: whom a caller may name as the user of a suggestion
or the recipient of an assertion, with the codes and messages of each answer.

One rule for the catalog's suggestions and the credentials' assertions, single and
bulk alike. The order is the rule: for a department admin the department scope is
decided first, so a user they do not manage gets one answer (403, or
``user_not_in_department`` in a bulk) whether the user exists, is a member, or matches
the identity sent. Anyone else gets "not found" (400, or ``user_not_found``) for an
unknown user and a non-member alike.

Which users a department admin manages is ``managed_user_ids`` in
:mod:`ibl_core.tenancy.roles` (a subquery); :func:`users_in_scope` applies it to the users a
request names, in one query. The full name the answers show is here too, in SQL and in
Python side by side, so the lists (SQL) and a write's answer (Python) agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Concat, Trim
from rest_framework import exceptions

from ibl_core.sql import in_list

#: Bulk per-row codes (docs/suggestions.md "Bulk error codes", docs/credentials.md).
USER_NOT_FOUND = "user_not_found"
USER_NOT_IN_DEPARTMENT = "user_not_in_department"

USER_NOT_FOUND_MESSAGE = "No such user on this platform."
NOT_IN_DEPARTMENT_MESSAGE = "This user is not in a department you administer."


def users_in_scope(scope: QuerySet | None, user_ids: Iterable[int]) -> set[int] | None:
    """Which of ``user_ids`` the caller manages (one query, none for no ids); ``None``
    when the caller may name any member (``scope`` ``None``: not a department admin)."""
    if scope is None:
        return None
    ids = set(user_ids)
    if not ids:
        return set()
    return set(scope.filter(in_list("user_id", ids)).values_list("user_id", flat=True))


def classify(
    user_id: int | None,
    in_scope: set[int] | None,
    *,
    is_member: bool,
    identity_matches: bool = True,
) -> str | None:
    """The code a row naming ``user_id`` gets, ``None`` when it names a user it may.

    ``in_scope``: what :func:`users_in_scope` answered; ``is_member``: whether
    ``user_id`` is a member of the platform; ``identity_matches``: whether the rest of
    the identity sent (username, email) is that member's. Department scope first: out
    of scope, unknown and non-member are one code; an identity that names someone else
    is "not found" only once the scope has let the user through.
    """
    if in_scope is not None and (user_id is None or user_id not in in_scope or not is_member):
        return USER_NOT_IN_DEPARTMENT
    if user_id is None or not is_member or not identity_matches:
        return USER_NOT_FOUND
    return None


def require_in_scope(
    user_id: int | None,
    in_scope: set[int] | None,
    *,
    not_found: Any,
    is_member: bool = True,
) -> None:
    """For one user, as :func:`classify` decides: 403 (``NOT_IN_DEPARTMENT_MESSAGE``) or
    400 with the detail ``not_found`` (which names the field, with
    ``USER_NOT_FOUND_MESSAGE``).

    With ``is_member`` left true, only the department scope is checked: a caller can
    decide it before it looks the member up.
    """
    code = classify(user_id, in_scope, is_member=is_member)
    if code == USER_NOT_IN_DEPARTMENT:
        raise exceptions.PermissionDenied(NOT_IN_DEPARTMENT_MESSAGE)
    if code == USER_NOT_FOUND:
        raise exceptions.ValidationError(not_found)


# The full name, in SQL and in Python: ``first last``, spaces trimmed (SQL TRIM trims
# spaces only, so Python strips spaces only). -------------------------------------------


def full_name_sql(
    prefix: str = "", *, names: tuple[str, str] = ("first_name", "last_name")
) -> Trim:
    """A user's full name as the API answers it, as an SQL expression (``prefix``: the
    path to the user, ``"user__"``; ``names``: the two columns, as a search index names
    them)."""
    first, last = names
    return Trim(Concat(F(f"{prefix}{first}"), Value(" "), F(f"{prefix}{last}")))


def full_name_text(first_name: str | None, last_name: str | None) -> str:
    """The same full name as :func:`full_name_sql`, from the two names in Python."""
    return f"{first_name or ''} {last_name or ''}".strip(" ")


def user_full_name(user: Any) -> str:
    """:func:`full_name_text` of a user instance."""
    return full_name_text(user.first_name, user.last_name)
