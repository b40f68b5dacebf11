"""POST and DELETE /api/catalog/suggestions/program/manage/ (catalog.md)."""

from __future__ import annotations

import pytest

from ibl_catalog.models import ProgramSuggestion
from tests.support.catalog_helpers import MANAGE, expected, suggest
from tests.support.factories import MembershipFactory, ProgramFactory, UserFactory, issue_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1, program_key="program-v1:org+ds+run", name="DS")


def post(world, body, role="platform_admin_p1", **params):
    return world.client(role).post(MANAGE + ("?" + "&".join(f"{k}={v}" for k, v in params.items())
                                            if params else ""), body, format="json")  # fmt: skip


def body_for(world, program, user="learner_p1", **extra):
    return {"platform_key": "p1", "program_key": program.program_key,
            "user_id": world.users[user].pk, **extra}  # fmt: skip


def test_create_answers_200_with_the_object_and_defaults(world, program):
    response = post(world, body_for(world, program))
    assert response.status_code == 200
    suggestion = ProgramSuggestion.objects.get()
    assert response.json() == expected(suggestion)
    assert (suggestion.accepted, suggestion.visible, suggestion.direct) == (False, True, True)
    assert suggestion.metadata == {}
    assert suggestion.suggested_by == world.users["platform_admin_p1"]


def test_new_suggestion_has_equal_created_and_modified(world, program):
    body = post(world, body_for(world, program)).json()
    assert body["created"] == body["modified"]
    again = post(world, body_for(world, program, accepted=True)).json()
    assert again["created"] == body["created"]
    assert again["modified"] > body["modified"]


def test_update_changes_only_the_fields_sent(world, program):
    first = post(world, body_for(world, program, accepted=True, visible=False, direct=False,
                                 metadata={"a": 1})).json()  # fmt: skip
    response = post(world, body_for(world, program, metadata={"b": 2}))
    assert response.status_code == 200
    suggestion = ProgramSuggestion.objects.get()
    assert response.json() == expected(suggestion)
    assert response.json()["id"] == first["id"]
    # direct is the exception: a direct write without it makes the suggestion direct
    # (a group gave it, an admin now suggests it themselves: suggestions.md)
    assert (suggestion.accepted, suggestion.visible, suggestion.direct) == (True, False, True)
    assert suggestion.metadata == {"b": 2}  # replaced, not merged
    assert response.json()["created"] == first["created"]


def test_a_write_runs_a_fixed_number_of_queries(world, program, django_assert_max_num_queries):
    """Key, platform, membership, the member, the item, then the upsert and its event
    in a transaction (the test's transaction turns it into a savepoint and its release):
    the answer and the event are the row the upsert returned, nothing is read back."""
    post(
        world, body_for(world, program, user="learner_other_department")
    )  # the key's last_used, once
    with django_assert_max_num_queries(9):
        created = post(world, body_for(world, program, metadata={"a": 1}))
    with django_assert_max_num_queries(9):
        updated = post(world, body_for(world, program, metadata={"b": 2}))
    assert (created.status_code, updated.status_code) == (200, 200)
    assert updated.json() == expected(ProgramSuggestion.objects.get(pk=created.json()["id"]))


PLATFORM_FIELDS = ("platform_key", "platform_org", "department_mode")


@pytest.mark.parametrize(
    "body",
    [
        {"platform_key": "p1", "user_id": 5, "program_key": "program-v1:a+b+c"},
        {"platform_org": "org-one", "user_id": "5", "program_key": "k", "extra": [1]},
        {
            "user_id": 5,
            "program_key": "k",
            "accepted": True,
            "visible": False,
            "direct": False,
            "metadata": {"a": [1, 2.5, None], "b": {"c": "d"}},
            "department_mode": True,
        },
        {
            "user_id": 5,
            "program_key": "k",
            "username": "learner_p1",
            "email": "Learner_P1@example.com",
            "suggested_by": "platform_admin_p1",
        },
        {"user_id": 5, "program_key": "k", "accepted": "true", "visible": 0, "metadata": {}},
        {"platform_key": " p1 ", "user_id": 5, "program_key": "k"},  # the serializer trims
        {"platform_key": 7, "user_id": 5, "program_key": "k", "department_mode": "true"},
    ],
)
def test_a_valid_body_is_read_as_the_write_serializer_reads_it(body):
    """The single write checks a plain body with the kind's rules alone
    (views.valid_write): the values are the serializer's, but for the platform fields,
    which the write does not read (get_platform reads the request)."""
    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions.serializers import build_serializers
    from ibl_catalog.suggestions.views import valid_write

    serializers = build_serializers(PROGRAM_SUGGESTIONS)
    reference = serializers.write(data=body)
    assert reference.is_valid(), reference.errors
    expected = {k: v for k, v in reference.validated_data.items() if k not in PLATFORM_FIELDS}
    got = valid_write(PROGRAM_SUGGESTIONS, serializers, body)
    assert {k: v for k, v in got.items() if k not in PLATFORM_FIELDS} == expected


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": 5},
        {"user_id": None, "program_key": "k"},
        {"user_id": 5, "program_key": "k", "platform_key": ""},
        {"user_id": 5, "program_key": "k", "platform_key": "p\x00"},
        {"user_id": 5, "program_key": "k", "department_mode": "maybe"},
        {"user_id": 5, "program_key": "k", "suggested_by": "x" * 151},
    ],
)
def test_an_invalid_body_answers_the_serializer_s_errors(body):
    from rest_framework.exceptions import ValidationError

    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions.serializers import build_serializers
    from ibl_catalog.suggestions.views import valid_write

    serializers = build_serializers(PROGRAM_SUGGESTIONS)
    reference = serializers.write(data=body)
    assert not reference.is_valid()
    with pytest.raises(ValidationError) as raised:
        valid_write(PROGRAM_SUGGESTIONS, serializers, body)
    assert raised.value.detail == reference.errors


def test_resending_with_no_optional_field_changes_nothing(world, program):
    first = post(world, body_for(world, program, accepted=True)).json()
    second = post(world, body_for(world, program)).json()
    assert second == first
    assert ProgramSuggestion.objects.count() == 1


def test_user_id_as_string_of_digits(world, program):
    body = body_for(world, program)
    body["user_id"] = str(body["user_id"])
    assert post(world, body).status_code == 200


def test_query_parameters_are_accepted_and_ignored(world, program):
    response = post(world, body_for(world, program), sort="nonsense", page="x", query="zzz")
    assert response.status_code == 200


def test_username_and_email_must_belong_to_the_user(world, program):
    ok = post(world, body_for(world, program, username="learner_p1",
                              email="LEARNER_P1@example.com"))  # fmt: skip
    assert ok.status_code == 200
    ProgramSuggestion.objects.all().delete()
    response = post(world, body_for(world, program, username="platform_admin_p1"))
    assert response.status_code == 400
    assert response.json() == {
        "username": [f"Does not match the user of user_id {world.users['learner_p1'].pk}."]
    }
    response = post(world, body_for(world, program, email="someone@example.com"))
    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert not ProgramSuggestion.objects.exists()


def test_unknown_user_and_non_member_get_the_same_400(world, program):
    outsider = UserFactory()
    bodies = [body_for(world, program) | {"user_id": 999_999},
              body_for(world, program) | {"user_id": outsider.pk},
              body_for(world, program, user="learner_p2")]  # fmt: skip
    answers = [post(world, body) for body in bodies]
    assert {a.status_code for a in answers} == {400}
    assert all(a.json() == {"user_id": ["No such user on this platform."]} for a in answers)
    assert not ProgramSuggestion.objects.exists()


def test_inactive_member_is_not_found(world, program):
    world.users["learner_p1"].platform_memberships.update(active=False)
    assert post(world, body_for(world, program)).status_code == 400


def test_program_of_another_platform_or_disabled_is_400(world, program):
    foreign = ProgramFactory(platform=world.p2)
    disabled = ProgramFactory(platform=world.p1, enabled=False)
    for other in (foreign, disabled):
        response = post(world, body_for(world, other))
        assert response.status_code == 400
        assert response.json() == {"program_key": ["No such program on this platform."]}
    assert not ProgramSuggestion.objects.exists()


def test_suggested_by_names_a_member(world, program):
    response = post(world, body_for(world, program, suggested_by="department_admin"))
    assert response.status_code == 200
    assert ProgramSuggestion.objects.get().suggested_by == world.users["department_admin"]
    response = post(world, body_for(world, program, suggested_by="learner_p2"))
    assert response.status_code == 400
    assert response.json() == {"suggested_by": ["No such user on this platform."]}
    assert ProgramSuggestion.objects.get().suggested_by == world.users["department_admin"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_id": None}, "user_id"),
        ({"user_id": "abc"}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"user_id": 1.5}, "user_id"),
        ({"user_id": -3}, "user_id"),
        ({"user_id": 10**30}, "user_id"),
        ({"program_key": ""}, "program_key"),
        ({"program_key": None}, "program_key"),
        ({"program_key": "x" * 256}, "program_key"),
        ({"accepted": "perhaps"}, "accepted"),
        ({"visible": [1]}, "visible"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": "text"}, "metadata"),
        ({"email": "not-an-email"}, "email"),
        ({"username": 5 * ["x"]}, "username"),
    ],
)
def test_bad_fields_are_400_naming_the_field(world, program, change, field):
    response = post(world, body_for(world, program) | change)
    assert response.status_code == 400
    assert field in response.json()
    assert not ProgramSuggestion.objects.exists()


@pytest.mark.parametrize("missing", ["user_id", "program_key"])
def test_required_fields(world, program, missing):
    body = body_for(world, program)
    del body[missing]
    response = post(world, body)
    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_non_object_and_malformed_bodies(world):
    client = world.client("platform_admin_p1")
    assert client.post(MANAGE, [1], format="json").status_code == 400
    assert client.post(MANAGE, "{oops", content_type="application/json").status_code == 400
    response = client.post(MANAGE, "platform_key=p1", content_type="text/plain")
    assert response.status_code == 415


def test_department_admin_may_target_only_their_departments(world, program):
    # department_mode in the query string of a POST is ignored (catalog.md): 403
    ignored = post(world, body_for(world, program), role="department_admin", department_mode="true")
    assert ignored.status_code == 403
    ok = post(world, body_for(world, program, department_mode=True), role="department_admin")
    assert ok.status_code == 200
    body = body_for(world, program, user="learner_other_department", department_mode=True)
    response = post(world, body, role="department_admin")
    assert response.status_code == 403
    assert ProgramSuggestion.objects.count() == 1


def test_cross_tenant_post_is_refused(world, program):
    response = post(world, body_for(world, program), role="platform_admin_p2")
    assert response.status_code == 403
    assert not ProgramSuggestion.objects.exists()


# DELETE


def delete(world, role="platform_admin_p1", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return world.client(role).delete(f"{MANAGE}?{query}")


def test_delete_answers_200_and_removes_the_row(world):
    suggestion = suggest(world, "learner_p1")
    response = delete(world, suggestion_id=suggestion.pk, platform_key="p1")
    assert response.status_code == 200
    assert response.json() == {"detail": "Suggestion deleted.", "suggestion_id": suggestion.pk}
    assert not ProgramSuggestion.objects.exists()


def test_delete_without_platform_key_uses_the_suggestions_platform(world):
    suggestion = suggest(world, "learner_p1")
    assert delete(world, suggestion_id=suggestion.pk).status_code == 200
    assert not ProgramSuggestion.objects.exists()


@pytest.mark.parametrize(
    ("role", "params"),
    [
        ("platform_admin_p1", {"suggestion_id": 999_999}),
        ("platform_admin_p1", {"suggestion_id": 999_999, "platform_key": "p1"}),
        ("platform_admin_p2", {}),  # another tenant's suggestion, no platform_key
        ("platform_admin_p1", {"platform_key": "p2"}),  # platform_key that does not match
        ("learner_p2", {}),
        ("dm_admin", {"platform_key": "p2"}),
    ],
)
def test_delete_of_missing_or_foreign_suggestion_is_404(world, role, params):
    suggestion = suggest(world, "learner_p1")
    params = {"suggestion_id": suggestion.pk} | params
    if role == "platform_admin_p1" and params.get("platform_key") == "p2":
        MembershipFactory(user=world.users[role], platform=world.p2, is_admin=True)
        world.keys[role] = issue_key(world.users[role], world.p2)
    response = delete(world, role=role, **params)
    assert response.status_code == 404
    assert ProgramSuggestion.objects.count() == 1


def test_unknown_and_foreign_suggestion_answers_are_identical(world):
    foreign = suggest(world, "learner_p2", platform=world.p2)
    unknown = delete(world, suggestion_id=999_999)
    other = delete(world, suggestion_id=foreign.pk)
    assert (unknown.status_code, unknown.json()) == (other.status_code, other.json())
    assert ProgramSuggestion.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("value", ["", "abc", "0", "-1", "1.5"])
def test_bad_suggestion_id_is_400(world, value):
    response = delete(world, suggestion_id=value, platform_key="p1")
    assert response.status_code == 400
    assert "suggestion_id" in response.json()


def test_missing_suggestion_id_is_400(world):
    response = delete(world, platform_key="p1")
    assert response.status_code == 400
    assert response.json() == {"suggestion_id": ["This query parameter is required."]}


def test_department_admin_deletes_only_their_departments_suggestions(world):
    mine = suggest(world, "learner_p1")
    theirs = suggest(world, "learner_other_department")
    assert delete(world, "department_admin", suggestion_id=theirs.pk, platform_key="p1",
                  department_mode="true").status_code == 404  # fmt: skip
    assert delete(world, "department_admin", suggestion_id=mine.pk,
                  department_mode="true").status_code == 200  # fmt: skip
    assert list(ProgramSuggestion.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_platform_key_in_the_query_string_of_a_post_is_taken(world, program):
    body = body_for(world, program)
    del body["platform_key"]
    response = world.client("platform_admin_p1").post(
        f"{MANAGE}?platform_key=p1", body, format="json"
    )
    assert response.status_code == 200
    assert response.json()["platform_key"] == "p1"
    assert ProgramSuggestion.objects.get().platform == world.p1


@pytest.mark.parametrize(
    ("query", "field"),
    [("platform_key=p2", "platform_key"), ("platform_org=nope", "platform_org")],
)
def test_query_string_and_body_naming_different_platforms_is_400(world, program, query, field):
    body = body_for(world, program) | {"platform_org": world.p1.org}
    response = world.client("platform_admin_p1").post(f"{MANAGE}?{query}", body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["The query string and the body name different platforms."]}
    assert not ProgramSuggestion.objects.exists()


def test_same_platform_in_query_string_and_body_is_fine(world, program):
    response = world.client("platform_admin_p1").post(
        f"{MANAGE}?platform_key=p1&platform_org={world.p1.org}",
        body_for(world, program),
        format="json",
    )
    assert response.status_code == 200
