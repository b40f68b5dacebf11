"""Every credential and suggestion operation of the published client, through it.

How the 96 are counted: ``iblai`` 4.202.2 has one method per operation of the upstream
schema, plus two siblings per method that send the same request
(``..._with_http_info``, ``..._without_preload_content``). Its ``CredentialsApi`` has
72 (38 credentials (method, path) pairs: 34 that carry a user, each twice, as
``{user_id}`` and ``{username}``, and 4 without a user), and its ``CatalogApi`` 24
``catalog_suggestions_*`` (8 per kind: course, pathway, program). 72 + 24 = 96;
``tests/support/sdk_operations.py`` reads them from the client, and the first test below pins
the numbers.

Each test that drives operations declares them (``@pytest.mark.sdk_operations``) and
sends them through the ``published_client`` fixture, which fails the test when one
it declares was never sent. ``test_every_operation_is_driven_through_the_client``
reads the declarations of every ``tests/test_sdk_*.py`` module and fails, listing
them, on operations none drives, except the ``PENDING`` ones: those not built yet,
absent from the schema (checked). Whoever builds one drives it in a test and removes
it from ``PENDING`` (a covered or built operation still listed fails too).

The client's methods return the raw HTTP response; bodies are parsed with its models
where it declares one that describes the real answer.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from iblai import models as sdk

from ibl_catalog.declarations import COURSE_SUGGESTIONS
from ibl_credentials.models import Assertion, Credential, Issuer, Signatory, UploadedImage
from tests.support.catalog_helpers import make_item
from tests.support.credentials_factories import CredentialFactory, IssuerFactory, png_bytes
from tests.support.sdk_operations import (
    CREDENTIAL_OPERATIONS,
    MARKER,
    OPERATION_IDS,
    SUGGESTION_OPERATIONS,
    body,
    expand,
    send,
    upload,
)

TESTS = Path(__file__).resolve().parents[1]
COMMITTED_SCHEMA = TESTS.parent / "docs" / "openapi.yaml"

#: Operations not built yet (none: the 96 are). A new operation of a later client
#: version goes here until a test drives it.
PENDING: frozenset[str] = frozenset()


def declared_operations() -> dict[str, list[str]]:
    """``{operation id: [test, ...]}`` from the markers of every test module that
    declares some."""
    declared: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        if MARKER not in path.read_text():
            continue
        dotted = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        module = importlib.import_module(dotted)
        for name, test in vars(module).items():
            if not (name.startswith("test_") and inspect.isfunction(test)):
                continue
            for mark in getattr(test, "pytestmark", []):
                if mark.name != MARKER:
                    continue
                # Without the fixture nothing would check that the test sends them.
                assert "published_client" in inspect.signature(test).parameters, name
                for operation in expand(mark.args):
                    declared.setdefault(operation, []).append(f"{path.stem}::{name}")
    return declared


def schema_operation_ids() -> set[str]:
    schema = yaml.safe_load(COMMITTED_SCHEMA.read_text())
    return {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


# The count and the coverage (no server needed) --------------------------------------


def test_the_client_has_96_credential_and_suggestion_operations():
    assert (len(CREDENTIAL_OPERATIONS), len(SUGGESTION_OPERATIONS)) == (72, 24)
    assert len(OPERATION_IDS) == 96
    assert not PENDING  # all 96 are built and driven


def test_every_operation_is_driven_through_the_client():
    declared = declared_operations()
    assert not set(declared) - OPERATION_IDS, "not operations of the client"
    undriven = OPERATION_IDS - PENDING - set(declared)
    assert not undriven, f"no test drives these through the client: {sorted(undriven)}"
    driven_but_pending = {op: tests for op, tests in declared.items() if op in PENDING}
    assert not driven_but_pending, f"driven: remove them from PENDING: {driven_but_pending}"


def test_pending_operations_are_not_built_and_the_others_are():
    built = schema_operation_ids()
    assert not PENDING & built, f"built: drive them, then remove from PENDING: {PENDING & built}"
    assert built >= OPERATION_IDS - PENDING


# Issuing through the client's own Assertion model ------------------------------------


def client_assertion(**fields) -> sdk.Assertion:
    """The client's request model with nothing set: what its users build to issue."""
    empty = {
        "entityId": "",
        "issuedOn": "",
        "credentialDetails": {},
        "recipient": {},
        "course": {},
        "program": {},
        "revocationReason": "",
        "expires": "",
    }
    return sdk.Assertion(**{**empty, **fields})


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
@pytest.mark.sdk_operations(
    "credentials_orgs_users_assertions_create",
    "credentials_orgs_users_assertions_create2",
    "credentials_orgs_users_assertions_update",
    "credentials_orgs_users_assertions_update2",
)
def test_issue_answer_and_revoke_with_the_clients_assertion_model(world, published_client):
    credential = CredentialFactory(issuer=IssuerFactory(platform=world.p1), expires_amount=None)
    learner, other = world.users["learner_p1"], world.users["learner_other_department"]
    admin = world.users["platform_admin_p1"]
    api = published_client.credentials(world.keys["platform_admin_p1"])
    on = {"platform_key": "p1", "entity_id": credential.entity_id}

    # The learner's id in the path: they receive it, the admin issued it.
    issued = api.credentials_orgs_users_assertions_create(
        user_id=learner.pk, assertion=client_assertion(), **on
    )
    assert issued.status == 201, body(issued)
    first = sdk.Assertion.from_dict(body(issued))
    assert first.recipient["user_id"] == str(learner.pk)
    assert (first.expires, first.revoked, first.course) == ("", False, {})
    stored = Assertion.objects.get(entity_id=first.entity_id)
    assert (stored.recipient, stored.issued_by) == (learner, admin)

    # The username form, with the fields the client does send.
    named = api.credentials_orgs_users_assertions_create2(
        username="learner_other_department",
        assertion=client_assertion(narrative="Through the client.", metadata={"source": "sdk"}),
        **on,
    )
    assert named.status == 201, body(named)
    second = sdk.Assertion.from_dict(body(named))
    assert (second.recipient["username"], second.narrative, second.metadata) == (
        "learner_other_department",
        "Through the client.",
        {"source": "sdk"},
    )
    assert Assertion.objects.get(entity_id=second.entity_id).recipient == other

    # The same again: the active one, 200.
    again = api.credentials_orgs_users_assertions_create(
        user_id=learner.pk, assertion=client_assertion(), **on
    )
    assert (again.status, body(again)["entityId"]) == (200, first.entity_id)

    # A learner may only name themself, and may not issue at all.
    learner_api = published_client.credentials(world.keys["learner_p1"])
    refused = learner_api.credentials_orgs_users_assertions_create(
        user_id=other.pk, assertion=client_assertion(), **on
    )
    assert refused.status == 403
    assert Assertion.objects.count() == 2

    # The recipient answers with the client's model ("revocationReason": "" asks nothing).
    answered = learner_api.credentials_orgs_users_assertions_update(
        platform_key="p1",
        user_id=learner.pk,
        entity_id=first.entity_id,
        assertion=client_assertion(acceptance=sdk.AcceptanceEnum.ACCEPTED),
    )
    assert answered.status == 200, body(answered)
    assert sdk.Assertion.from_dict(body(answered)).acceptance == sdk.AcceptanceEnum.ACCEPTED

    # The admin revokes, naming themself by username.
    revoked = api.credentials_orgs_users_assertions_update2(
        platform_key="p1",
        username="platform_admin_p1",
        entity_id=second.entity_id,
        assertion=client_assertion(revoked=True, revocationReason="Issued by mistake."),
    )
    assert revoked.status == 200, body(revoked)
    gone = sdk.Assertion.from_dict(body(revoked))
    assert (gone.revoked, gone.revocation_reason) == (True, "Issued by mistake.")
    assert Assertion.objects.get(entity_id=second.entity_id).revoked


# Every {username} operation, and the {user_id} ones the lifecycle test leaves out -------


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
@pytest.mark.sdk_operations(
    "credentials_orgs_users_issuers_create2",
    "credentials_orgs_users_issuers_retrieve3",
    "credentials_orgs_users_issuers_retrieve4",
    "credentials_orgs_users_issuers_update2",
    "credentials_orgs_users_issuers_authority_create2",
    "credentials_orgs_users_images_create2",
    "credentials_orgs_users_images_retrieve2",
    "credentials_orgs_users_create2",
    "credentials_orgs_users_retrieve3",
    "credentials_orgs_users_retrieve4",
    "credentials_orgs_users_update2",
    "credentials_orgs_users_course_credentials_list2",
    "credentials_orgs_users_assertions_bulk_create2",
    "credentials_orgs_users_assertions_retrieve6",
    "credentials_orgs_users_assertions_retrieve4",
    "credentials_orgs_users_assertions_retrieve5",
    "credentials_orgs_users_assertions_over_time_retrieve2",
    "credentials_orgs_users_course_assertions_over_time_retrieve2",
    "credentials_orgs_users_credentials_over_time_retrieve2",
    "credentials_orgs_users_destroy2",
    "credentials_orgs_users_issuers_destroy2",
)
def test_each_username_operation_through_the_client(world, published_client):
    api = published_client.credentials(world.keys["platform_admin_p1"])
    course = make_item(COURSE_SUGGESTIONS, world.p1)
    ids = {"platform_key": "p1", "username": "platform_admin_p1"}

    # issuers
    created = send(
        api,
        "credentials_orgs_users_issuers_create2",
        q="x",
        issuer={"name": "Username Academy", "entityId": "username-academy"},
        **ids,
    )
    assert created.status == 201, body(created)
    assert sdk.Issuer.from_dict(body(created)["result"]).entity_id == "username-academy"
    found = api.credentials_orgs_users_issuers_retrieve3(q="username", **ids)
    assert found.status == 200
    assert [row["entityId"] for row in body(found)["result"]["data"]] == ["username-academy"]
    read = api.credentials_orgs_users_issuers_retrieve4(entity_id="username-academy", **ids)
    [issuer] = body(read)
    assert sdk.Issuer.from_dict(issuer).name == "Username Academy"
    update = sdk.Issuer(
        name="ignored",
        org="ignored",
        entityId="username-academy",
        signatories={},
        url="ignored",
        iconImage="https://sdk.test/u.png",
        allowed_template_tags=[],
    )
    updated = api.credentials_orgs_users_issuers_update2(
        entity_id="username-academy", issuer=update, **ids
    )
    assert updated.status == 200, body(updated)
    assert Issuer.objects.get(entity_id="username-academy").icon_image == "https://sdk.test/u.png"
    signed = api.credentials_orgs_users_issuers_authority_create2(
        issuer_authority=sdk.IssuerAuthority(
            name="Grace Hopper", title="Rector", signature="https://sdk.test/g.png"
        ),
        **ids,
    )
    assert signed.status == 201, body(signed)
    assert Signatory.objects.get(name="Grace Hopper").issuer.entity_id == "username-academy"

    # images: upload (multipart), then the list the client can ask for (no query)
    uploaded = upload(api, "credentials_orgs_users_images_create2", png_bytes(), "Seal", **ids)
    assert uploaded.status == 201, body(uploaded)
    image = sdk.UploadedImage.from_dict(body(uploaded))
    assert image.name == "Seal"
    listed = api.credentials_orgs_users_images_retrieve2(**ids)
    assert listed.status == 200, body(listed)
    assert body(listed)["count"] == 1
    assert [sdk.UploadedImage.from_dict(row).id for row in body(listed)["data"]] == [image.id]

    # credentials
    made = send(
        api,
        "credentials_orgs_users_create2",
        credential={
            "name": "Username Certificate",
            "issuer": "username-academy",
            "courses": [course.course_id],
        },
        **ids,
    )
    assert made.status == 201, body(made)
    credential_id = body(made)["result"]["entityId"]
    listed = api.credentials_orgs_users_retrieve3(**ids)
    assert [row["entityId"] for row in body(listed)["result"]["data"]] == [credential_id]
    detail = api.credentials_orgs_users_retrieve4(entity_id=credential_id, **ids)
    assert body(detail)["result"]["name"] == "Username Certificate"
    changed = send(
        api,
        "credentials_orgs_users_update2",
        entity_id=credential_id,
        credential={"description": "Changed by username."},
        **ids,
    )
    assert changed.status == 200, body(changed)
    assert Credential.objects.get(entity_id=credential_id).description == "Changed by username."
    by_course = api.credentials_orgs_users_course_credentials_list2(page=1, page_size=10, **ids)
    assert [row["entityId"] for row in body(by_course)["result"]["results"]] == [credential_id]

    # assertions
    bulk = send(
        api,
        "credentials_orgs_users_assertions_bulk_create2",
        entity_id=credential_id,
        bulk_create_assertion={
            "users": ["learner_p1", "department_admin"],
            "course": {"key": course.course_id},
        },
        **ids,
    )
    assert bulk.status == 200, body(bulk)
    result = sdk.BulkCreateAssertion.from_dict(body(bulk))
    assert (result.issued, result.skipped) == (["learner_p1", "department_admin"], [])
    of_credential = api.credentials_orgs_users_assertions_retrieve6(entity_id=credential_id, **ids)
    assert body(of_credential)["count"] == 2
    for row in body(of_credential)["data"]:
        sdk.Assertion.from_dict(row)
    learner_api = published_client.credentials(world.keys["learner_p1"])
    mine = learner_api.credentials_orgs_users_assertions_retrieve4(
        platform_key="p1", username="learner_p1"
    )
    assert mine.status == 200
    [row] = body(mine)["data"]
    own = sdk.Assertion.from_dict(row)
    one = learner_api.credentials_orgs_users_assertions_retrieve5(
        entity_id=own.entity_id, platform_key="p1", username="learner_p1"
    )
    assert sdk.Assertion.from_dict(body(one)).recipient["username"] == "learner_p1"

    # analytics
    today = dt.datetime.now(dt.UTC).date().isoformat()
    window = {"start_date": today, "end_date": today}
    issued = api.credentials_orgs_users_assertions_over_time_retrieve2(**window, **ids)
    assert sdk.OvertimeWithChangeInfo.from_dict(body(issued)).total == 2
    per_course = api.credentials_orgs_users_course_assertions_over_time_retrieve2(**window, **ids)
    assert sdk.OverTime.from_dict(body(per_course)).data == {today: 2}
    made_today = api.credentials_orgs_users_credentials_over_time_retrieve2(**window, **ids)
    assert sdk.OverTime.from_dict(body(made_today)).data == {today: 1}

    # deleting: the assertions revoked first (assertions_update2 is driven above)
    for assertion in Assertion.objects.all():
        assertion.revoked = True
        assertion.revocation_reason = "Course closed."
        assertion.save()
    deleted = api.credentials_orgs_users_destroy2(entity_id=credential_id, **ids)
    assert (deleted.status, body(deleted)) == (
        200,
        {"status": {"success": True, "description": "Deleted"}},
    )
    dropped = api.credentials_orgs_users_issuers_destroy2(entity_id="username-academy", **ids)
    assert dropped.status == 200
    assert not Issuer.objects.filter(entity_id="username-academy").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
@pytest.mark.sdk_operations(
    "credentials_orgs_users_images_create",
    "credentials_orgs_users_images_retrieve",
    "credentials_orgs_users_issuers_retrieve",
)
def test_a_learner_uploads_lists_and_searches_by_user_id(world, published_client):
    learner = world.users["learner_p1"]
    IssuerFactory(platform=world.p1, name="Learning Lab", entity_id="learning-lab")
    IssuerFactory(platform=world.p2, name="Learning Elsewhere")
    api = published_client.credentials(world.keys["learner_p1"])
    ids = {"platform_key": "p1", "user_id": learner.pk}

    uploaded = upload(api, "credentials_orgs_users_images_create", png_bytes(), "Avatar", **ids)
    assert uploaded.status == 201, body(uploaded)
    image = sdk.UploadedImage.from_dict(body(uploaded))
    assert UploadedImage.objects.get(pk=image.id).uploaded_by == learner

    listed = api.credentials_orgs_users_images_retrieve(**ids)
    assert listed.status == 200
    page = body(listed)
    assert {k: page[k] for k in ("count", "next", "previous", "page_number")} == {
        "count": 1,
        "next": None,
        "previous": None,
        "page_number": 1,
    }
    assert sdk.UploadedImage.from_dict(page["data"][0]).image == image.image

    searched = api.credentials_orgs_users_issuers_retrieve(q="learning", **ids)
    assert searched.status == 200
    [found] = body(searched)["result"]["data"]
    assert sdk.Issuer.from_dict(found).entity_id == "learning-lab"
