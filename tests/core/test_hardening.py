"""Bad input found by review and fuzzing: each one a clear 4xx, never a 500, nothing written."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from ibl_catalog.models import ProgramSuggestion
from ibl_core.models import Platform
from tests.support.catalog_helpers import BULK, MANAGE, suggest
from tests.support.factories import MembershipFactory, ProgramFactory

pytestmark = pytest.mark.django_db
NUL_MESSAGE = "Null characters are not allowed"


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1)


def post_json(world, url, raw: str, role="platform_admin_p1"):
    return world.client(role).post(url, raw, content_type="application/json")


@pytest.mark.parametrize("value", [r"x\u0000y", r"\ud800", r"\udfff tail"])
def test_unstorable_text_in_metadata_is_400(world, program, value):
    uid = world.users["learner_p1"].pk
    body = (f'{{"platform_key": "p1", "program_key": "{program.program_key}", '
            f'"user_id": {uid}, "metadata": {{"a": "{value}"}}}}')  # fmt: skip
    response = post_json(world, MANAGE, body)
    assert response.status_code == 400
    assert response.json() == {"metadata": [f"{NUL_MESSAGE} (in metadata.a)."]}
    rows = (f'[{{"program_key": "{program.program_key}", "user_id": {uid}, '
            f'"metadata": {{"{value}": 1}}}}]')  # fmt: skip
    response = post_json(world, BULK, f'{{"platform_key": "p1", "suggestion_data": {rows}}}')
    assert response.status_code == 400
    where = "suggestion_data.0.metadata.<key>"
    assert response.json() == {"suggestion_data": [f"{NUL_MESSAGE} (in {where})."]}
    assert not ProgramSuggestion.objects.exists()


def test_surrogate_pairs_are_fine(world, program):
    uid = world.users["learner_p1"].pk
    body = (f'{{"platform_key": "p1", "program_key": "{program.program_key}", '
            f'"user_id": {uid}, "metadata": {{"emoji": "\\ud83d\\ude00"}}}}')  # fmt: skip
    response = post_json(world, MANAGE, body)
    assert response.status_code == 200
    assert response.json()["metadata"] == {"emoji": "\U0001f600"}


def test_surrogate_in_platform_key_is_400(world):
    response = post_json(world, MANAGE, '{"platform_key": "\\ud800"}')
    assert response.status_code == 400
    assert response.json() == {"platform_key": [f"{NUL_MESSAGE}."]}


def test_deeply_nested_json_is_400(world):
    body = '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = post_json(world, MANAGE, body)
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


@pytest.mark.parametrize(
    "page", ["99999999999999999999", "9223372036854775807", "461168601842738791"]
)
def test_enormous_page_numbers_are_not_a_500(world, page):
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", "page": page})
    assert response.status_code in (400, 404)
    assert "page" in response.json() or response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("value", ["+1", "1_0", "\u0663", " 1", "1 ", "0x1"])
def test_integers_are_ascii_digits_only(world, value):
    response = world.client("platform_admin_p1").get(MANAGE, {"platform_key": "p1", "page": value})
    assert response.status_code == 400
    assert response.json() == {"page": ["A positive integer is required."]}


def test_overlong_search_is_400(world):
    response = world.client("platform_admin_p1").get(
        MANAGE, {"platform_key": "p1", "query": "x" * 100_000}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["query"]


def test_path_user_with_nul_is_404_for_an_admin(world):
    response = world.client("platform_admin_p1").get(
        "/api/credentials/orgs/p1/users/a%00b/issuers/"
    )
    assert response.status_code == 404
    assert response.json()["status"]["success"] is False


def test_delete_does_not_reveal_suggestions_of_platforms_one_only_belongs_to(world):
    """A platform admin of p1 who is a learner on p2 (session login, so no key limit)."""
    admin = world.users["platform_admin_p1"]
    MembershipFactory(user=admin, platform=world.p2)
    foreign = suggest(world, "learner_p2", platform=world.p2)
    client = world.client("anonymous")
    client.force_login(admin)
    other = client.delete(f"{MANAGE}?suggestion_id={foreign.pk}")
    unknown = client.delete(f"{MANAGE}?suggestion_id=999999")
    assert (other.status_code, other.json()) == (unknown.status_code, unknown.json())
    assert other.status_code == 404
    assert ProgramSuggestion.objects.filter(pk=foreign.pk).exists()


def test_learner_deleting_on_own_platform_gets_the_same_404(world):
    suggestion = suggest(world, "learner_other_department")
    response = world.client("learner_p1").delete(f"{MANAGE}?suggestion_id={suggestion.pk}")
    assert response.status_code == 404
    assert ProgramSuggestion.objects.filter(pk=suggestion.pk).exists()


def test_department_admin_deletes_without_platform_key_in_department_mode(world):
    suggestion = suggest(world, "learner_p1")
    client = world.client("department_admin")
    assert client.delete(f"{MANAGE}?suggestion_id={suggestion.pk}").status_code == 404
    response = client.delete(f"{MANAGE}?suggestion_id={suggestion.pk}&department_mode=true")
    assert response.status_code == 200


def test_mpo_photo_upload_is_stored_as_jpeg(world):
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (20, 10), "red"), Image.new("RGB", (20, 10), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    buffer.seek(0)
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    buffer.name = "photo.jpg"
    uid = world.users["learner_p1"].pk
    response = world.client("learner_p1").post(
        f"/api/credentials/orgs/p1/users/{uid}/images/", {"image": buffer}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["image"].endswith(".jpg")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ibl_api_key", "u", "--platform", "p1", "--expires-in-days", "99999999999"],
         "between 1 and 36500"),
        (["ibl_platform", "k" * 300], "KEY must be at most 100"),
        (["ibl_platform", "p1", "--org", "o" * 300], "--org must be at most 100"),
        (["ibl_user", "u" * 300], "USERNAME must be at most 150"),
        (["ibl_user", "u", "--email", "not-an-email"], "is not an email address"),
    ],
)  # fmt: skip
def test_commands_refuse_values_the_database_cannot_hold(world, args, message):
    before = Platform.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    assert Platform.objects.count() == before
