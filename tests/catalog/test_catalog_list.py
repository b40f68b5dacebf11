"""GET /api/catalog/suggestions/program/manage/ (catalog.md)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

from ibl_catalog.models import ProgramSuggestion
from tests.support.catalog_helpers import FIELDS, MANAGE, expected, suggest
from tests.support.factories import MembershipFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_many(world, count: int, platform=None):
    platform = platform or world.p1
    program = ProgramFactory(platform=platform)
    users = UserFactory.create_batch(count)
    for user in users:
        MembershipFactory(user=user, platform=platform)
    ProgramSuggestion.objects.bulk_create(
        ProgramSuggestion(platform=platform, user=user, program=program) for user in users
    )


def test_list_answers_the_exact_shape(world):
    suggestion = suggest(world, "learner_p1", metadata={"source": "test"})
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"})
    assert response.status_code == 200
    body = response.json()
    assert body == {"count": 1, "next": None, "previous": None, "next_page": None,
                    "previous_page": None, "results": [expected(suggestion)]}  # fmt: skip
    row = body["results"][0]
    assert set(row) == FIELDS
    assert isinstance(row["id"], int) and isinstance(row["user_id"], int)
    assert row["created"].endswith("Z")


def test_name_is_empty_string_when_user_has_none(world):
    user = world.users["learner_p1"]
    user.first_name = user.last_name = ""
    user.save()
    suggest(world, "learner_p1")
    row = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"}).json()
    assert row["results"][0]["name"] == ""


def test_other_platform_suggestions_are_not_listed(world):
    suggest(world, "learner_p2", platform=world.p2)
    mine = suggest(world, "learner_p1")
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_platform_org_names_the_platform(world):
    mine = suggest(world, "learner_p1")
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_org": "org-one"}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_default_sort_is_newest_id_first(world):
    ids = [suggest(world, "learner_p1").pk for _ in range(3)]
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"}).json()
    assert [row["id"] for row in body["results"]] == sorted(ids, reverse=True)


SORTS = ["id", "created", "modified", "username", "program_key", "program_name", "accepted",
         "visible"]  # fmt: skip


@pytest.mark.parametrize("sort", SORTS + [f"-{s}" for s in SORTS])
def test_each_sort_value_orders_with_id_tie_break(world, sort):
    programs = [ProgramFactory(platform=world.p1, program_key=f"k{n}", name=f"N{2 - n}")
                for n in range(3)]  # fmt: skip
    rows = []
    for n, name in enumerate(["learner_p1", "department_admin", "platform_admin_p1"]):
        for m, program in enumerate(programs):
            rows.append(suggest(world, name, program=program, accepted=(n + m) % 2 == 0,
                                visible=m == 1))  # fmt: skip
    response = world.client("platform_admin_p1").get(
        MANAGE, {"platform_key": "p1", "sort": sort, "page_size": 100}
    )
    assert response.status_code == 200
    got = [row["id"] for row in response.json()["results"]]
    column = sort.lstrip("-")
    attribute = {
        "username": lambda s: s.user.username,
        "program_key": lambda s: s.program.program_key,
        "program_name": lambda s: s.program.name,
    }.get(column, lambda s: getattr(s, column))
    descending = sort.startswith("-")
    for row in rows:
        row.refresh_from_db()
    want = sorted(rows, key=lambda s: (attribute(s), s.pk), reverse=descending)
    assert got == [s.pk for s in want]


def test_unknown_sort_is_400_naming_accepted_values(world):
    response = world.client("platform_admin_p1").get(
        MANAGE, {"platform_key": "p1", "sort": "email"}
    )
    assert response.status_code == 400
    message = response.json()["sort"][0]
    assert message.startswith("Unknown sort value email; accepted values: -id, id, created")
    assert "-program_name" in message


@pytest.mark.parametrize(
    "text",
    ["LEARNER_P1", "Tess Usher", "learner_p1@EXAMPLE", "special-key", "Marine Biology"],
)
def test_query_searches_username_name_email_program(world, text):
    user = world.users["learner_p1"]
    user.first_name, user.last_name = "Tess", "Usher Person"
    user.save()
    program = ProgramFactory(platform=world.p1, program_key="special-key", name="Marine Biology")
    hit = suggest(world, "learner_p1", program=program)
    other_program = ProgramFactory(platform=world.p1, program_key="other", name="Other")
    miss = suggest(world, "platform_admin_p1", program=other_program)
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", "query": text})
    ids = [row["id"] for row in body.json()["results"]]
    assert hit.pk in ids and miss.pk not in ids


def test_full_name_search_spans_first_and_last_name(world):
    user = world.users["learner_p1"]
    user.first_name, user.last_name = "Ada", "Lovelace"
    user.save()
    hit = suggest(world, "learner_p1")
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", "query": "a lov"})
    assert [row["id"] for row in body.json()["results"]] == [hit.pk]


def test_pagination_links_are_absolute_and_keep_parameters(world):
    make_many(world, 5)
    response = world.client("platform_admin_p1").get(
        MANAGE, {"platform_key": "p1", "page_size": 2, "page": 2, "sort": "username"}
    )
    body = response.json()
    assert body["count"] == 5 and len(body["results"]) == 2
    for link, page in ((body["next"], "3"), (body["previous"], None)):
        parts = urlsplit(link)
        assert parts.scheme == "http" and parts.netloc == "testserver"
        assert parts.path == MANAGE
        query = parse_qs(parts.query)
        assert query["platform_key"] == ["p1"] and query["sort"] == ["username"]
        assert query["page_size"] == ["2"]
        assert query.get("page", [None]) == [page]
    # The published client reads the same links under other names.
    assert (body["next_page"], body["previous_page"]) == (body["next"], body["previous"])


def test_last_page_has_no_next(world):
    make_many(world, 3)
    body = (
        world.client("platform_admin_p1")
        .get(MANAGE, {"platform_key": "p1", "page_size": 2, "page": 2})
        .json()
    )
    assert body["next"] is None and len(body["results"]) == 1


def test_page_size_is_clamped_to_the_maximum(world):
    make_many(world, 5)
    with override_settings(IBL_DATA_MANAGER={"MAX_PAGE_SIZE": 3, "PAGE_SIZE": 2}):
        body = (
            world.client("platform_admin_p1")
            .get(MANAGE, {"platform_key": "p1", "page_size": 1000})
            .json()
        )
        assert len(body["results"]) == 3
        default = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"}).json()
        assert len(default["results"]) == 2


@pytest.mark.parametrize(
    ("param", "value"),
    [("page", "0"), ("page", "-1"), ("page", "x"), ("page", "1.5"), ("page_size", "0"),
     ("page_size", "abc"), ("page_size", "-5")],
)  # fmt: skip
def test_bad_page_parameters_are_400(world, param, value):
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", param: value})
    assert response.status_code == 400
    assert response.json() == {param: ["A positive integer is required."]}


def test_page_past_the_end_is_404(world):
    make_many(world, 2)
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", "page": 3})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_empty_list_page_one_is_200(world):
    body = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "next_page": None,
                    "previous_page": None, "results": []}  # fmt: skip


def test_missing_platform_is_400(world):
    response = world.client("platform_admin_p1").get(MANAGE)
    assert response.status_code == 400
    assert response.json() == {"platform_key": ["This field is required."]}


def test_department_mode_lists_only_the_departments_users(world):
    mine = suggest(world, "learner_p1")  # in Engineering, which department_admin administers
    suggest(world, "learner_other_department")  # in Design
    suggest(world, "platform_admin_p1")  # in no department
    client = world.client("department_admin")
    body = client.get(MANAGE, {"platform_key": "p1", "department_mode": "true"}).json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_platform_admin_in_department_mode_still_sees_everything(world):
    suggest(world, "learner_p1")
    suggest(world, "learner_other_department")
    body = (
        world.client("platform_admin_p1")
        .get(MANAGE, {"platform_key": "p1", "department_mode": "true"})
        .json()
    )
    assert body["count"] == 2


def test_query_count_does_not_grow_with_page_size(world, django_assert_max_num_queries):
    make_many(world, 120)
    client = world.client("platform_admin_p1")
    client.get(MANAGE, {"platform_key": "p1"})  # last_used written once
    counts = []
    for size in (1, 100):
        # the key with its platform and membership, the page with its joins (compiled
        # once), the kept count
        with django_assert_max_num_queries(3) as captured:
            response = client.get(MANAGE, {"platform_key": "p1", "page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_a_sorted_page_costs_four_queries(world, django_assert_max_num_queries):
    make_many(world, 30)
    client = world.client("platform_admin_p1")
    params = {"platform_key": "p1", "page_size": 10, "sort": "-username"}
    client.get(MANAGE, params)  # last_used written once
    # the key with its platform and membership, the page's ids (compiled once), their
    # rows, the kept count
    with django_assert_max_num_queries(4):
        body = client.get(MANAGE, params).json()
    assert body["count"] == 30
    names = [row["username"] for row in body["results"]]
    assert names == sorted(names, reverse=True)


def test_the_compiled_page_answers_what_the_queryset_answers(world):
    """The first pages in id order, read with the compiled query, are the rows the
    ORM's queryset reads (``suggestion_rows``), written as the serializer writes them."""
    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions import selectors
    from ibl_catalog.suggestions.serializers import build_serializers, represent_rows

    make_many(world, 45)
    client = world.client("platform_admin_p1")
    output = build_serializers(PROGRAM_SUGGESTIONS).output
    for order in ("-id", "id"):
        ordered = ProgramSuggestion.objects.filter(platform=world.p1).order_by(order)
        rows = selectors.suggestion_rows(PROGRAM_SUGGESTIONS, ordered, world.p1)
        for page in (1, 2, 3):
            params = {"platform_key": "p1", "page_size": 20, "page": page}
            if order == "id":
                params["sort"] = "id"
            body = client.get(MANAGE, params).json()
            assert body["count"] == 45
            expected = represent_rows(output, rows[(page - 1) * 20 : page * 20])
            assert body["results"] == expected
            assert len(expected) == (20 if page < 3 else 5)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_rows_are_written_as_drf_writes_them(world, zone):
    """The list's fast path (represent_rows) and DRF's field-by-field path agree, in
    any current time zone, for microseconds, naive and missing timestamps."""
    from datetime import UTC, datetime

    from django.utils import timezone
    from rest_framework import serializers

    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions import selectors
    from ibl_catalog.suggestions.serializers import build_serializers, represent_rows

    made = [suggest(world, "learner_p1", metadata={"n": n}) for n in range(2)]
    ProgramSuggestion.objects.filter(pk=made[0].pk).update(
        created=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    )
    suggestions = ProgramSuggestion.objects.filter(platform=world.p1).order_by("id")
    rows = list(selectors.suggestion_rows(PROGRAM_SUGGESTIONS, suggestions, world.p1))
    rows.append({**rows[1], "created": datetime(2024, 1, 2, 3, 4, 5), "modified": None})
    output = build_serializers(PROGRAM_SUGGESTIONS).output
    with timezone.override(zone):
        drf = [serializers.Serializer.to_representation(output(), row) for row in rows]
        fast = represent_rows(output, rows)
    assert fast == drf
    assert [list(row) for row in fast] == [list(row) for row in drf]  # same key order
    assert fast[0]["created"] == (
        "2024-05-06T07:08:09.123456Z" if zone == "UTC" else "2024-05-06T09:08:09.123456+02:00"
    )
