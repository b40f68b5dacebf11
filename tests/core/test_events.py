"""The outbox: every write records its events in its own transaction (events.md).

An event's ``data`` is the object as the API answers it; a bulk records one event per
row, all in one statement built by the database (the same objects as the API's, checked
field by field below); a write that rolls back records nothing and enqueues nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.test import override_settings
from rest_framework import serializers as drf_serializers

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.models import ProgramSuggestion
from ibl_catalog.suggestions import selectors, services
from ibl_catalog.suggestions.serializers import build_serializers, iter_represented
from ibl_core.api.representation import json_object
from ibl_core.events.outbox import record_event, record_selected_events
from ibl_core.events.tasks import default_task_backend
from ibl_core.events.webhooks.delivery import new_secret
from ibl_core.models import Event, WebhookEndpoint
from ibl_core.tenancy.groups import create_or_update_group
from ibl_credentials.models import Assertion
from tests.support.assertion_helpers import assertion_json, bulk_url, credential_url, detail_url
from tests.support.catalog_helpers import BULK, MANAGE, group_body, group_url, make_item
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import CourseFactory, MembershipFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db
PROGRAM = next(kind for kind in SUGGESTION_KINDS if kind.label == "program")
PROGRAM_OUTPUT = build_serializers(PROGRAM).output
COURSE = "course-v1:org+python+2026"


def events(**filters) -> list[tuple[str, str, dict]]:
    return [
        (event.type, event.object_id, event.payload)
        for event in Event.objects.filter(**filters).order_by("id")
    ]


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1, program_key="program-v1:org+ds+run", name="DS")


def post_suggestion(world, program, role="platform_admin_p1", **fields):
    body = {"platform_key": "p1", "program_key": program.program_key,
            "user_id": world.users["learner_p1"].pk, **fields}  # fmt: skip
    return world.client(role).post(MANAGE, body, format="json")


# -- suggestions ---------------------------------------------------------------------


def test_a_single_write_records_created_then_updated_with_the_answered_object(world, program):
    first = post_suggestion(world, program)
    second = post_suggestion(world, program, metadata={"why": "again"})
    assert (first.status_code, second.status_code) == (200, 200)
    created, updated = first.json(), second.json()
    assert events() == [
        ("suggestion.created", str(created["id"]), created),
        ("suggestion.updated", str(created["id"]), updated),
    ]
    assert Event.objects.filter(platform=world.p1).count() == 2


def test_delete_records_the_object_as_it_was(world, program):
    answered = post_suggestion(world, program).json()
    response = world.client("platform_admin_p1").delete(
        f"{MANAGE}?platform_key=p1&suggestion_id={answered['id']}"
    )
    assert response.status_code == 200
    assert events()[-1] == ("suggestion.deleted", str(answered["id"]), answered)


def test_deleting_a_missing_suggestion_records_nothing(world):
    response = world.client("platform_admin_p1").delete(f"{MANAGE}?platform_key=p1&suggestion_id=9")
    assert response.status_code == 404
    assert events() == []


@pytest.mark.parametrize(
    ("answer", "event_type"),
    [
        ({"accepted": True}, "suggestion.accepted"),
        ({"visible": False}, "suggestion.dismissed"),
        ({"accepted": False}, "suggestion.updated"),
    ],
)
def test_the_learners_answer(world, program, answer, event_type):
    suggestion_id = post_suggestion(world, program).json()["id"]
    response = world.client("learner_p1").post(
        "/api/catalog/suggestions/program/user/",
        {"suggestion_id": suggestion_id, **answer},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert events()[-1] == (event_type, str(suggestion_id), response.json())


def bulk_rows(world, program, count):
    users = UserFactory.create_batch(count)
    MembershipFactory._meta.model.objects.bulk_create(
        MembershipFactory.build(user=user, platform=world.p1) for user in users
    )
    return [{"program_key": program.program_key, "user_id": user.pk} for user in users]


def test_a_bulk_records_one_event_per_row_written(world, program):
    rows = bulk_rows(world, program, 3)
    client = world.client("platform_admin_p1")
    client.post(BULK, {"platform_key": "p1", "suggestion_data": rows[:1]}, format="json")
    Event.objects.all().delete()
    bad = {"program_key": "nope", "user_id": rows[0]["user_id"]}
    response = client.post(
        BULK, {"platform_key": "p1", "suggestion_data": [*rows, bad]}, format="json"
    )
    assert response.json()["successes"] == 3
    listed = client.get(MANAGE, {"platform_key": "p1", "sort": "id"}).json()["results"]
    by_id = {row["id"]: row for row in listed}
    recorded = events()
    assert sorted(event_type for event_type, _, _ in recorded) == [
        "suggestion.created",
        "suggestion.created",
        "suggestion.updated",
    ]
    for _, object_id, data in recorded:
        assert data == by_id[int(object_id)]


def test_a_bulk_records_its_events_in_the_same_queries_for_10_and_500_rows(
    world, program, django_assert_max_num_queries
):
    client = world.client("platform_admin_p1")
    counts = {}
    for size in (10, 500):
        rows = bulk_rows(world, program, size)
        client.post(BULK, {"platform_key": "p1", "suggestion_data": rows[:1]}, format="json")
        with django_assert_max_num_queries(1000) as captured:
            client.post(BULK, {"platform_key": "p1", "suggestion_data": rows}, format="json")
        counts[size] = len(captured.captured_queries)
        assert Event.objects.filter(type="suggestion.created").count() >= size - 1
    assert counts[10] == counts[500]


@override_settings(IBL_DATA_MANAGER={"BULK_BATCH_SIZE": 2})
def test_a_bulks_events_are_written_by_one_statement_in_row_order(
    world, program, django_assert_max_num_queries
):
    rows = bulk_rows(world, program, 5)
    client = world.client("platform_admin_p1")
    with django_assert_max_num_queries(1000) as captured:
        response = client.post(BULK, {"platform_key": "p1", "suggestion_data": rows}, format="json")
    assert response.json() == {"successes": 5, "error_codes": []}
    statements = [q for q in captured.captured_queries if "INSERT INTO" in q["sql"]]
    # three batches of suggestions (2 + 2 + 1 rows), their five events in one statement
    assert sum("ibl_core_event" in q["sql"] for q in statements) == 1
    assert len(statements) == 4
    recorded = list(Event.objects.order_by("id").values_list("type", "object_id", "payload"))
    suggestions = list(ProgramSuggestion.objects.order_by("user_id"))
    assert [(t, int(o)) for t, o, _ in recorded] == [
        ("suggestion.created", s.pk) for s in suggestions
    ]
    assert [payload["user_id"] for _, _, payload in recorded] == [s.user_id for s in suggestions]


# -- the database builds a bulk's events: the same objects as the API's -------------

#: Users whose names, and suggestions whose flags, timestamps and metadata, cover what
#: the two writers of the suggestion object could write differently.
EDGE_USERS = [
    {"username": "plain", "first_name": "Ada", "last_name": "Lovelace"},
    {"username": "no-name", "first_name": "", "last_name": ""},
    {"username": "only-last", "first_name": "", "last_name": "Hopper"},
    {"username": "ünï.cødé", "first_name": " Zoë ", "last_name": 'Ñúñez "Q" 🎓'},
]
EDGE_SUGGESTIONS = [
    {
        "accepted": True,
        "visible": True,
        "metadata": {},
        "created": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "modified": datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
    },
    {
        "accepted": False,
        "visible": False,
        "metadata": {"why": "ünï 🎓", "n": [1, 2.5, None]},
        "created": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "modified": datetime(2030, 6, 7, 8, 9, 10, 120000, tzinfo=UTC),
    },
    {
        "accepted": True,
        "visible": False,
        "metadata": {"nested": {"deep": {"x": -1e-05, "t": True, "f": False}}, "q": "\"'\\"},
        "created": datetime(2026, 11, 26, 0, 0, tzinfo=UTC),
        "modified": datetime(2026, 11, 26, 0, 0, 0, 500, tzinfo=UTC),
    },
    {
        "accepted": False,
        "visible": True,
        "metadata": {"list": [], "empty": ""},
        "created": datetime(2026, 2, 28, 12, 30, 1, 10, tzinfo=UTC),
        "modified": datetime(2026, 2, 28, 12, 30, 1, tzinfo=UTC),
    },
]


@pytest.mark.parametrize("kind", SUGGESTION_KINDS, ids=lambda kind: kind.label)
def test_the_databases_suggestion_objects_are_the_apis(world, kind):
    """``json_object`` (the bulk's events) against the list's rows shaped in Python, on
    every kind (pathways: a UUID identifier), for each edge case above."""
    users = [UserFactory(**fields) for fields in EDGE_USERS]
    for user in users:
        MembershipFactory(user=user, platform=world.p1)
    manager = kind.model._default_manager
    for user, values in zip(users, EDGE_SUGGESTIONS, strict=True):
        item = make_item(kind, world.p1)
        suggestion = manager.create(
            platform=world.p1, user=user, **{kind.item_field: item}, **values
        )
        # auto_now fields: the timestamps are set as stored rows would hold them
        manager.filter(pk=suggestion.pk).update(
            created=values["created"], modified=values["modified"]
        )
    suggestions = manager.filter(platform=world.p1).order_by("id")
    output = build_serializers(kind).output
    expected = [
        json.loads(json.dumps(data, cls=DjangoJSONEncoder))
        for data in iter_represented(output, selectors.suggestion_rows(kind, suggestions, world.p1))
    ]
    data = json_object(output, selectors.object_expressions(kind, world.p1), connection.vendor)
    assert data is not None
    built = [
        json.loads(value) if isinstance(value, str) else value
        for value in suggestions.values_list(data, flat=True)
    ]
    assert built == expected
    assert len(built) == len(EDGE_SUGGESTIONS)
    assert expected[0]["created"] == "2026-01-02T03:04:05Z"  # no microseconds: none written
    assert expected[0]["modified"] == "2026-01-02T03:04:05.000001Z"


def test_a_bulks_events_are_built_in_python_where_the_api_writes_another_time_zone(world, program):
    rows = bulk_rows(world, program, 2)
    client = world.client("platform_admin_p1")
    with override_settings(TIME_ZONE="Europe/Paris"):
        assert (
            json_object(
                build_serializers(PROGRAM).output,
                selectors.object_expressions(PROGRAM, world.p1),
                connection.vendor,
            )
            is None
        )
        response = client.post(BULK, {"platform_key": "p1", "suggestion_data": rows}, format="json")
        assert response.json() == {"successes": 2, "error_codes": []}
        listed = client.get(MANAGE, {"platform_key": "p1", "sort": "id"}).json()["results"]
    assert [listed[0]["created"][-6:], listed[1]["created"][-6:]] == ["+01:00", "+01:00"]
    assert events() == [("suggestion.created", str(row["id"]), row) for row in listed]


@pytest.mark.parametrize(
    "event_type",
    [
        Value("suggestion.craeted"),
        Case(
            When(accepted=True, then=Value("suggestion.accepted")),
            default=Value("suggestion.nope"),
        ),
        F("metadata"),  # not a constant: nothing to check
    ],
    ids=["unknown", "one unknown branch", "a column"],
)
def test_events_built_by_the_database_take_only_known_types(world, program, event_type):
    post_suggestion(world, program)
    Event.objects.all().delete()
    with pytest.raises(ValueError):
        record_selected_events(
            world.p1,
            ProgramSuggestion.objects.all(),
            type=event_type,
            object_id="id",
            data=Value("{}"),
        )
    assert events() == []


def test_json_object_declines_a_field_it_does_not_write_exactly():
    class WithDecimal(drf_serializers.Serializer):
        price = drf_serializers.DecimalField(max_digits=5, decimal_places=2)

    assert json_object(WithDecimal, {"price": F("price")}, "sqlite") is None
    assert json_object(PROGRAM_OUTPUT, {}, "mysql") is None


def test_a_write_that_rolls_back_records_no_event_and_enqueues_nothing(world, program):
    WebhookEndpoint.objects.create(platform=world.p1, url="https://example.org/", secret="x")
    body = {"program_key": program.program_key, "user_id": world.users["learner_p1"].pk}
    with pytest.raises(RuntimeError), transaction.atomic():
        services.upsert_suggestion(
            PROGRAM, platform=world.p1, data=body, actor_id=None, user_scope=None
        )
        assert Event.objects.count() == 1  # recorded inside the transaction...
        raise RuntimeError("the request failed after the write")
    assert events() == []  # ...and gone with it
    assert not ProgramSuggestion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_delivery_is_enqueued_on_commit_and_only_when_someone_listens(world, program):
    default_task_backend.clear()
    post_suggestion(world, program)
    assert default_task_backend.results == []  # no endpoint: no task
    WebhookEndpoint.objects.create(platform=world.p1, url="https://example.org/", secret="x")
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(world.p1, "suggestion.created", 1, {"id": 1})
        raise RuntimeError
    assert default_task_backend.results == []  # rolled back: nothing enqueued
    post_suggestion(world, program, accepted=True)
    [result] = default_task_backend.results
    [event] = Event.objects.filter(type="suggestion.updated")
    assert result.task.name == "dispatch_events"
    assert result.args == [world.p1.pk, [event.pk]]


def test_group_suggestions_record_created_and_deleted(world):
    users = UserFactory.create_batch(2)
    for user in users:
        MembershipFactory(user=user, platform=world.p1)
    group, _ = create_or_update_group(world.p1, "Cohort", add=users)
    item = make_item(PROGRAM, world.p1)
    client = world.client("platform_admin_p1")
    created = client.post(
        group_url(PROGRAM) + "?platform_key=p1", group_body(PROGRAM, group, item), format="json"
    )
    assert created.status_code == 200, created.content
    # Updating it is no new group suggestion; the members' own suggestions are the
    # group's fan-out, not events of their own.
    client.post(
        group_url(PROGRAM) + "?platform_key=p1",
        group_body(PROGRAM, group, item, accepted=True),
        format="json",
    )
    suggestion_id = created.json()["id"]
    deleted = client.delete(group_url(PROGRAM) + f"?platform_key=p1&suggestion_id={suggestion_id}")
    assert deleted.status_code == 200
    [(first_type, first_id, first), (last_type, last_id, last)] = events()
    assert (first_type, first_id, first) == (
        "group_suggestion.created", str(suggestion_id), created.json()
    )  # fmt: skip
    assert (last_type, last_id) == ("group_suggestion.deleted", str(suggestion_id))
    assert last["id"] == suggestion_id and last["accepted"] is True


# -- assertions ----------------------------------------------------------------------


@pytest.fixture
def credential(world):
    course = CourseFactory(platform=world.p1, course_id=COURSE, name="Python 101")
    credential = CredentialFactory(
        issuer=IssuerFactory(platform=world.p1, entity_id="issuer-p1"), entity_id="cred-python"
    )
    credential.course = course
    return credential


def test_issuing_one_records_assertion_issued_with_the_answered_object(world, credential):
    response = world.client("platform_admin_p1").post(
        credential_url("cred-python", "platform_admin_p1"),
        {"recipient": {"identity": "learner_p1"}, "course": COURSE},
        format="json",
    )
    assert response.status_code == 201, response.content
    answered = response.json()
    assert events() == [("assertion.issued", answered["entityId"], answered)]
    # Issuing again answers the active one: no new event.
    world.client("platform_admin_p1").post(
        credential_url("cred-python", "platform_admin_p1"),
        {"recipient": {"identity": "learner_p1"}, "course": COURSE},
        format="json",
    )
    assert len(events()) == 1


def test_a_bulk_issue_records_one_event_per_assertion_issued(world, credential):
    response = world.client("platform_admin_p1").post(
        bulk_url("cred-python"),
        {"users": ["learner_p1", "department_admin", "nobody"], "course": COURSE},
        format="json",
    )
    assert response.status_code == 200, response.content
    recorded = events()
    assert len(recorded) == 2
    for event_type, entity_id, data in recorded:
        assertion = Assertion.objects.select_related("credential__issuer", "recipient").get(
            entity_id=entity_id
        )
        assert (event_type, data) == ("assertion.issued", assertion_json(assertion))


def test_a_bulk_issues_events_built_by_the_database_are_the_apis_objects(world, credential):
    """Names with spaces, emoji and none at all, an email left empty, and narrative,
    evidence, metadata and expiry shared by every row: each event is the object the
    assertion's GET answers."""
    users = [UserFactory(**fields) for fields in EDGE_USERS]
    users[1].email = ""
    users[1].save()
    for user in users:
        MembershipFactory(user=user, platform=world.p1)
    body = {
        "users": [user.username for user in reversed(users)],
        "course": COURSE,
        "narrative": 'Passed with ünïcode 🎓 and "quotes"',
        "evidence": [{"url": "https://example.org/work?a=1&b=2", "narrative": "n"}],
        "metadata": {"score": 97.5, "tags": ["a", None, True], "nested": {"k": "v"}},
        "expires": "2031-01-02T03:04:05.000006Z",
    }
    client = world.client("platform_admin_p1")
    response = client.post(bulk_url("cred-python"), body, format="json")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["issued"]) == sorted(user.username for user in users)
    recorded = events()
    issued = Assertion.objects.select_related("credential__issuer", "recipient")
    by_entity = {assertion.entity_id: assertion for assertion in issued}
    assert [entity_id for _, entity_id, _ in recorded] == [
        by_entity_id
        for by_entity_id, _ in sorted(by_entity.items(), key=lambda pair: pair[1].recipient_id)
    ]  # in recipient order
    for event_type, entity_id, data in recorded:
        answered = client.get(detail_url(entity_id, "platform_admin_p1")).json()
        assert (event_type, data) == ("assertion.issued", answered)
        assert data == assertion_json(by_entity[entity_id])
    assert {data["recipient"]["name"] for _, _, data in recorded} == {
        "Ada Lovelace",
        "",
        "Hopper",
        'Zoë  Ñúñez "Q" 🎓',
    }


def test_bulk_issue_events_cost_the_same_queries_for_10_and_500(
    world, credential, django_assert_max_num_queries
):
    client = world.client("platform_admin_p1")
    counts = {}
    for size, course in ((10, COURSE), (500, "course-v1:org+other+2026")):
        if course != COURSE:
            CourseFactory(platform=world.p1, course_id=course, name="Other")
        users = UserFactory.create_batch(size)
        MembershipFactory._meta.model.objects.bulk_create(
            MembershipFactory.build(user=user, platform=world.p1) for user in users
        )
        names = [user.username for user in users]
        client.post(bulk_url("cred-python"), {"users": names[:1], "course": course}, format="json")
        with django_assert_max_num_queries(1000) as captured:
            response = client.post(
                bulk_url("cred-python"), {"users": names, "course": course}, format="json"
            )
        assert len(response.json()["issued"]) == size - 1
        counts[size] = len(captured.captured_queries)
    assert counts[10] == counts[500]
    assert Event.objects.filter(type="assertion.issued").count() == 510


@pytest.mark.parametrize(
    ("body", "event_type"),
    [
        ({"revoked": True, "revocationReason": "Fraud"}, "assertion.revoked"),
        ({"acceptance": "Accepted"}, "assertion.accepted"),
        ({"acceptance": "Rejected"}, "assertion.rejected"),
    ],
)
def test_revoking_and_answering(world, credential, body, event_type):
    held = AssertionFactory(credential=credential, recipient=world.users["learner_p1"])
    role = "platform_admin_p1" if "revoked" in body else "learner_p1"
    response = world.client(role).put(detail_url(held.entity_id, role), body, format="json")
    assert response.status_code == 200, response.content
    assert events() == [(event_type, held.entity_id, response.json())]
    # The same answer again changes nothing and records nothing.
    world.client(role).put(detail_url(held.entity_id, role), body, format="json")
    assert len(events()) == 1


def test_unknown_event_types_are_refused(world):
    with pytest.raises(ValueError, match="Unknown event type"):
        record_event(world.p1, "suggestion.exploded", 1, {})


def test_secrets_have_the_standard_webhooks_form():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) == 6 + 44


# -- credentials ---------------------------------------------------------------------


def test_creating_and_deleting_a_credential_records_its_object(world):
    IssuerFactory(platform=world.p1, name="Acme", entity_id="acme")
    client = world.client("platform_admin_p1")
    base = "/api/credentials/orgs/p1/users/platform_admin_p1/"
    created = client.post(base, {"name": "Badge", "tags": ["x"]}, format="json")
    assert created.status_code == 201, created.content
    result = created.json()["result"]
    assert events() == [("credential.created", result["entityId"], result)]
    shown = client.get(f"{base}{result['entityId']}").json()["result"]
    deleted = client.delete(f"{base}{result['entityId']}")
    assert deleted.status_code == 200
    assert events()[-1] == ("credential.deleted", result["entityId"], shown)


def test_a_refused_credential_delete_records_nothing(world, credential):
    AssertionFactory(credential=credential, recipient=world.users["learner_p1"])
    Event.objects.all().delete()
    response = world.client("platform_admin_p1").delete(
        "/api/credentials/orgs/p1/users/platform_admin_p1/cred-python"
    )
    assert response.status_code == 409
    assert events() == []


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_fails_after_the_commit_does_not_fail_the_request(
    world, program, monkeypatch, caplog
):
    from ibl_core.events.webhooks import delivery as webhook_delivery

    def unreachable_queue(platform_id, event_ids):
        raise ConnectionError("the queue does not answer")

    monkeypatch.setattr(webhook_delivery, "events_committed", unreachable_queue)
    response = post_suggestion(world, program)
    assert response.status_code == 200
    assert [event_type for event_type, _, _ in events()] == ["suggestion.created"]
    assert "the queue does not answer" in caplog.text
