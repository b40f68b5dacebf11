"""The credentials lifecycle driven through the published client, ``iblai`` 4.202.2.

Each ``CredentialsApi`` operation builds its request the way an integrator's code does
(path, ``{user_id}`` as an integer, the ``Api-Token`` header) and returns the raw HTTP
response, parsed here with the client's own models where they describe the real
answer.

Several request models of the client are artifacts of the upstream schema (contract
``credentials-lifecycle.md``; reference §2.0): ``Issuer`` drops ``name`` from bodies,
``Credential`` describes a learner's credential rather than a badge class, ``Assertion``
is declared as the body of issue and revoke, ``BulkCreateAssertion`` as the bulk body.
For those operations the test builds the request with the client's own request
builder (``_<operation>_serialize``, which every public method calls) around the body
the real API documents, and sends it with the client's ``call_api``: the path, auth and
headers are still the client's.
"""

from __future__ import annotations

import datetime as dt

import pytest
from iblai import models as sdk

from ibl_catalog.declarations import COURSE_SUGGESTIONS
from ibl_credentials.models import Assertion, Credential, Issuer, Signatory
from tests.support.catalog_helpers import make_item
from tests.support.sdk_operations import body, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.mark.sdk_operations(
    "credentials_orgs_users_issuers_create",
    "credentials_orgs_users_issuers_retrieve2",
    "credentials_orgs_users_issuers_update",
    "credentials_orgs_users_issuers_authority_create",
    "credentials_orgs_users_create",
    "credentials_orgs_users_retrieve",
    "credentials_orgs_users_retrieve2",
    "credentials_orgs_users_update",
    "credentials_orgs_users_course_credentials_list",
    "credentials_orgs_users_assertions_create",
    "credentials_orgs_users_assertions_bulk_create",
    "credentials_orgs_users_assertions_retrieve3",
    "credentials_orgs_users_assertions_retrieve",
    "credentials_orgs_users_assertions_retrieve2",
    "credentials_orgs_users_assertions_update",
    "credentials_public_assertions_retrieve",
    "credentials_orgs_users_assertions_over_time_retrieve",
    "credentials_orgs_users_course_assertions_over_time_retrieve",
    "credentials_orgs_users_credentials_over_time_retrieve",
    "credentials_orgs_users_destroy",
    "credentials_orgs_users_issuers_destroy",
)
def test_the_whole_lifecycle_through_the_published_client(world, published_client):
    admin = world.users["platform_admin_p1"]
    learner = world.users["learner_p1"]
    api = published_client.credentials(world.keys["platform_admin_p1"])
    course = make_item(COURSE_SUGGESTIONS, world.p1)
    ids = {"platform_key": "p1", "user_id": admin.pk}

    # issuers: create (free-form body: the client's Issuer drops name), read, update
    created = send(
        api,
        "credentials_orgs_users_issuers_create",
        **ids,
        q="x",
        issuer={"name": "SDK Academy", "entityId": "sdk-academy", "url": "https://sdk.test"},
    )
    assert created.status == 201, body(created)
    issuer = sdk.Issuer.from_dict(body(created)["result"])
    assert (issuer.name, issuer.org, issuer.entity_id) == ("SDK Academy", "p1", "sdk-academy")

    read = api.credentials_orgs_users_issuers_retrieve2(entity_id="sdk-academy", **ids)
    assert read.status == 200
    [read_issuer] = body(read)  # an array holding the one issuer, as published
    assert sdk.Issuer.from_dict(read_issuer).url == "https://sdk.test"

    # The client's own PUT body: entityId, iconImage and allowed_template_tags only.
    update = sdk.Issuer(
        name="ignored",
        org="ignored",
        entityId="sdk-academy",
        signatories={},
        url="ignored",
        iconImage="https://sdk.test/logo.png",
        allowed_template_tags=["course"],
    )
    updated = api.credentials_orgs_users_issuers_update(
        entity_id="sdk-academy", issuer=update, **ids
    )
    assert updated.status == 200, body(updated)
    [updated_issuer] = body(updated)
    assert sdk.Issuer.from_dict(updated_issuer).icon_image == "https://sdk.test/logo.png"
    assert Issuer.objects.get(entity_id="sdk-academy").name == "SDK Academy"

    # signatories: the client's model is the real body
    signed = api.credentials_orgs_users_issuers_authority_create(
        issuer_authority=sdk.IssuerAuthority(
            name="Ada Lovelace", title="Dean", signature="https://sdk.test/ada.png"
        ),
        **ids,
    )
    assert signed.status == 201, body(signed)
    assert sdk.IssuerAuthority.from_dict(body(signed)["data"]).title == "Dean"
    assert Signatory.objects.get(name="Ada Lovelace").issuer.entity_id == "sdk-academy"

    # credentials: create (free-form: the client's Credential is not a badge class)
    made = send(
        api,
        "credentials_orgs_users_create",
        **ids,
        credential={
            "name": "SDK Certificate",
            "issuer": "sdk-academy",
            "description": "Earned through the client.",
            "courses": [course.course_id],
            "expires": {"amount": 1, "duration": "years"},
        },
    )
    assert made.status == 201, body(made)
    credential_id = body(made)["result"]["entityId"]
    credential = Credential.objects.get(entity_id=credential_id)
    assert [item.key for item in credential.items.all()] == [course.course_id]

    listed = api.credentials_orgs_users_retrieve(**ids)
    assert listed.status == 200
    assert [row["entityId"] for row in body(listed)["result"]["data"]] == [credential_id]

    detail = api.credentials_orgs_users_retrieve2(entity_id=credential_id, **ids)
    assert detail.status == 200
    assert body(detail)["result"]["signatories"] == [
        {"name": "Ada Lovelace", "title": "Dean", "signature": "https://sdk.test/ada.png"}
    ]

    changed = send(
        api,
        "credentials_orgs_users_update",
        entity_id=credential_id,
        credential={"description": "Changed."},
        **ids,
    )
    assert changed.status == 200, body(changed)
    assert body(changed)["status"] == {"success": True, "description": "Updated"}
    assert body(changed)["result"]["name"] == "SDK Certificate"  # partial

    by_course = api.credentials_orgs_users_course_credentials_list(page=1, page_size=10, **ids)
    assert by_course.status == 200
    assert [row["entityId"] for row in body(by_course)["result"]["results"]] == [credential_id]

    # assertions: issue one (free-form: the client declares Assertion as the body)
    issued = send(
        api,
        "credentials_orgs_users_assertions_create",
        entity_id=credential_id,
        assertion={"recipient": {"identity": "learner_p1"}, "course": course.course_id},
        **ids,
    )
    assert issued.status == 201, body(issued)
    assertion = sdk.Assertion.from_dict(body(issued))
    assert assertion.recipient["user_id"] == str(learner.pk)
    assert assertion.course == {"key": course.course_id, "name": course.name}
    assert assertion.credential_details["issuer"] == "sdk-academy"
    assert assertion.expires  # one year from now, from the credential's rule

    bulk = send(
        api,
        "credentials_orgs_users_assertions_bulk_create",
        entity_id=credential_id,
        bulk_create_assertion={
            "users": ["learner_p1", "department_admin", "nobody-here"],
            "course": course.course_id,
        },
        **ids,
    )
    assert bulk.status == 200, body(bulk)
    result = sdk.BulkCreateAssertion.from_dict(body(bulk))
    assert (result.issued, result.skipped) == (["department_admin"], ["learner_p1", "nobody-here"])
    assert body(bulk)["reasons"] == {
        "learner_p1": "already_issued",
        "nobody-here": "user_not_found",
    }

    of_credential = api.credentials_orgs_users_assertions_retrieve3(entity_id=credential_id, **ids)
    assert of_credential.status == 200
    assert body(of_credential)["count"] == 2
    for row in body(of_credential)["data"]:
        sdk.Assertion.from_dict(row)  # every nested value is a string, as the model wants

    # the learner reads their own assertions and accepts one
    learner_api = published_client.credentials(world.keys["learner_p1"])
    mine = learner_api.credentials_orgs_users_assertions_retrieve(
        platform_key="p1", user_id=learner.pk, page=1, page_size=10
    )
    assert mine.status == 200
    # next/previous are null on a single page; the client's page model calls them
    # required strings, so only the assertions are parsed with its models.
    assert (body(mine)["next"], body(mine)["previous"], body(mine)["count"]) == (None, None, 1)
    assert [sdk.Assertion.from_dict(row).entity_id for row in body(mine)["data"]] == [
        assertion.entity_id
    ]
    one = learner_api.credentials_orgs_users_assertions_retrieve2(
        entity_id=assertion.entity_id, platform_key="p1", user_id=learner.pk
    )
    assert one.status == 200
    assert sdk.Assertion.from_dict(body(one)).acceptance == sdk.AcceptanceEnum.UNACCEPTED
    accepted = send(
        learner_api,
        "credentials_orgs_users_assertions_update",
        entity_id=assertion.entity_id,
        platform_key="p1",
        user_id=learner.pk,
        assertion={"acceptance": "Accepted"},
    )
    assert accepted.status == 200, body(accepted)
    assert sdk.Assertion.from_dict(body(accepted)).acceptance == sdk.AcceptanceEnum.ACCEPTED

    # anyone reads it publicly; the recipient's email never shows
    public = published_client.credentials("no-key").credentials_public_assertions_retrieve(
        entity_id=assertion.entity_id
    )
    assert public.status == 200
    assert learner.email not in public.data.decode()
    assert sdk.Assertion.from_dict(body(public)).entity_id == assertion.entity_id

    # analytics: today's two assertions
    today = dt.datetime.now(dt.UTC).date().isoformat()
    window = {"start_date": today, "end_date": today}
    over_time = api.credentials_orgs_users_assertions_over_time_retrieve(**window, **ids)
    assert over_time.status == 200, body(over_time)
    counted = sdk.OvertimeWithChangeInfo.from_dict(body(over_time))
    assert (counted.data, counted.total) == ({today: 2}, 2)
    by_course_time = api.credentials_orgs_users_course_assertions_over_time_retrieve(
        **window, **ids
    )
    assert sdk.OverTime.from_dict(body(by_course_time)).data == {today: 2}
    made_over_time = api.credentials_orgs_users_credentials_over_time_retrieve(**window, **ids)
    assert sdk.OverTime.from_dict(body(made_over_time)).data == {today: 1}

    # a credential with active assertions is not deleted; revoking them frees it
    refused = api.credentials_orgs_users_destroy(entity_id=credential_id, **ids)
    assert refused.status == 409
    for entity_id in Assertion.objects.values_list("entity_id", flat=True):
        revoked = send(
            api,
            "credentials_orgs_users_assertions_update",
            entity_id=entity_id,
            assertion={"revoked": True, "revocationReason": "Issued by mistake."},
            **ids,
        )
        assert revoked.status == 200, body(revoked)
        assert sdk.Assertion.from_dict(body(revoked)).revocation_reason == "Issued by mistake."
    gone = published_client.credentials("no-key").credentials_public_assertions_retrieve(
        entity_id=assertion.entity_id
    )
    assert (gone.status, body(gone)) == (
        404,
        {"detail": "This assertion has been revoked.", "revocationReason": "Issued by mistake."},
    )

    # an issuer with credentials is not deleted either
    assert api.credentials_orgs_users_issuers_destroy(entity_id="sdk-academy", **ids).status == 409
    deleted = api.credentials_orgs_users_destroy(entity_id=credential_id, **ids)
    assert (deleted.status, body(deleted)) == (
        200,
        {"status": {"success": True, "description": "Deleted"}},
    )
    dropped = api.credentials_orgs_users_issuers_destroy(entity_id="sdk-academy", **ids)
    assert dropped.status == 200
    assert not Issuer.objects.filter(entity_id="sdk-academy").exists()


def test_a_learner_cannot_issue_through_the_client(world, published_client):
    from tests.support.credentials_factories import CredentialFactory, IssuerFactory

    credential = CredentialFactory(issuer=IssuerFactory(platform=world.p1))
    learner = world.users["learner_p1"]
    api = published_client.credentials(world.keys["learner_p1"])
    refused = send(
        api,
        "credentials_orgs_users_assertions_create",
        entity_id=credential.entity_id,
        platform_key="p1",
        user_id=learner.pk,
        assertion={"recipient": {"identity": "learner_p1"}},
    )
    assert refused.status == 403
    assert not Assertion.objects.exists()
