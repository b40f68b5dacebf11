"""Course credential import/export: the document, round trips, idempotency, failures.

``GET /api/credentials/exim/credentials/course/{course_id}/export/`` and
``POST .../import/`` (DM admins only). The last tests drive both through the published
client ``iblai`` (which declares no body and no answer model: bodies are parsed as JSON).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from ibl_core.models import Event
from ibl_credentials.exim import contributors
from ibl_credentials.exim.services import derived_entity_id
from ibl_credentials.images import pipeline
from ibl_credentials.images.services import upload_image
from ibl_credentials.models import (
    Assertion,
    Credential,
    CredentialItem,
    Issuer,
    UploadedImage,
)
from tests.support.credentials_factories import (
    AssertionFactory,
    CredentialFactory,
    CredentialItemFactory,
    IssuerFactory,
    encode,
    png_with_text,
)
from tests.support.factories import CourseFactory, ProgramFactory

FORMAT = {"format": "ibl-credentials-export", "version": 1}


def export_url(course: str) -> str:
    return f"/api/credentials/exim/credentials/course/{course}/export/"


def import_url(course: str) -> str:
    return f"/api/credentials/exim/credentials/course/{course}/import/"


def upload(platform, color=(200, 30, 30)) -> UploadedImage:
    """An image uploaded to ``platform`` through the real pipeline (a file in storage)."""
    processed = pipeline.process_image(
        ContentFile(encode(Image.new("RGB", (16, 16), color), "PNG"))
    )
    return upload_image(platform=platform, uploaded_by=None, name="badge", processed=processed)


def sha256_of(image: UploadedImage) -> str:
    with image.file.open("rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def snapshot() -> dict[str, Any]:
    """Everything an import may write, as comparable values."""
    return {
        "credentials": sorted(
            Credential.objects.values_list(
                "entity_id",
                "platform__key",
                "issuer__entity_id",
                "name",
                "description",
                "tags",
                "metadata",
                "expires_amount",
                "expires_duration",
                "icon_image",
                "public",
                "modified",
            )
        ),
        "items": sorted(CredentialItem.objects.values_list("credential__entity_id", "kind", "key")),
        "issuers": sorted(Issuer.objects.values_list("entity_id", "platform__key", "name")),
        "images": sorted(UploadedImage.objects.values_list("file", flat=True)),
        "events": Event.objects.count(),
    }


@pytest.fixture
def course_world(world):
    """On p1: a course with two credentials (one with an image, alignments, an expiry,
    a program link), an unlinked credential, an assertion; on p2: a course."""
    course = CourseFactory(platform=world.p1, course_id="course-v1:org+exim+2026")
    other_course = CourseFactory(platform=world.p1, course_id="course-v1:org+other+2026")
    p2_course = CourseFactory(platform=world.p2, course_id="course-v1:p2+exim+2026")
    program = ProgramFactory(platform=world.p1, program_key="program-v1:org+prog+2026")
    issuer = IssuerFactory(
        platform=world.p1,
        entity_id="acme",
        name="Acme Academy",
        url="https://acme.test",
        email="badges@acme.test",
    )
    image = upload(world.p1)
    first = CredentialFactory(
        issuer=issuer,
        entity_id="cred-first",
        name="Data Analysis",
        description="Analyses data.",
        criteria_url="https://acme.test/criteria",
        criteria_narrative="Pass the course.",
        tags=["data", "python"],
        metadata={
            "level": 2,
            "alignment": [{"targetName": "ESCO: data", "targetUrl": "https://esco.test/1"}],
        },
        expires_amount=2,
        expires_duration="years",
        icon_image=image.file.name,
        thumbnail_image="https://cdn.example/thumb.png",
    )
    CredentialItemFactory(credential=first, kind="course", key=course.course_id)
    CredentialItemFactory(credential=first, kind="program", key=program.program_key)
    second = CredentialFactory(issuer=issuer, entity_id="cred-second", name="Participation")
    CredentialItemFactory(credential=second, kind="course", key=course.course_id)
    unlinked = CredentialFactory(issuer=issuer, entity_id="cred-unlinked")
    CredentialItemFactory(credential=unlinked, kind="course", key=other_course.course_id)
    AssertionFactory(credential=first, recipient=world.users["learner_p1"], entity_id="asrt-1")
    world.course, world.other_course, world.p2_course = course, other_course, p2_course
    world.image, world.first, world.second = image, first, second
    return world


def export(world, course=None, **query) -> dict[str, Any]:
    response = world.client("dm_admin").get(export_url(course or world.course.course_id), query)
    assert response.status_code == 200, response.content
    return response.json()


def send(world, course: str, document: Any, role: str = "dm_admin"):
    return world.client(role).post(import_url(course), document, format="json")


# Export ------------------------------------------------------------------------------


def test_the_export_document_of_a_course(course_world):
    w = course_world
    document = export(w)
    assert set(document) == {"format", "version", "course", "exported_at", "credentials"}
    assert {key: document[key] for key in ("format", "version", "course")} == {
        **FORMAT,
        "course": w.course.course_id,
    }
    assert document["exported_at"].endswith("Z")
    issuer = {
        "entityId": "acme",
        "name": "Acme Academy",
        "url": "https://acme.test",
        "email": "badges@acme.test",
        "iconImage": None,
        "allowed_template_tags": None,
    }
    assert document["credentials"] == [
        {
            "entityId": "cred-first",
            "platform": "p1",
            "name": "Data Analysis",
            "description": "Analyses data.",
            "credentialType": "badge",
            "criteriaUrl": "https://acme.test/criteria",
            "criteriaNarrative": "Pass the course.",
            "signal": "COURSE_PASSED",
            "html_template": "",
            "css_template": "",
            "tags": ["data", "python"],
            "metadata": {"level": 2},
            "alignments": [{"targetName": "ESCO: data", "targetUrl": "https://esco.test/1"}],
            "expires": {"amount": 2, "duration": "years"},
            "public": True,
            "iconImage": {
                "url": f"http://testserver/media/{w.image.file.name}",
                "sha256": sha256_of(w.image),
            },
            "backgroundImage": None,
            "thumbnailImage": {"url": "https://cdn.example/thumb.png", "sha256": None},
            "issuer": issuer,
            "courses": [w.course.course_id],
            "programs": ["program-v1:org+prog+2026"],
            "pathways": [],
            "provider_mappings": [],
        },
        {
            "entityId": "cred-second",
            "platform": "p1",
            "name": "Participation",
            "description": "",
            "credentialType": "badge",
            "criteriaUrl": "",
            "criteriaNarrative": "",
            "signal": "COURSE_PASSED",
            "html_template": "",
            "css_template": "",
            "tags": [],
            "metadata": {},
            "alignments": [],
            "expires": None,
            "public": True,
            "iconImage": None,
            "backgroundImage": None,
            "thumbnailImage": None,
            "issuer": issuer,
            "courses": [w.course.course_id],
            "programs": [],
            "pathways": [],
            "provider_mappings": [],
        },
    ]


def test_the_export_carries_no_assertion_key_or_secret(course_world):
    w = course_world
    text = json.dumps(export(w, images="inline"))
    for secret in ("asrt-1", "learner_p1", w.keys["dm_admin"], "recipient", "salt", "private"):
        assert secret not in text


def test_inline_images_carry_the_bytes(course_world):
    w = course_world
    [first, _] = export(w, images="inline")["credentials"]
    with w.image.file.open("rb") as file:
        content = file.read()
    assert first["iconImage"]["data"] == "data:image/png;base64," + base64.b64encode(
        content
    ).decode("ascii")
    assert "data" not in first["thumbnailImage"]  # an external URL is never downloaded


def test_the_export_of_one_platform_and_of_an_unknown_course(course_world):
    w = course_world
    p2_credential = CredentialFactory(issuer=IssuerFactory(platform=w.p2), entity_id="p2-cred")
    CredentialItemFactory(credential=p2_credential, kind="course", key=w.course.course_id)
    assert [c["entityId"] for c in export(w)["credentials"]] == [
        "cred-first",
        "cred-second",
        "p2-cred",
    ]
    assert [c["entityId"] for c in export(w, platform="org-two")["credentials"]] == ["p2-cred"]
    assert export(w, course="course-v1:none+none+1")["credentials"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"images": "base64"}, "images"), ({"platform": "nowhere"}, "platform")],
)
def test_an_invalid_export_query_is_400(course_world, query, field):
    response = course_world.client("dm_admin").get(export_url("c"), query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_export_costs_the_same_queries_for_two_credentials_or_twenty(
    course_world, django_assert_max_num_queries
):
    w = course_world
    client = w.client("dm_admin")
    with CaptureQueriesContext(connection) as small:
        assert client.get(export_url(w.course.course_id)).status_code == 200
    for number in range(18):
        credential = CredentialFactory(issuer=w.first.issuer, entity_id=f"more-{number}")
        CredentialItemFactory(credential=credential, kind="course", key=w.course.course_id)
        CredentialItemFactory(credential=credential, kind="program", key=f"p-{number}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(export_url(w.course.course_id))
    assert len(response.json()["credentials"]) == 20


# Import: round trips -----------------------------------------------------------------


def test_importing_an_export_again_changes_nothing(course_world):
    w = course_world
    document = export(w)
    before = snapshot()
    response = send(w, w.course.course_id, document)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "course": w.course.course_id,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "failed": 0,
        "results": [
            {
                "sourceEntityId": "cred-first",
                "entityId": "cred-first",
                "platform": "p1",
                "status": "unchanged",
            },
            {
                "sourceEntityId": "cred-second",
                "entityId": "cred-second",
                "platform": "p1",
                "status": "unchanged",
            },
        ],
    }
    assert snapshot() == before


def test_an_import_updates_what_the_document_changed(course_world):
    w = course_world
    document = export(w)
    document["credentials"][1]["name"] = "Participation (2027)"
    document["credentials"][1]["tags"] = ["new"]
    document["credentials"][1]["alignments"] = [{"targetName": "X"}]
    response = send(w, w.course.course_id, document)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["unchanged", "updated"]
    second = Credential.objects.get(entity_id="cred-second")
    assert (second.name, second.tags, second.metadata) == (
        "Participation (2027)",
        ["new"],
        {"alignment": [{"targetName": "X"}]},
    )
    before = snapshot()
    assert send(w, w.course.course_id, document).json()["unchanged"] == 2
    assert snapshot() == before


def test_a_copy_for_another_course_of_the_same_platform(course_world):
    w = course_world
    document = export(w)
    before_originals = snapshot()["credentials"]
    response = send(w, w.other_course.course_id, {**document, "new_ids": True})
    assert response.status_code == 201, response.json()
    copies = [r["entityId"] for r in response.json()["results"]]
    assert copies == [
        derived_entity_id(source, w.p1, w.other_course.course_id)
        for source in ("cred-first", "cred-second")
    ]
    first_copy = Credential.objects.get(entity_id=copies[0])
    assert (first_copy.platform, first_copy.issuer.entity_id, first_copy.name) == (
        w.p1,
        "acme",
        "Data Analysis",
    )
    assert first_copy.icon_image == w.image.file.name  # the platform's own image, reused
    assert sorted(first_copy.items.values_list("kind", "key")) == [
        ("course", w.other_course.course_id),
        ("program", "program-v1:org+prog+2026"),
    ]
    assert [c for c in snapshot()["credentials"] if c[0] in ("cred-first", "cred-second")] == (
        before_originals[:2]
    )
    events = Event.objects.filter(type="credential.created").order_by("id")
    assert [event.object_id for event in events] == copies

    before = snapshot()
    again = send(w, w.other_course.course_id, {**document, "new_ids": True})
    assert again.status_code == 200
    assert again.json()["unchanged"] == 2
    assert snapshot() == before


def test_without_new_ids_a_document_moves_the_credentials_to_the_path_course(course_world):
    w = course_world
    response = send(w, w.other_course.course_id, export(w))
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["updated", "updated"]
    assert list(w.second.items.values_list("key", flat=True)) == [w.other_course.course_id]


def test_a_round_trip_to_another_platform(course_world):
    w = course_world
    document = export(w)
    document["credentials"][0]["programs"] = []  # p2 has no such program
    body = {
        **document,
        "target_platform": "p2",
        "target_course": w.p2_course.course_id,
        "new_ids": True,
    }
    response = send(w, w.course.course_id, body)
    assert response.status_code == 201, response.json()
    assert [r["platform"] for r in response.json()["results"]] == ["p2", "p2"]
    copy = Credential.objects.get(entity_id=response.json()["results"][0]["entityId"])
    issuer = copy.issuer
    # The issuer is made on p2 from the reference (its entityId is p1's: a new one).
    assert (issuer.platform, issuer.name, issuer.url, issuer.email) == (
        w.p2,
        "Acme Academy",
        "https://acme.test",
        "badges@acme.test",
    )
    assert issuer.entity_id != "acme"
    # p1's image is copied into p2's uploads, with the same pixels.
    assert copy.icon_image.startswith("uploaded_images/p2/")
    copied = UploadedImage.objects.get(file=copy.icon_image)
    assert (copied.platform, copied.width, copied.height) == (w.p2, 16, 16)
    assert copy.thumbnail_image == "https://cdn.example/thumb.png"
    assert (copy.metadata, copy.expires_amount, copy.expires_duration) == (
        {"level": 2, "alignment": document["credentials"][0]["alignments"]},
        2,
        "years",
    )
    assert list(copy.items.values_list("kind", "key")) == [("course", w.p2_course.course_id)]
    assert not Assertion.objects.filter(credential=copy).exists()

    before = snapshot()
    again = send(w, w.course.course_id, body)
    assert again.status_code == 200
    assert again.json()["unchanged"] == 2
    assert snapshot() == before


def test_an_export_imports_into_another_server(course_world, media_root):
    """A fresh server: nothing of p1's is there; the image travels inline."""
    w = course_world
    document = export(w, images="inline")
    with w.image.file.open("rb") as file:
        original = file.read()
    for entry in document["credentials"]:  # the exporting server's host, not this one
        if entry["iconImage"]:
            entry["iconImage"]["url"] = entry["iconImage"]["url"].replace(
                "http://testserver", "https://old.example"
            )
    Assertion.objects.all().delete()
    Credential.objects.all().delete()
    Issuer.objects.all().delete()
    w.image.file.delete()
    UploadedImage.objects.all().delete()

    response = send(w, w.course.course_id, document)
    assert response.status_code == 201, response.json()
    first = Credential.objects.get(entity_id="cred-first")
    assert (first.platform, first.issuer.entity_id, first.issuer.name) == (
        w.p1,
        "acme",
        "Acme Academy",
    )
    stored = UploadedImage.objects.get(file=first.icon_image)
    with stored.file.open("rb") as file:
        assert file.read() == original  # re-encoding our own PNG gives the same bytes

    before = snapshot()
    assert send(w, w.course.course_id, document).json()["unchanged"] == 2
    assert snapshot() == before


def test_an_image_of_another_host_without_its_bytes_stays_a_reference(course_world):
    w = course_world
    document = export(w)
    document["credentials"][1]["iconImage"] = {
        "url": "https://old.example/media/a.png",
        "sha256": "0" * 64,
    }
    response = send(w, w.course.course_id, document)
    assert response.status_code == 200
    w.second.refresh_from_db()
    assert w.second.icon_image == "https://old.example/media/a.png"


# Import: failures ---------------------------------------------------------------------


def test_207_when_some_credentials_fail_and_nothing_of_them_is_left(course_world, media_root):
    w = course_world
    document = export(w, images="inline")
    # a third credential, which succeeds
    third = {**copy.deepcopy(document["credentials"][1]), "entityId": "cred-third"}
    body = {**document, "target_platform": "p2", "target_course": w.p2_course.course_id}
    body["new_ids"] = True
    # the second fails with a new issuer and an image copy, which must not stay
    body["credentials"][1]["issuer"] = {"entityId": "new-issuer", "name": "Brand New"}
    body["credentials"][1]["iconImage"] = body["credentials"][0]["iconImage"]
    body["credentials"][1]["programs"] = ["program-v1:nowhere+1"]
    # the first keeps p1's program, unknown on p2: it fails too
    body["credentials"].append(third)
    files_before = sorted(p.name for p in media_root.rglob("*.png"))

    response = send(w, w.course.course_id, body)
    assert response.status_code == 207, response.json()
    answer = response.json()
    assert (answer["created"], answer["failed"]) == (1, 2)
    [first, second, created] = answer["results"]
    assert first == {
        "sourceEntityId": "cred-first",
        "entityId": None,
        "platform": "p2",
        "status": "failed",
        "errors": {
            "programs": ["Unknown program keys on this platform: 'program-v1:org+prog+2026'."]
        },
    }
    assert second["status"] == "failed"
    assert list(second["errors"]) == ["programs"]
    assert created["status"] == "created"
    # Nothing of the failed ones: no credential, no issuer "Brand New", no image copy.
    assert list(Credential.objects.filter(platform=w.p2).values_list("entity_id", flat=True)) == [
        created["entityId"]
    ]
    assert not Issuer.objects.filter(name="Brand New").exists()
    assert not UploadedImage.objects.filter(platform=w.p2).exists()
    assert sorted(p.name for p in media_root.rglob("*.png")) == files_before


def test_207_for_entity_ids_of_another_platform(course_world):
    w = course_world
    before = snapshot()
    response = send(
        w,
        w.course.course_id,
        {**export(w), "target_platform": "p2", "target_course": w.p2_course.course_id},
    )
    assert response.status_code == 207
    assert [r["errors"] for r in response.json()["results"]] == [
        {
            "entityId": [
                'A credential of another platform has this entityId: send "new_ids": true to '
                "import a copy with a new one."
            ]
        }
    ] * 2
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"iconImage": {"url": "javascript:alert(1)"}},
            {"iconImage": ["url must be an absolute http or https URL."]},
        ),
        (
            {"iconImage": "a.png"},
            {
                "iconImage": [
                    'Expected null or {"url": <http(s) URL>, "sha256": <hex or null>, '
                    '"data": <data URL>}.'
                ]
            },
        ),
        ({"iconImage": {"data": "data:image/png;base64,AAAA", "sha256": None}}, None),
        (
            {"iconImage": {"url": "http://testserver/media/x.png", "sha256": None}},
            {"iconImage": ["No image at http://testserver/media/x.png on this server."]},
        ),
        (
            {"iconImage": {"url": "http://testserver/media/%2E%2E/%2E%2E/etc/passwd"}},
            {
                "iconImage": [
                    "No image at http://testserver/media/%2E%2E/%2E%2E/etc/passwd on this server."
                ]
            },
        ),
        (
            {"entityId": "bad id"},
            {"entityId": ["Use only letters, digits, '-' and '_' (a URL-safe identifier)."]},
        ),
        (
            {"platform": "nowhere"},
            {
                "platform": [
                    "No platform 'nowhere' on this server: send target_platform to choose one."
                ]
            },
        ),
        (
            {"issuer": "acme"},
            {"issuer": ['Expected {"entityId", "name", "url", "email", "iconImage", ...}.']},
        ),
        ({"alignments": {}}, {"alignments": ["Must be a list."]}),
        ({"issuer": {"entityId": "zz", "name": "New", "email": "no"}}, None),
        ({"issuer": {"entityId": "zz"}}, {"issuer": {"name": ["The issuer needs a name."]}}),
        ({"courses": "course-v1:org+exim+2026"}, None),
        ({"metadata": []}, None),
        ({"expires": {"amount": 0, "duration": "days"}}, None),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)
def test_an_invalid_credential_fails_alone(course_world, change, errors):
    w = course_world
    document = export(w)
    document["credentials"][1].update(change)
    before = snapshot()
    response = send(w, w.course.course_id, document)
    assert response.status_code == 207, response.json()
    [first, second] = response.json()["results"]
    assert first["status"] == "unchanged"
    assert second["status"] == "failed"
    if errors is not None:
        assert second["errors"] == errors
    else:
        assert list(second["errors"]) == [next(iter(change))]
    assert snapshot() == before


def test_an_image_whose_hash_does_not_match_fails(course_world):
    w = course_world
    document = export(w, images="inline")
    icon = document["credentials"][0]["iconImage"]
    icon["sha256"] = "f" * 64
    response = send(w, w.course.course_id, {**document, "target_platform": "p2", "new_ids": True})
    assert response.status_code == 207
    assert response.json()["results"][0]["errors"]["iconImage"] == [
        "The image's content does not match its sha256: the document or the file changed "
        "since the export."
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "non_field_errors"),
        ("text", "non_field_errors"),
        ({}, "format"),
        ({**FORMAT, "format": "other"}, "format"),
        ({**FORMAT, "version": 2}, "version"),
        ({**FORMAT, "version": "1"}, "version"),
        ({**FORMAT, "version": True}, "version"),
        ({**FORMAT, "course": 1}, "course"),
        ({**FORMAT, "credentials": {}}, "credentials"),
        ({**FORMAT, "credentials": [1]}, "credentials"),
        ({**FORMAT, "credentials": [{"entityId": "a"}, {"entityId": "a"}]}, "credentials"),
        ({**FORMAT, "new_ids": "yes"}, "new_ids"),
        ({**FORMAT, "target_platform": "nowhere"}, "target_platform"),
        ({**FORMAT, "target_course": "elsewhere"}, "target_course"),
    ],
)
def test_an_invalid_document_is_400_and_imports_nothing(course_world, body, field):
    w = course_world
    if isinstance(body, dict) and body and "credentials" not in body:
        body = {"course": w.course.course_id, "credentials": [], **body}
    elif isinstance(body, dict) and body:
        body = {"course": w.course.course_id, **body}
    before = snapshot()
    response = send(w, w.other_course.course_id, body)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert snapshot() == before


def test_the_version_message_says_what_is_read(course_world):
    w = course_world
    response = send(w, "c", {**FORMAT, "version": 2, "course": "c", "credentials": []})
    assert response.json() == {"version": ["Unsupported version 2: this server reads version 1."]}


def test_malformed_json_and_too_many_credentials(course_world, settings):
    w = course_world
    client = w.client("dm_admin")
    response = client.post(import_url("c"), "{", content_type="application/json")
    assert response.status_code == 400
    many = [{"entityId": f"c{n}"} for n in range(1001)]
    response = send(w, "c", {**FORMAT, "course": "c", "credentials": many})
    assert response.status_code == 400
    assert response.json()["credentials"] == ["Ensure this field has no more than 1000 elements."]


def test_an_empty_document_is_200(course_world):
    response = send(course_world, "c", {**FORMAT, "course": "c", "credentials": []})
    assert (response.status_code, response.json()) == (
        200,
        {"course": "c", "created": 0, "updated": 0, "unchanged": 0, "failed": 0, "results": []},
    )


# Permissions ---------------------------------------------------------------------------

ROLES = {
    "anonymous": 401,
    "outsider": 403,
    "learner_p1": 403,
    "learner_p2": 403,
    "department_admin": 403,
    "platform_admin_p1": 403,
    "platform_admin_p2": 403,
}


@pytest.mark.parametrize("role", [*ROLES, "dm_admin"])
@pytest.mark.parametrize("operation", ["export", "import"])
def test_only_dm_admins_export_and_import(course_world, role, operation):
    w = course_world
    course = w.course.course_id
    document = {**FORMAT, "course": course, "credentials": []}
    client = w.client(role)
    if operation == "export":
        response = client.get(export_url(course))
    else:
        response = client.post(import_url(course), document, format="json")
    expected = ROLES.get(role, 200)
    assert response.status_code == expected
    if expected == 403:
        assert response.json() == {
            "detail": "Only DM admins may export or import course credentials."
        }


def test_a_dm_admin_signed_in_with_a_session_exports(course_world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(course_world.users["dm_admin"])
    assert client.get(export_url(course_world.course.course_id)).status_code == 200


# Query counts, events, the extension hook ---------------------------------------------------


def test_the_import_costs_a_bounded_number_of_queries_per_credential(course_world):
    w = course_world
    document = export(w)
    for number in range(8):
        document["credentials"].append(
            {**document["credentials"][1], "entityId": f"extra-{number}"}
        )
    with CaptureQueriesContext(connection) as created:
        assert send(w, w.course.course_id, document).status_code == 200
    with CaptureQueriesContext(connection) as unchanged:
        assert send(w, w.course.course_id, document).json()["unchanged"] == 10
    # Per credential: a savepoint and its release, the credential, its issuer (found,
    # then checked by the credential's validation), its links checked in the catalog and
    # compared; a creation adds its writes and its event.
    assert len(unchanged.captured_queries) <= 7 * 10 + 5
    assert len(created.captured_queries) <= 17 * 10


def test_a_contributor_fills_and_reads_its_section(course_world):
    w = course_world
    received = []

    def export_mappings(credentials):
        return {c.pk: [{"provider": "accredible", "id": c.entity_id}] for c in credentials}

    def import_mappings(credential, value, platform):
        received.append((credential.entity_id, value, platform.key))
        return False

    contributors.register_contributor(
        contributors.ExportContributor(
            section="provider_mappings", export=export_mappings, import_=import_mappings
        )
    )
    try:
        document = export(w)
        assert [c["provider_mappings"] for c in document["credentials"]] == [
            [{"provider": "accredible", "id": "cred-first"}],
            [{"provider": "accredible", "id": "cred-second"}],
        ]
        assert send(w, w.course.course_id, document).status_code == 200
    finally:
        contributors.unregister_contributor("provider_mappings")
    assert received == [
        ("cred-first", [{"provider": "accredible", "id": "cred-first"}], "p1"),
        ("cred-second", [{"provider": "accredible", "id": "cred-second"}], "p1"),
    ]


def test_a_contributor_that_refuses_fails_its_credential_alone(course_world):
    from rest_framework import serializers

    w = course_world

    def refuse_second(credential, value, platform):
        if credential.name == "Participation":
            raise serializers.ValidationError({"provider_mappings": ["Unknown provider."]})
        return False

    contributors.register_contributor(
        contributors.ExportContributor(
            section="provider_mappings", export=lambda credentials: {}, import_=refuse_second
        )
    )
    try:
        response = send(w, w.other_course.course_id, {**export(w), "new_ids": True})
    finally:
        contributors.unregister_contributor("provider_mappings")
    assert response.status_code == 207
    [first, second] = response.json()["results"]
    assert (first["status"], second["status"]) == ("created", "failed")
    assert second["errors"] == {"provider_mappings": ["Unknown provider."]}
    assert not Credential.objects.filter(
        entity_id=derived_entity_id("cred-second", w.p1, w.other_course.course_id)
    ).exists()


def test_an_image_named_by_its_url_is_the_same_image(course_world, settings):
    """A credential may name its upload by its absolute URL: the import keeps it so."""
    settings.ALLOWED_HOSTS = ["dm.example.org"]
    w = course_world
    w.first.icon_image = f"http://dm.example.org/media/{w.image.file.name}"
    w.first.save()
    client = w.client("dm_admin")
    document = client.get(export_url(w.course.course_id), HTTP_HOST="dm.example.org").json()
    assert document["credentials"][0]["iconImage"]["url"] == w.first.icon_image
    before = snapshot()
    response = client.post(
        import_url(w.course.course_id), document, format="json", HTTP_HOST="dm.example.org"
    )
    assert response.json()["unchanged"] == 2
    assert snapshot() == before


def test_an_image_copy_uses_the_upload_pipeline(course_world):
    """Metadata does not survive: the copy is re-encoded as an upload would be."""
    w = course_world
    data = png_with_text("secret comment")
    document = export(w)
    document["credentials"][1]["iconImage"] = {
        "url": "https://old.example/x.png",
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
    }
    assert send(w, w.course.course_id, document).status_code == 200
    w.second.refresh_from_db()
    stored = UploadedImage.objects.get(file=w.second.icon_image)
    with stored.file.open("rb") as file:
        assert b"secret comment" not in file.read()


# Both databases ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_round_trip_commits_on_a_real_transaction(course_world):
    """Outside the test's wrapping transaction: each credential commits on its own."""
    w = course_world
    document = export(w)
    document["credentials"][1]["name"] = ""
    response = send(w, w.other_course.course_id, {**document, "new_ids": True})
    assert response.status_code == 207
    assert Credential.objects.filter(
        entity_id=derived_entity_id("cred-first", w.p1, w.other_course.course_id)
    ).exists()
    assert not Credential.objects.filter(
        entity_id=derived_entity_id("cred-second", w.p1, w.other_course.course_id)
    ).exists()


# Through the published client ----------------------------------------------------------


@pytest.mark.sdk_operations(
    "credentials_exim_credentials_course_export_retrieve",
    "credentials_exim_credentials_course_import_create",
)
@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_export_and_import_through_the_published_client(course_world, published_client):
    """The client declares no body for the import and no model for either answer: the
    import's body is sent through the client's own request builder and ``call_api``."""
    from iblai.api.credentials_api import CredentialsApi

    w = course_world

    def api(role: str) -> CredentialsApi:
        return published_client.credentials(w.keys[role])

    dm = api("dm_admin")
    exported = dm.credentials_exim_credentials_course_export_retrieve(course_id=w.course.course_id)
    assert exported.status == 200
    document = json.loads(exported.data)
    assert [c["entityId"] for c in document["credentials"]] == ["cred-first", "cred-second"]
    assert document["credentials"][0]["iconImage"]["url"] == (
        f"{published_client.url}/media/{w.image.file.name}"
    )

    def import_(client: CredentialsApi, body: Any):
        build = client._credentials_exim_credentials_course_import_create_serialize
        method, url, headers, _, post_params = build(
            course_id=w.other_course.course_id,
            _request_auth=None,
            _content_type=None,
            _headers={"Content-Type": "application/json"},
            _host_index=0,
        )
        return client.api_client.call_api(method, url, headers, body, post_params).response

    copies = {**document, "new_ids": True}
    created = import_(dm, copies)
    assert created.status == 201, created.data
    report = json.loads(created.data)
    assert report["created"] == 2
    copied = [result["entityId"] for result in report["results"]]
    assert Credential.objects.filter(entity_id__in=copied).count() == 2

    before = snapshot()
    again = import_(dm, copies)
    assert again.status == 200
    assert json.loads(again.data)["unchanged"] == 2
    assert snapshot() == before

    # The client's own method sends no body: the document is missing, 400.
    bare = dm.credentials_exim_credentials_course_import_create(course_id=w.course.course_id)
    assert bare.status == 400
    assert set(json.loads(bare.data)) == {"format", "version", "course", "credentials"}

    admin = api("platform_admin_p1")
    refused = admin.credentials_exim_credentials_course_export_retrieve(
        course_id=w.course.course_id
    )
    assert refused.status == 403
    assert import_(admin, copies).status == 403
