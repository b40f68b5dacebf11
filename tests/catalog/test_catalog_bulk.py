"""POST /api/catalog/suggestions/program/manage/bulk/ (catalog.md)."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
from ibl_catalog.models import ProgramSuggestion
from ibl_catalog.suggestions import services
from ibl_catalog.suggestions.writer import _Statements
from ibl_core.conf import ibl_settings
from tests.support.catalog_helpers import BULK, MANAGE
from tests.support.factories import MembershipFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1, program_key="program-v1:org+ds+run", name="DS")


def bulk(world, rows, role="platform_admin_p1", **extra):
    body = {"platform_key": "p1", "suggestion_data": rows, **extra}
    return world.client(role).post(BULK, body, format="json")


def row(world, program, user="learner_p1", **extra):
    return {"program_key": program.program_key, "user_id": world.users[user].pk, **extra}


def state():
    return sorted(
        ProgramSuggestion.objects.values_list(
            "platform_id", "user_id", "program_id", "accepted", "visible", "direct", "metadata"
        )
    )


def test_valid_rows_are_created(world, program):
    rows = [row(world, program), row(world, program, "department_admin", accepted=True,
                                    metadata={"k": "v"})]  # fmt: skip
    response = bulk(world, rows)
    assert response.status_code == 200
    assert response.json() == {"successes": 2, "error_codes": []}
    created = ProgramSuggestion.objects.get(user=world.users["department_admin"])
    assert (created.accepted, created.visible, created.metadata) == (True, True, {"k": "v"})
    assert created.suggested_by == world.users["platform_admin_p1"]


def test_each_error_code(world, program):
    disabled = ProgramFactory(platform=world.p1, enabled=False)
    outsider = UserFactory()
    rows = [
        row(world, program),                                   # 0 ok
        "not an object",                                        # 1
        {"program_key": program.program_key},                   # 2 no user_id
        {"user_id": world.users["learner_p1"].pk},              # 3 no program_key
        row(world, program, accepted="perhaps"),                # 4 ill-typed
        row(world, program) | {"user_id": 999_999},             # 5 unknown user
        row(world, program) | {"user_id": outsider.pk},         # 6 not a member
        row(world, program, "learner_p2"),                      # 7 member of another platform
        row(world, program) | {"program_key": "nope"},          # 8
        row(world, disabled),                                   # 9 disabled program
        row(world, program),                                    # 10 duplicate of 0
        row(world, program, username="someone-else"),           # 11 identity mismatch
        row(world, program, "department_admin", metadata=[1]),  # 12 metadata not an object
        None,                                                   # 13
        row(world, program) | {"user_id": True},                # 14
    ]  # fmt: skip
    response = bulk(world, rows)
    assert response.status_code == 200
    assert response.json() == {
        "successes": 1,
        "error_codes": [
            "1:invalid_row", "2:invalid_row", "3:invalid_row", "4:invalid_row",
            "5:user_not_found", "6:user_not_found", "7:user_not_found",
            "8:program_not_found", "9:program_not_found", "10:duplicate_row",
            "11:user_not_found", "12:invalid_row", "13:invalid_row", "14:invalid_row",
        ],
    }  # fmt: skip
    assert ProgramSuggestion.objects.count() == 1


def test_earlier_duplicate_wins(world, program):
    rows = [row(world, program, accepted=True), row(world, program, accepted=False)]
    assert bulk(world, rows).json() == {"successes": 1, "error_codes": ["1:duplicate_row"]}
    assert ProgramSuggestion.objects.get().accepted is True


def test_user_id_as_string_and_int_are_the_same_user(world, program):
    uid = world.users["learner_p1"].pk
    rows = [row(world, program), row(world, program) | {"user_id": str(uid)}]
    assert bulk(world, rows).json() == {"successes": 1, "error_codes": ["1:duplicate_row"]}


def test_department_mode_code(world, program):
    rows = [row(world, program), row(world, program, "learner_other_department")]
    response = bulk(world, rows, role="department_admin", department_mode=True)
    assert response.json() == {"successes": 1, "error_codes": ["1:user_not_in_department"]}
    assert list(ProgramSuggestion.objects.values_list("user__username", flat=True)) == [
        "learner_p1"
    ]


def test_resending_leaves_the_same_state_and_counts(world, program):
    other = ProgramFactory(platform=world.p1)
    rows = [row(world, program, visible=False), row(world, other, "department_admin"),
            row(world, program) | {"user_id": 999_999}]  # fmt: skip
    first = bulk(world, rows).json()
    after_first = state()
    second = bulk(world, rows).json()
    assert first == second == {"successes": 2, "error_codes": ["2:user_not_found"]}
    assert state() == after_first


def test_rows_update_only_the_fields_they_carry(world, program):
    bulk(world, [row(world, program, accepted=True, visible=False, direct=False,
                     metadata={"a": 1})])  # fmt: skip
    response = bulk(world, [row(world, program, metadata={"b": 2})])
    assert response.json() == {"successes": 1, "error_codes": []}
    suggestion = ProgramSuggestion.objects.get()
    # direct is the exception: a direct write without it makes the suggestion direct
    assert (suggestion.accepted, suggestion.visible, suggestion.direct) == (True, False, True)
    assert suggestion.metadata == {"b": 2}


def test_rows_with_different_fields_in_one_request(world, program):
    other = ProgramFactory(platform=world.p1)
    bulk(world, [row(world, program, accepted=True), row(world, other, visible=False)])
    bulk(world, [row(world, program, visible=False), row(world, other, accepted=True)])
    got = {s.program_id: (s.accepted, s.visible) for s in ProgramSuggestion.objects.all()}
    assert got == {program.pk: (True, False), other.pk: (True, False)}


def test_single_and_bulk_updates_agree(world, program):
    client = world.client("platform_admin_p1")
    body = {"platform_key": "p1", **row(world, program, accepted=True, metadata={"x": 1})}
    client.post(MANAGE, body, format="json")
    single = state()
    ProgramSuggestion.objects.all().delete()
    bulk(world, [row(world, program, accepted=True, metadata={"x": 1})])
    assert state() == single


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform_key": "p1"}, "suggestion_data"),
        ({"platform_key": "p1", "suggestion_data": []}, "suggestion_data"),
        ({"platform_key": "p1", "suggestion_data": "rows"}, "suggestion_data"),
        ({"platform_key": "p1", "suggestion_data": {"a": 1}}, "suggestion_data"),
        (
            {"platform_key": "p1", "suggestion_data": [{}], "department_mode": "x"},
            "department_mode",
        ),
    ],
)
def test_bad_bodies_are_400(world, body, field):
    response = world.client("platform_admin_p1").post(BULK, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_more_rows_than_the_limit_is_400_and_writes_nothing(world, program):
    with override_settings(IBL_DATA_MANAGER={"BULK_MAX_ROWS": 3}):
        response = bulk(world, [row(world, program)] * 4)
    assert response.status_code == 400
    assert response.json() == {
        "suggestion_data": ["At most 3 rows per request; got 4. Split the request."]
    }
    assert not ProgramSuggestion.objects.exists()


def test_oversized_body_is_413(world, program):
    with override_settings(IBL_DATA_MANAGER={"BULK_MAX_BODY_BYTES": 1000}):
        response = bulk(world, [row(world, program, metadata={"pad": "x" * 2000})])
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: at most 1000 bytes are accepted."}
    assert not ProgramSuggestion.objects.exists()


def test_bulk_limit_is_its_own_not_djangos(world, program, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    rows = [row(world, program, metadata={"pad": "x" * 3000})]
    response = bulk(world, rows)
    assert response.status_code == 200, response.content
    assert response.json() == {"successes": 1, "error_codes": []}
    # The single POST keeps Django's limit, answered as a JSON 413.
    body = {"platform_key": "p1", **rows[0]}
    single = world.client("platform_admin_p1").post(MANAGE, body, format="json")
    assert single.status_code == 413
    assert single.json() == {"detail": "Request body too large: at most 2000 bytes are accepted."}


@pytest.mark.slow
def test_ten_thousand_rows_in_one_body_are_accepted(world):
    programs = [ProgramFactory(platform=world.p1) for _ in range(2)]
    users = UserFactory.create_batch(5000)
    MembershipFactory._meta.model.objects.bulk_create(
        MembershipFactory.build(user=u, platform=world.p1) for u in users
    )
    rows = [{"program_key": p.program_key, "user_id": u.pk, "metadata": {"i": n, "note": "x" * 200}}
            for n, (u, p) in enumerate((u, p) for u in users for p in programs)]  # fmt: skip
    payload = json.dumps({"platform_key": "p1", "suggestion_data": rows})
    assert len(payload) > 2_621_440  # above Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    response = world.client("platform_admin_p1").post(
        BULK, payload, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"successes": 10_000, "error_codes": []}
    assert ProgramSuggestion.objects.count() == 10_000


@override_settings(IBL_DATA_MANAGER={"BULK_BATCH_SIZE": 1})
def test_database_error_mid_bulk_writes_nothing(world, program):
    """The second batch fails: the first batch, already written, is rolled back too."""
    other = ProgramFactory(platform=world.p1)
    rows = [row(world, program, accepted=True), row(world, other, visible=False)]
    real_insert = _Statements.insert_new
    calls = []

    def failing_second_batch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("disk full")
        return real_insert(self, *args, **kwargs)

    learner = world.users["learner_p1"].pk
    writes = [
        services.PendingWrite(learner, program.pk, {"accepted": True}),
        services.PendingWrite(learner, other.pk, {"visible": False}),
    ]
    with (
        mock.patch.object(_Statements, "insert_new", failing_second_batch),
        pytest.raises(DatabaseError),
    ):
        services.write_suggestions(PROGRAM_SUGGESTIONS, world.p1, writes, suggested_by_id=None)
    assert len(calls) == 2
    assert not ProgramSuggestion.objects.exists()
    assert bulk(world, rows).json()["successes"] == 2  # and the request itself works


def make_rows(world, count):
    program = ProgramFactory(platform=world.p1)
    users = UserFactory.create_batch(count)
    MembershipFactory._meta.model.objects.bulk_create(
        MembershipFactory.build(user=u, platform=world.p1) for u in users
    )
    return [{"program_key": program.program_key, "user_id": u.pk} for u in users]


@pytest.mark.slow
def test_lookups_cost_the_same_for_100_and_5000_rows(world, django_assert_max_num_queries):
    """Every query but the batched INSERTs is the same whatever the row count."""
    client = world.client("platform_admin_p1")
    counts = {}
    for size in (100, 5000):
        rows = make_rows(world, size)
        client.post(BULK, {"platform_key": "p1", "suggestion_data": rows[:1]}, format="json")
        # Rows travel as one parameter per column: a batch is BULK_BATCH_SIZE rows.
        batches = -(-size // ibl_settings.BULK_BATCH_SIZE)
        with django_assert_max_num_queries(11 + batches) as captured:
            response = client.post(BULK, {"platform_key": "p1", "suggestion_data": rows},
                                   format="json")  # fmt: skip
        assert response.json()["successes"] == size
        inserts = [q for q in captured.captured_queries if "INSERT INTO" in q["sql"]]
        others = [q for q in captured.captured_queries if "INSERT INTO" not in q["sql"]]
        # The rows' events: one statement built by the database, whatever the size
        # (suggestions.events.written_events).
        events = [q for q in inserts if "ibl_core_event" in q["sql"]]
        assert len(events) == 1
        assert len(inserts) == batches + 1
        counts[size] = len(others)
    assert counts[100] == counts[5000]


def test_updates_look_rows_up_by_the_unique_index(world):
    """Without statistics, SQLite's planner looped over the table and scanned the
    request's rows for each one: 10,000 updates took minutes. Each statement must
    look rows up by (platform, user, item)."""
    program = ProgramFactory(platform=world.p1)
    rows = make_rows(world, 50)
    for row_ in rows:
        row_["program_key"] = program.program_key
    assert bulk(world, rows).json()["successes"] == 50
    for row_ in rows:
        row_["accepted"] = True
    with CaptureQueriesContext(connection) as captured:
        assert bulk(world, rows).json() == {"successes": 50, "error_codes": []}
    assert ProgramSuggestion.objects.filter(accepted=True).count() == 50
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("WITH s")]
    assert writes
    with connection.cursor() as cursor:
        for sql in writes:
            explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
            cursor.execute(explain + sql)
            plan = " ".join(str(part) for row_ in cursor.fetchall() for part in row_)
            table = ProgramSuggestion._meta.db_table
            assert f"SCAN {table}" not in plan and "Seq Scan on" not in plan, plan
