"""Every suggestion kind through ``manage/`` and ``manage/bulk/``: one parametrized suite.

The program-specific modules (test_catalog_list/write/bulk/access) go deep into the
rules of catalog.md; the engine is the same code for every kind, so this suite checks
what differs by kind (identifiers, item fields, codes) and that each kind answers the
same shapes and roles.
"""

from __future__ import annotations

import uuid

import pytest

from ibl_catalog.declarations import PATHWAY_SUGGESTIONS, SUGGESTION_KINDS
from tests.support.catalog_helpers import make_item, suggestion_json

pytestmark = pytest.mark.django_db


@pytest.fixture(params=SUGGESTION_KINDS, ids=lambda kind: kind.label)
def kind(request):
    return request.param


def manage(kind) -> str:
    return f"/api/catalog/suggestions/{kind.label}/manage/"


def names(kind, item) -> dict[str, str]:
    """The item as a request names it: its first identifier."""
    first = kind.identifiers[0]
    return {first.name: str(getattr(item, first.field))}


def post(world, kind, body, role="platform_admin_p1"):
    return world.client(role).post(manage(kind), {"platform_key": "p1", **body}, format="json")


def bulk(world, kind, rows, role="platform_admin_p1"):
    body = {"platform_key": "p1", "suggestion_data": rows}
    return world.client(role).post(manage(kind) + "bulk/", body, format="json")


def test_create_answers_the_kinds_object(kind, world):
    item = make_item(kind, world.p1)
    learner = world.users["learner_p1"]
    response = post(world, kind, {"user_id": learner.pk, "metadata": {"a": 1}, **names(kind, item)})
    assert response.status_code == 200
    created = kind.model._default_manager.get()
    assert response.json() == suggestion_json(kind, created)
    assert set(response.json()) >= {identifier.name for identifier in kind.identifiers}
    assert (created.direct, created.visible, created.accepted) == (True, True, False)


def test_list_answers_the_same_objects(kind, world):
    items = [make_item(kind, world.p1) for _ in range(3)]
    suggestions = [
        kind.model._default_manager.create(
            platform=world.p1, user=world.users["learner_p1"], **{kind.item_field: item}
        )
        for item in items
    ]
    response = world.client("platform_admin_p1").get(manage(kind), {"platform_key": "p1"})
    body = response.json()
    assert body["count"] == 3
    assert body["results"] == [suggestion_json(kind, s) for s in reversed(suggestions)]


@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_every_item_field(kind, world, descending):
    for name in ("b", "c", "a"):
        item = make_item(kind, world.p1, **{kind.name_field: f"Item {name}"})
        kind.model._default_manager.create(
            platform=world.p1, user=world.users["learner_p1"], **{kind.item_field: item}
        )
    client = world.client("platform_admin_p1")
    prefix = "-" if descending else ""
    for field in (*kind.identifier_names, kind.item_name):
        response = client.get(manage(kind), {"platform_key": "p1", "sort": prefix + field})
        assert response.status_code == 200, (field, response.json())
        values = [str(row[field]) for row in response.json()["results"]]
        assert values == sorted(values, reverse=descending)


def test_unknown_and_disabled_items_are_400(kind, world):
    disabled = make_item(kind, world.p1, enabled=False)
    foreign = make_item(kind, world.p2)
    learner = world.users["learner_p1"]
    first = kind.identifiers[0].name
    for item in (disabled, foreign):
        response = post(world, kind, {"user_id": learner.pk, **names(kind, item)})
        assert response.status_code == 400
        assert response.json() == {first: [f"No such {kind.label} on this platform."]}
    assert not kind.model._default_manager.exists()


def test_bulk_codes_name_the_kind(kind, world):
    item = make_item(kind, world.p1)
    learner = world.users["learner_p1"]
    rows = [
        {"user_id": learner.pk, **names(kind, item)},
        {"user_id": learner.pk, **{kind.identifiers[0].name: "nothing-like-it"}},
        {"user_id": 10**9, **names(kind, item)},
        {"user_id": learner.pk, **names(kind, item)},
        {"user_id": learner.pk},
    ]
    response = bulk(world, kind, rows)
    assert response.json() == {
        "successes": 1,
        "error_codes": [
            f"1:{kind.label}_not_found",
            "2:user_not_found",
            "3:duplicate_row",
            "4:invalid_row",
        ],
    }
    assert kind.model._default_manager.count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("platform_admin_p1", 200),
        ("dm_admin", 200),
        ("department_admin", 403),
        ("learner_p1", 403),
        ("platform_admin_p2", 403),
        ("outsider", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_manage(kind, world, role, status):
    item = make_item(kind, world.p1)
    body = {"user_id": world.users["learner_p1"].pk, **names(kind, item)}
    assert post(world, kind, body, role=role).status_code == status
    listed = world.client(role).get(manage(kind), {"platform_key": "p1"})
    assert listed.status_code == status
    assert kind.model._default_manager.count() == (1 if status == 200 else 0)


def test_delete(kind, world):
    item = make_item(kind, world.p1)
    suggestion = kind.model._default_manager.create(
        platform=world.p1, user=world.users["learner_p1"], **{kind.item_field: item}
    )
    client = world.client("platform_admin_p1")
    response = client.delete(f"{manage(kind)}?platform_key=p1&suggestion_id={suggestion.pk}")
    assert response.json() == {"detail": "Suggestion deleted.", "suggestion_id": suggestion.pk}
    again = client.delete(f"{manage(kind)}?platform_key=p1&suggestion_id={suggestion.pk}")
    assert (again.status_code, again.json()) == (404, {"detail": "Suggestion not found."})


# -- pathways: two identifiers ------------------------------------------------------

pathway = PATHWAY_SUGGESTIONS


@pytest.fixture
def two_pathways(world):
    return make_item(pathway, world.p1), make_item(pathway, world.p1)


@pytest.mark.parametrize(
    "naming",
    [
        lambda p: {"pathway_id": p.pathway_id},
        lambda p: {"pathway_uuid": str(p.pathway_uuid)},
        lambda p: {"pathway_uuid": p.pathway_uuid.hex.upper()},
        lambda p: {"pathway_id": p.pathway_id, "pathway_uuid": str(p.pathway_uuid)},
    ],
    ids=["id", "uuid", "uuid-hex", "both"],
)
def test_a_pathway_is_named_by_either_identifier(world, two_pathways, naming):
    target = two_pathways[1]
    response = post(world, pathway, {"user_id": world.users["learner_p1"].pk, **naming(target)})
    assert response.status_code == 200
    body = response.json()
    assert (body["pathway_id"], body["pathway_uuid"]) == (
        target.pathway_id,
        str(target.pathway_uuid),
    )
    assert body["pathway_platform_key"] == "p1"


@pytest.mark.parametrize(
    ("naming", "errors"),
    [
        (
            lambda a, b: {"pathway_id": a.pathway_id, "pathway_uuid": str(b.pathway_uuid)},
            {"pathway_uuid": ["Names another pathway than pathway_id."]},
        ),
        (
            lambda a, b: {"pathway_id": a.pathway_id, "pathway_uuid": str(uuid.uuid4())},
            {"pathway_uuid": ["Names another pathway than pathway_id."]},
        ),
        (
            lambda a, b: {"pathway_uuid": str(uuid.uuid4())},
            {"pathway_uuid": ["No such pathway on this platform."]},
        ),
        (lambda a, b: {}, {"pathway_id": ["This field or pathway_uuid is required."]}),
        (lambda a, b: {"pathway_uuid": "not-a-uuid"}, {"pathway_uuid": ["Must be a valid UUID."]}),
    ],
    ids=["two-pathways", "unknown-uuid-beside-id", "unknown-uuid", "neither", "bad-uuid"],
)
def test_pathway_identifiers_that_disagree_or_are_missing(world, two_pathways, naming, errors):
    body = {"user_id": world.users["learner_p1"].pk, **naming(*two_pathways)}
    response = post(world, pathway, body)
    assert response.status_code == 400
    assert response.json() == errors
    assert not pathway.model._default_manager.exists()


def test_pathway_bulk_rows_take_either_identifier(world, two_pathways):
    a, b = two_pathways
    learner = world.users["learner_p1"].pk
    rows = [
        {"user_id": learner, "pathway_id": a.pathway_id},
        {"user_id": learner, "pathway_uuid": str(b.pathway_uuid)},
        {"user_id": learner, "pathway_uuid": str(a.pathway_uuid)},  # a again
        {"user_id": learner, "pathway_id": a.pathway_id, "pathway_uuid": str(b.pathway_uuid)},
        {"user_id": learner},
    ]
    response = bulk(world, pathway, rows)
    assert response.json() == {
        "successes": 2,
        "error_codes": ["2:duplicate_row", "3:pathway_not_found", "4:invalid_row"],
    }


def test_a_course_request_may_carry_platform_org(world):
    from ibl_catalog.declarations import COURSE_SUGGESTIONS as course

    item = make_item(course, world.p1)
    body = {"user_id": world.users["learner_p1"].pk, "platform_org": world.p1.org,
            "course_id": item.course_id}  # fmt: skip
    assert post(world, course, body).status_code == 200


def test_the_registry_serves_the_declared_kinds_once():
    """The app registers its declarations when it is ready; the engine (fan-out to
    groups) reads them there. A second declaration under a taken label is refused."""
    from dataclasses import replace

    from django.core.exceptions import ImproperlyConfigured

    from ibl_catalog.suggestions import registry

    assert registry.suggestion_kinds() == SUGGESTION_KINDS
    assert registry.group_suggestion_kinds() == SUGGESTION_KINDS  # all three have groups
    registry.register(PATHWAY_SUGGESTIONS)  # the same declaration again: no change
    assert registry.suggestion_kinds() == SUGGESTION_KINDS
    with pytest.raises(ImproperlyConfigured, match="'pathway'"):
        registry.register(replace(PATHWAY_SUGGESTIONS, item_platform_key=False))
    assert registry.suggestion_kinds() == SUGGESTION_KINDS


def test_a_writes_answer_is_the_row_the_list_reads(kind, world):
    """The suggestion object built in Python after a write (``written_row``) and the
    one the database builds for the list (``suggestion_rows``) are field for field the
    same, for every kind: one object, two writers side by side."""
    item = make_item(kind, world.p1)
    learner = world.users["learner_p1"]
    learner.first_name, learner.last_name = " Ada\t", "Lovelace "
    learner.save()
    response = post(
        world, kind, {"user_id": learner.pk, "metadata": {"a": [1]}, **names(kind, item)}
    )
    assert response.status_code == 200
    listed = world.client("platform_admin_p1").get(manage(kind), {"platform_key": "p1"})
    assert listed.json()["results"] == [response.json()]
    assert response.json()["name"] == "Ada\t Lovelace"
