"""The learner's side of every suggestion kind: ``GET`` and ``POST .../user/``
(suggestions.md, "The learner's own view"). One parametrized suite for all kinds."""

from __future__ import annotations

import pytest

from ibl_catalog.declarations import SUGGESTION_KINDS
from tests.support.catalog_helpers import make_item, suggestion_json
from tests.support.factories import MembershipFactory

pytestmark = pytest.mark.django_db

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Suggestion not found."}


@pytest.fixture(params=SUGGESTION_KINDS, ids=lambda kind: kind.label)
def kind(request):
    return request.param


def url(kind) -> str:
    return f"/api/catalog/suggestions/{kind.label}/user/"


def suggest(kind, world, user_name, platform=None, **fields):
    platform = platform or world.p1
    item = make_item(kind, platform)
    return kind.model._default_manager.create(
        platform=platform, user=world.users[user_name], **{kind.item_field: item}, **fields
    )


@pytest.fixture
def learner_rows(kind, world):
    """learner_p1 on p1: one visible, one dismissed suggestion."""
    visible = suggest(kind, world, "learner_p1")
    dismissed = suggest(kind, world, "learner_p1", visible=False)
    suggest(kind, world, "learner_p2", platform=world.p2)
    return visible, dismissed


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_learner_reads_their_own_visible_suggestions(kind, world, learner_rows):
    visible, _ = learner_rows
    response = world.client("learner_p1").get(url(kind), {"username": "learner_p1"})
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "next_page": None,
        "previous_page": None,
        "results": [suggestion_json(kind, visible)],
    }


@pytest.mark.parametrize(
    "params",
    [
        lambda u: {"user": u.username},
        lambda u: {"user": str(u.pk)},
        lambda u: {"username": u.username},
        lambda u: {"user_id": u.pk},
        lambda u: {"email": u.email.upper()},
        lambda u: {"user_id": u.pk, "username": u.username, "email": u.email},
    ],
    ids=["user=name", "user=id", "username", "user_id", "email", "all"],
)
def test_every_kind_accepts_every_way_of_naming_the_learner(kind, world, learner_rows, params):
    learner = world.users["learner_p1"]
    response = world.client("learner_p1").get(url(kind), params(learner))
    assert response.status_code == 200
    assert ids(response) == [learner_rows[0].pk]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("platform_admin_p1", "both"),
        ("dm_admin", "both"),
        ("learner_p1", "visible"),
        ("learner_p2", 403),
        ("platform_admin_p2", 403),
        ("department_admin", 403),
        ("learner_other_department", 403),
        ("outsider", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_learner_p1s_suggestions(kind, world, learner_rows, role, expected):
    response = world.client(role).get(url(kind), {"username": "learner_p1"})
    visible, dismissed = learner_rows
    if expected == "both":
        assert response.status_code == 200
        assert ids(response) == [dismissed.pk, visible.pk]
    elif expected == "visible":
        assert ids(response) == [visible.pk]
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", ["learner_p2", "platform_admin_p1", "platform_admin_p2"])
def test_naming_someone_you_may_not_read_never_tells_whether_they_exist(kind, world, role):
    exists = world.client(role).get(
        url(kind),
        {"username": "learner_other_department" if role == "platform_admin_p2" else "outsider"},
    )
    missing = world.client(role).get(url(kind), {"username": "nobody-at-all"})
    assert (exists.status_code, exists.json()) == (403, FORBIDDEN)
    assert (missing.status_code, missing.json()) == (403, FORBIDDEN)


def test_a_dm_admin_naming_an_unknown_user_gets_404(kind, world):
    response = world.client("dm_admin").get(url(kind), {"user_id": 987654})
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found."}


def test_parameters_naming_different_users(kind, world):
    params = {"username": "learner_p1", "user_id": world.users["department_admin"].pk}
    admin = world.client("platform_admin_p1").get(url(kind), params)
    assert admin.status_code == 400
    assert admin.json() == {"user": ["The parameters name different users."]}
    # A learner who names anyone but themself learns nothing more than 403.
    learner = world.client("learner_p1").get(url(kind), params)
    assert learner.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "user"), ({"user_id": "abc"}, "user_id"), ({"user_id": "-1"}, "user_id")],
)
def test_bad_learner_parameters_are_400(kind, world, params, field):
    response = world.client("platform_admin_p1").get(url(kind), params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_platform_admin_reads_only_their_platforms_suggestions(kind, world):
    both = world.users["learner_p1"]
    MembershipFactory(user=both, platform=world.p2)
    on_p1 = suggest(kind, world, "learner_p1")
    on_p2 = suggest(kind, world, "learner_p1", platform=world.p2)
    assert ids(world.client("platform_admin_p1").get(url(kind), {"user_id": both.pk})) == [on_p1.pk]
    assert ids(world.client("platform_admin_p2").get(url(kind), {"user_id": both.pk})) == [on_p2.pk]
    dm = world.client("dm_admin").get(url(kind), {"user_id": both.pk, "platform_key": "p2"})
    assert ids(dm) == [on_p2.pk]
    rows = world.client("dm_admin").get(url(kind), {"user_id": both.pk}).json()["results"]
    assert [row["platform_key"] for row in rows] == ["p2", "p1"]


def test_a_key_keeps_to_its_platform(kind, world, learner_rows):
    response = world.client("platform_admin_p1").get(
        url(kind), {"username": "learner_p1", "platform_key": "p2"}
    )
    assert response.status_code == 403


def test_sort_and_pagination(kind, world, learner_rows):
    visible, _ = learner_rows
    client = world.client("platform_admin_p1")
    page = client.get(url(kind), {"username": "learner_p1", "sort": "id", "page_size": 1})
    body = page.json()
    assert (body["count"], ids(page)) == (2, [visible.pk])
    assert body["next"] == (
        f"http://testserver{url(kind)}?page=2&page_size=1&sort=id&username=learner_p1"
    )
    assert body["next_page"] == body["next"]
    assert body["previous"] is None and body["previous_page"] is None
    assert client.get(url(kind), {"username": "learner_p1", "sort": "nope"}).status_code == 400


def test_list_queries_do_not_grow_with_the_page(kind, world, django_assert_max_num_queries):
    for _ in range(30):
        suggest(kind, world, "learner_p1")
    client = world.client("platform_admin_p1")
    with django_assert_max_num_queries(9):
        response = client.get(url(kind), {"username": "learner_p1", "page_size": 30})
    assert len(response.json()["results"]) == 30


# -- the answer --------------------------------------------------------------------


def answer(world, kind, role, suggestion_id, **fields):
    body = {"suggestion_id": suggestion_id, **fields}
    return world.client(role).post(url(kind), body, format="json")


def test_the_learner_accepts(kind, world, learner_rows):
    visible, _ = learner_rows
    before = visible.modified
    response = answer(world, kind, "learner_p1", visible.pk, accepted=True)
    assert response.status_code == 200
    visible.refresh_from_db()
    assert visible.accepted is True and visible.modified > before
    assert response.json() == suggestion_json(kind, visible)


def test_the_learner_dismisses_and_no_longer_sees_it(kind, world, learner_rows):
    visible, _ = learner_rows
    response = answer(world, kind, "learner_p1", visible.pk, visible=False)
    assert response.status_code == 200
    assert response.json()["visible"] is False
    listed = world.client("learner_p1").get(url(kind), {"username": "learner_p1"})
    assert listed.json()["count"] == 0


@pytest.mark.parametrize(
    ("role", "department_mode", "allowed"),
    [
        ("learner_p1", False, True),
        ("platform_admin_p1", False, True),
        ("dm_admin", False, True),
        ("department_admin", True, True),
        ("department_admin", False, False),
        ("learner_p2", False, False),
        ("learner_other_department", False, False),
        ("platform_admin_p2", False, False),
        ("outsider", False, False),
    ],
)
def test_who_may_answer(kind, world, learner_rows, role, department_mode, allowed):
    visible, _ = learner_rows
    extra = {"department_mode": True} if department_mode else {}
    response = answer(world, kind, role, visible.pk, accepted=True, **extra)
    visible.refresh_from_db()
    if allowed:
        assert response.status_code == 200
        assert visible.accepted is True
    else:
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
        assert visible.accepted is False


def test_answering_an_unknown_suggestion_is_the_same_404(kind, world):
    response = answer(world, kind, "learner_p1", 10**9, accepted=True)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_anonymous_answer_is_401(kind, world, learner_rows):
    assert answer(world, kind, "anonymous", learner_rows[0].pk, accepted=True).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"suggestion_id": 1}, "accepted"),
        ({"accepted": True}, "suggestion_id"),
        ({"suggestion_id": "x", "accepted": True}, "suggestion_id"),
        ({"suggestion_id": 0, "accepted": True}, "suggestion_id"),
        ({"suggestion_id": 1, "accepted": "maybe"}, "accepted"),
    ],
)
def test_bad_answers_are_400_and_change_nothing(kind, world, learner_rows, body, field):
    response = world.client("learner_p1").post(url(kind), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    learner_rows[0].refresh_from_db()
    assert learner_rows[0].accepted is False
