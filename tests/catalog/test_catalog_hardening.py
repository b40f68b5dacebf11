"""Findings of the security review of program suggestions, each kept by a test.

Write-then-read, bounded JSON, department scope before anything else, deactivated
users, and a list ``count`` that is exact at every request.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from ibl_catalog.models import ProgramSuggestion, SuggestionCount
from ibl_catalog.suggestions import services, views
from ibl_catalog.suggestions.counts import COMPACT_AFTER
from tests.support.catalog_helpers import BULK, MANAGE, iso, suggest
from tests.support.factories import (
    DepartmentMemberFactory,
    MembershipFactory,
    PlatformFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOT_IN_DEPARTMENT = {"detail": "This user is not in a department you administer."}


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1, program_key="program-v1:org+ds+run", name="DS")


def post(world, role="platform_admin_p1", **body):
    return world.client(role).post(MANAGE, {"platform_key": "p1", **body}, format="json")


def bulk(world, rows, role="platform_admin_p1", **extra):
    body = {"platform_key": "p1", "suggestion_data": rows, **extra}
    return world.client(role).post(BULK, body, format="json")


# -- 2. the answer of a POST is the row as written, never read back ---------------------


def test_post_answers_the_written_row_even_when_a_delete_follows_at_once(world, program):
    """A DELETE committed right after the write cannot turn the answer into a 500."""
    real_write = services.write_suggestions

    def write_then_concurrent_delete(*args, **kwargs):
        written = real_write(*args, **kwargs)
        ProgramSuggestion.objects.all().delete()  # another request's DELETE
        return written

    learner = world.users["learner_p1"]
    with mock.patch.object(services, "write_suggestions", write_then_concurrent_delete):
        response = post(world, program_key=program.program_key, user_id=learner.pk,
                        accepted=True, metadata={"why": "race"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] is True and body["metadata"] == {"why": "race"}
    assert body["username"] == "learner_p1" and body["program_name"] == "DS"
    assert not ProgramSuggestion.objects.exists()


def test_post_on_an_existing_row_answers_the_fields_kept_and_changed(world, program):
    existing = suggest(world, "learner_p1", program, accepted=True, metadata={"a": 1})
    response = post(world, program_key=program.program_key,
                    user_id=world.users["learner_p1"].pk, visible=False)  # fmt: skip
    existing.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == {
        "id": existing.pk, "user_id": existing.user_id, "username": "learner_p1",
        "name": existing.user.get_full_name(),
        "platform_key": "p1", "accepted": True, "visible": False,
        "created": iso(existing.created), "modified": iso(existing.modified),
        "metadata": {"a": 1}, "program_key": program.program_key, "program_name": "DS",
    }  # fmt: skip
    assert existing.modified > existing.created


# -- 3. stored JSON is bounded --------------------------------------------------------------


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"blob": "x" * (64 * 1024)}, "At most 65536 bytes of JSON are accepted; got 65547."),
        (nested(11), "JSON nested at most 10 levels deep is accepted; got 11."),
    ],
)
def test_metadata_too_large_or_too_deep_is_400_and_writes_nothing(
    world, program, metadata, message
):
    response = post(world, program_key=program.program_key,
                    user_id=world.users["learner_p1"].pk, metadata=metadata)  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"metadata": [message]}
    assert not ProgramSuggestion.objects.exists()


def test_metadata_at_the_limits_is_accepted(world, program):
    blob = {"blob": "x" * (64 * 1024 - 11)}  # {"blob":"..."} is 11 bytes more
    for metadata in (blob, nested(10)):
        response = post(world, program_key=program.program_key,
                        user_id=world.users["learner_p1"].pk, metadata=metadata)  # fmt: skip
        assert response.status_code == 200
        assert ProgramSuggestion.objects.get().metadata == metadata


def test_a_json_string_is_stored_as_a_string(world, program):
    """A string is a JSON value like any other, not JSON text to decode."""
    from ibl_core.api.fields import BoundedJSONField

    assert BoundedJSONField().run_validation('{"a": 1}') == '{"a": 1}'
    assert BoundedJSONField().run_validation(["x", {"y": None}]) == ["x", {"y": None}]


def test_full_name_of_a_post_answer_is_the_name_of_the_list(world, program):
    learner = world.users["learner_p1"]
    learner.first_name, learner.last_name = "Ann\t", ""
    learner.save()
    response = post(world, program_key=program.program_key, user_id=learner.pk)
    listed_names = [r["name"] for r in listed(world).json()["results"]]
    assert [response.json()["name"]] == listed_names == ["Ann\t"]


def test_metadata_size_counts_encoded_utf8_bytes(world, program):
    with override_settings(IBL_DATA_MANAGER={"JSON_MAX_BYTES": 20}):
        response = post(world, program_key=program.program_key,
                        user_id=world.users["learner_p1"].pk, metadata={"e": "é" * 7})  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"metadata": ["At most 20 bytes of JSON are accepted; got 22."]}


def test_bulk_row_with_oversized_metadata_is_invalid_row(world, program):
    learner = world.users["learner_p1"].pk
    rows = [
        {"program_key": program.program_key, "user_id": learner, "metadata": {"x": "y" * 70000}},
        {"program_key": program.program_key, "user_id": learner, "metadata": {"ok": True}},
    ]
    response = bulk(world, rows)
    assert response.json() == {"successes": 1, "error_codes": ["0:invalid_row"]}
    assert ProgramSuggestion.objects.get().metadata == {"ok": True}


@pytest.mark.parametrize("sort", ["username", "-program_name", "modified"])
def test_list_sorts_ids_without_the_metadata_column(world, program, sort):
    for name in ("learner_p1", "learner_other_department", "department_admin"):
        suggest(world, name, program, metadata={"big": "x" * 1000})
    with CaptureQueriesContext(connection) as captured:
        response = world.client("platform_admin_p1").get(
            MANAGE, {"platform_key": "p1", "sort": sort, "page_size": 2}
        )
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    sorted_queries = [q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"]]
    assert sorted_queries and all("metadata" not in sql for sql in sorted_queries)
    assert all(r["metadata"] == {"big": "x" * 1000} for r in response.json()["results"])


@pytest.mark.parametrize(
    ("params", "one_query"),
    [
        ({}, True),
        ({"sort": "id"}, True),
        ({"page": 3}, True),
        ({"page": 4}, False),  # past ONE_QUERY_MAX_OFFSET (5 here): ids first
        ({"query": "e"}, False),
        ({"sort": "created"}, False),
    ],
)
def test_id_ordered_first_pages_read_in_one_query(world, monkeypatch, params, one_query):
    """In id order the database walks the (platform, id) index and sorts nothing, so
    the first pages are read with their joins in one query; other pages and orders
    read the page's ids first (above)."""
    monkeypatch.setattr(views, "ONE_QUERY_MAX_OFFSET", 5)
    for name in ("learner_p1", "learner_other_department", "department_admin"):
        for _ in range(3):
            suggest(world, name, metadata={"n": 1})
    with CaptureQueriesContext(connection) as captured:
        response = world.client("platform_admin_p1").get(
            MANAGE, {"platform_key": "p1", "page_size": 2, **params}
        )
    assert response.status_code == 200
    table = ProgramSuggestion._meta.db_table
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and "COUNT(" not in q["sql"].upper()
    ]
    assert len(reads) == (1 if one_query else 2)
    assert ("metadata" in reads[0]) is one_query


# -- 4. a department admin learns nothing about users outside their departments -----------


@pytest.mark.parametrize(
    "target",
    ["unknown", "other_platform", "other_department", "other_department_wrong_name",
     "in_department_but_no_member"],
)  # fmt: skip
def test_department_admin_gets_one_answer_for_every_user_they_do_not_manage(world, program, target):
    stranger = UserFactory(username="stranger")
    DepartmentMemberFactory(department=world.department, user=stranger)  # no membership
    user_id, extra = {
        "unknown": (10**9, {"username": "nobody"}),
        "other_platform": (world.users["learner_p2"].pk, {}),
        "other_department": (world.users["learner_other_department"].pk, {}),
        "other_department_wrong_name": (
            world.users["learner_other_department"].pk, {"username": "x", "email": "x@x.io"}
        ),
        "in_department_but_no_member": (stranger.pk, {}),
    }[target]  # fmt: skip
    response = post(world, "department_admin", department_mode=True,
                    program_key="no-such-program", user_id=user_id, **extra)  # fmt: skip
    assert (response.status_code, response.json()) == (403, NOT_IN_DEPARTMENT)
    rows = [{"program_key": "no-such-program", "user_id": user_id, **extra}]
    response = bulk(world, rows, "department_admin", department_mode=True)
    assert response.json() == {"successes": 0, "error_codes": ["0:user_not_in_department"]}
    assert not ProgramSuggestion.objects.exists()


def test_department_admin_sees_ordinary_errors_for_users_they_manage(world, program):
    learner = world.users["learner_p1"].pk
    response = post(world, "department_admin", department_mode=True,
                    program_key=program.program_key, user_id=learner, username="wrong")  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"username": [f"Does not match the user of user_id {learner}."]}
    rows = [
        {"program_key": "nope", "user_id": learner},
        {"program_key": program.program_key, "user_id": learner, "username": "wrong"},
        {"program_key": program.program_key, "user_id": learner},
    ]
    response = bulk(world, rows, "department_admin", department_mode=True)
    assert response.json() == {
        "successes": 1,
        "error_codes": ["0:program_not_found", "1:user_not_found"],
    }


# -- 5. deactivated users are no members --------------------------------------------------


def test_deactivated_user_is_not_a_target(world, program):
    learner = world.users["learner_p1"]
    learner.is_active = False
    learner.save()
    response = post(world, program_key=program.program_key, user_id=learner.pk)
    assert response.status_code == 400
    assert response.json() == {"user_id": ["No such user on this platform."]}
    response = bulk(world, [{"program_key": program.program_key, "user_id": learner.pk}])
    assert response.json() == {"successes": 0, "error_codes": ["0:user_not_found"]}
    response = bulk(world, [{"program_key": program.program_key, "user_id": learner.pk}],
                    "department_admin", department_mode=True)  # fmt: skip
    assert response.json() == {"successes": 0, "error_codes": ["0:user_not_in_department"]}
    assert not ProgramSuggestion.objects.exists()


def test_deactivated_user_cannot_be_suggested_by(world, program):
    admin = world.users["platform_admin_p1"]
    admin.is_active = False
    admin.save()
    response = post(world, "dm_admin", program_key=program.program_key,
                    user_id=world.users["learner_p1"].pk,
                    suggested_by="platform_admin_p1")  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"suggested_by": ["No such user on this platform."]}
    assert not ProgramSuggestion.objects.exists()


def test_deactivated_user_is_not_a_path_user_of_credentials(world):
    learner = world.users["learner_p1"]
    learner.is_active = False
    learner.save()
    unknown = 10**9
    answers = []
    for user_id in (learner.pk, unknown):  # deactivated and unknown: one answer
        url = f"/api/credentials/orgs/p1/users/{user_id}/issuers/"
        response = world.client("platform_admin_p1").get(url)
        message = f"User '{user_id}' not found on this platform."
        answers.append((response.status_code, response.json()["status"]["description"]))
        assert answers[-1] == (404, message)


# -- 6. count is exact at every request -------------------------------------------------------


def listed(world, **params):
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", **params})
    return response


def make(world, count: int, platform=None) -> list[ProgramSuggestion]:
    platform = platform or world.p1
    program = ProgramFactory(platform=platform)
    users = UserFactory.create_batch(count)
    for user in users:
        MembershipFactory(user=user, platform=platform)
    return [
        ProgramSuggestion.objects.create(platform=platform, user=user, program=program)
        for user in users
    ]


def test_count_shows_a_delete_at_once_and_pages_agree(world):
    made = make(world, 5)
    assert listed(world, page_size=2).json()["count"] == 5
    response = world.client("platform_admin_p1").delete(
        MANAGE, QUERY_STRING=f"platform_key=p1&suggestion_id={made[0].pk}"
    )
    assert response.status_code == 200
    first, last = listed(world, page_size=2), listed(world, page_size=2, page=2)
    assert first.json()["count"] == last.json()["count"] == 4
    assert last.json()["next"] is None and listed(world, page_size=2, page=3).status_code == 404


def test_count_follows_every_way_rows_go(world):
    made = make(world, 6)
    make(world, 3, platform=world.p2)
    made[0].user.delete()  # cascade from a user
    ProgramSuggestion.objects.filter(pk=made[1].pk).delete()  # the ORM, as the admin does
    with connection.cursor() as cursor:  # raw SQL
        cursor.execute(
            f"DELETE FROM {ProgramSuggestion._meta.db_table} WHERE id = %s", [made[2].pk]
        )
    ProgramSuggestion.objects.filter(pk=made[3].pk).update(platform=world.p2)  # moved
    assert listed(world, page_size=1).json()["count"] == 2
    response = world.client("platform_admin_p2").get(MANAGE, {"platform_key": "p2"})
    assert response.json()["count"] == 4
    made[4].program.delete()  # cascade from the program: both p1 rows left went with it
    assert listed(world).json()["count"] == 0


def test_unfiltered_count_is_read_not_counted(world):
    make(world, 30)
    with CaptureQueriesContext(connection) as captured:
        assert listed(world, page_size=5).json()["count"] == 30
    counting = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counting and all(SuggestionCount._meta.db_table in sql for sql in counting)


def test_filtered_and_department_counts_are_exact(world):
    program = ProgramFactory(platform=world.p1, name="Needle")
    suggest(world, "learner_p1", program)
    suggest(world, "learner_other_department", program)
    make(world, 4)
    assert listed(world, query="needle", page_size=1).json()["count"] == 2
    response = world.client("department_admin").get(
        MANAGE, {"platform_key": "p1", "department_mode": "true", "page_size": 1}
    )
    assert response.json()["count"] == 1


def test_counts_fold_into_one_row_and_stay_exact(world):
    for _ in range(COMPACT_AFTER + 2):
        make(world, 1)
    assert listed(world, page_size=1).json()["count"] == COMPACT_AFTER + 2
    assert listed(world, page_size=1).json()["count"] == COMPACT_AFTER + 2
    parts = SuggestionCount.objects.filter(platform=world.p1, kind="program").count()
    assert parts == 1  # one row per platform: SQLite in place, PostgreSQL once folded


def test_every_suggestion_table_has_its_count_triggers():
    """A migration that rebuilds a suggestion table (SQLite does for many changes)
    drops its triggers: this fails until the migration installs them again."""
    from ibl_catalog.declarations import SUGGESTION_KINDS

    for kind in SUGGESTION_KINDS:
        table = kind.model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                    "AND NOT tgisinternal",
                    [table],
                )
            names = {row[0] for row in cursor.fetchall()}
        whats = ("add", "remove", "move") + (("truncate",) if connection.vendor != "sqlite" else ())
        assert names == {f"{table}_count_{what}" for what in whats}


def test_platforms_counts_are_their_own(world):
    make(world, 2)
    other = PlatformFactory(key="p3")
    make(world, 7, platform=other)
    assert listed(world).json()["count"] == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_empties_the_count(world):
    make(world, 3)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        # CASCADE: the group suggestions' support rows reference the suggestions.
        cursor.execute(f"TRUNCATE {ProgramSuggestion._meta.db_table} CASCADE")
    assert listed(world).json()["count"] == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's conflict clauses")
def test_insert_or_replace_keeps_the_count(world):
    """The statement's OR REPLACE must not replace the count row of the trigger."""
    made = make(world, 3)
    table = ProgramSuggestion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT OR REPLACE INTO {table} (platform_id, user_id, program_id, accepted, "
            "visible, direct, metadata, created, modified) "
            "VALUES (%s, %s, %s, 0, 1, 1, '{}', '2026-01-01', '2026-01-01')",
            [world.p1.pk, world.users["learner_p1"].pk, made[0].program_id],
        )
    assert listed(world).json()["count"] == 4


def test_recount_repairs_counts_of_rows_that_came_without_triggers(world):
    from io import StringIO

    from django.core.management import call_command

    make(world, 4)
    make(world, 2, platform=world.p2)
    SuggestionCount.objects.all().delete()  # as after loaddata of a dump without them
    SuggestionCount.objects.create(platform=world.p1, kind="program", delta=99)
    out = StringIO()
    call_command("ibl_recount", stdout=out)
    assert out.getvalue() == (
        "course suggestions: 0 on 0 platform(s).\n"
        "pathway suggestions: 0 on 0 platform(s).\n"
        "program suggestions: 6 on 2 platform(s).\n"
    )
    assert listed(world).json()["count"] == 4
    response = world.client("platform_admin_p2").get(MANAGE, {"platform_key": "p2"})
    assert response.json()["count"] == 2


def test_an_old_sqlite_is_reported_at_start_up():
    from ibl_core.ops.checks import check_sqlite_version

    if connection.vendor != "sqlite":
        assert check_sqlite_version() == []
        return
    with mock.patch.object(connection.Database, "sqlite_version_info", (3, 31, 1)):
        [error] = check_sqlite_version()
    assert error.id == "ibl_core.E002"
    assert "SQLite 3.31.1 is too old" in error.msg
