"""The recipient scope (``ibl_core.tenancy.scope``) that suggestions and assertions share, and
the full name it answers with, in SQL and in Python alike (both databases)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from rest_framework import exceptions

from ibl_core.models import DepartmentMember
from ibl_core.tenancy.scope import (
    NOT_IN_DEPARTMENT_MESSAGE,
    USER_NOT_FOUND,
    USER_NOT_FOUND_MESSAGE,
    USER_NOT_IN_DEPARTMENT,
    classify,
    full_name_sql,
    full_name_text,
    require_in_scope,
    user_full_name,
    users_in_scope,
)
from tests.support.factories import DepartmentMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

# (user id, users in scope, is a member, identity matches) -> code; 7 is the user named.
CLASSIFIED = [
    pytest.param(7, None, True, True, None, id="any-member-for-a-platform-admin"),
    pytest.param(None, None, False, True, USER_NOT_FOUND, id="unknown"),
    pytest.param(7, None, False, True, USER_NOT_FOUND, id="non-member"),
    pytest.param(7, None, True, False, USER_NOT_FOUND, id="identity-of-someone-else"),
    pytest.param(7, {7}, True, True, None, id="member-in-scope"),
    pytest.param(7, {8}, True, True, USER_NOT_IN_DEPARTMENT, id="member-out-of-scope"),
    pytest.param(None, {8}, False, True, USER_NOT_IN_DEPARTMENT, id="unknown-to-a-dept-admin"),
    pytest.param(7, {7}, False, True, USER_NOT_IN_DEPARTMENT, id="in-dept-but-non-member"),
    pytest.param(7, set(), True, True, USER_NOT_IN_DEPARTMENT, id="admin-of-no-department"),
    # Scope first: someone else's identity is out of scope before it is "not found".
    pytest.param(7, {8}, True, False, USER_NOT_IN_DEPARTMENT, id="scope-before-identity"),
    pytest.param(7, {7}, True, False, USER_NOT_FOUND, id="identity-once-in-scope"),
]


@pytest.mark.parametrize(("user_id", "in_scope", "is_member", "matches", "code"), CLASSIFIED)
def test_classify_decides_the_department_scope_first(user_id, in_scope, is_member, matches, code):
    assert classify(user_id, in_scope, is_member=is_member, identity_matches=matches) == code


# A single write checks the rest of the identity itself, once the scope let it through.
ONE_USER = [case for case in CLASSIFIED if case.values[3]]


@pytest.mark.parametrize(("user_id", "in_scope", "is_member", "matches", "code"), ONE_USER)
def test_one_user_gets_403_out_of_scope_and_400_not_found(
    user_id, in_scope, is_member, matches, code
):
    not_found = {"user_id": [USER_NOT_FOUND_MESSAGE]}
    if code == USER_NOT_IN_DEPARTMENT:
        with pytest.raises(exceptions.PermissionDenied) as denied:
            require_in_scope(user_id, in_scope, is_member=is_member, not_found=not_found)
        assert denied.value.detail == NOT_IN_DEPARTMENT_MESSAGE
    elif code == USER_NOT_FOUND:
        with pytest.raises(exceptions.ValidationError) as invalid:
            require_in_scope(user_id, in_scope, is_member=is_member, not_found=not_found)
        assert invalid.value.detail == {"user_id": [USER_NOT_FOUND_MESSAGE]}
    else:
        require_in_scope(user_id, in_scope, is_member=is_member, not_found=not_found)


def test_users_in_scope_keeps_the_managed_ids_in_one_query(django_assert_num_queries):
    managed = DepartmentMemberFactory()
    other = DepartmentMemberFactory()
    scope = DepartmentMember.objects.filter(department=managed.department).values("user_id")
    with django_assert_num_queries(1):
        found = users_in_scope(scope, [managed.user_id, other.user_id, 10**9])
    assert found == {managed.user_id}
    with django_assert_num_queries(0):
        assert users_in_scope(scope, []) == set()
        assert users_in_scope(None, [managed.user_id]) is None


NAMES = [
    ("Ada", "Lovelace", "Ada Lovelace"),
    ("Ada", "", "Ada"),
    ("", "Lovelace", "Lovelace"),
    ("", "", ""),
    ("  Ada ", " Lovelace  ", "Ada   Lovelace"),
    ("\tAda", "Lovelace\n", "\tAda Lovelace\n"),  # spaces only are trimmed, as SQL TRIM
    ("Zoë", "Ångström", "Zoë Ångström"),
]


def test_the_full_name_in_sql_is_the_full_name_in_python():
    users = [UserFactory(first_name=first, last_name=last) for first, last, _ in NAMES]
    in_sql = dict(
        get_user_model()
        ._default_manager.filter(Q(pk__in=[user.pk for user in users]))
        .annotate(name=full_name_sql())
        .values_list("pk", "name")
    )
    for user, (first, last, expected) in zip(users, NAMES, strict=True):
        assert (in_sql[user.pk], full_name_text(first, last), user_full_name(user)) == (
            expected,
            expected,
            expected,
        )


def test_a_missing_name_part_is_empty_in_python():
    assert full_name_text(None, "Lovelace") == "Lovelace"
    assert full_name_text("Ada", None) == "Ada"
