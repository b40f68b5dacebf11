"""Revoke, delete, re-issue and public reads at the same instant (PostgreSQL): never a
500, never an un-revoke, never an index given twice."""

from __future__ import annotations

from functools import partial

import pytest
from rest_framework.test import APIClient

from ibl_credentials.models import Assertion, Credential, Revocation, StatusEntry
from tests.support.assertion_helpers import credential_url, detail_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory, issue_key
from tests.support.openbadges_helpers import status_bit, verify_data_integrity, verify_jwt
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
ROUNDS = 25
BASE = "http://testserver"


@pytest.mark.slow
def test_revoke_delete_reissue_and_reads_race_without_undoing_a_revocation():
    platform = PlatformFactory(key="trust-race")
    admin = UserFactory(username="trust-race-admin")
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    learner = UserFactory(username="trust-race-learner")
    MembershipFactory(user=learner, platform=platform)
    key = issue_key(admin, platform)
    credential = CredentialFactory(issuer__platform=platform, entity_id="trust-race-0")
    issuer = credential.issuer

    def client() -> APIClient:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Token {key}")
        return c

    outcomes = set()
    for n in range(ROUNDS):
        credential = CredentialFactory(issuer=issuer, entity_id=f"trust-race-{n + 1}")
        held = AssertionFactory(credential=credential, recipient=learner)
        entity_id = held.entity_id
        token = APIClient().get(f"/ob/v3/credentials/{entity_id}?format=jwt").content.decode()
        kept = verify_jwt(token)
        revoke_url = detail_url(entity_id, admin.username, platform.key)
        delete_url = f"/api/credentials/orgs/{platform.key}/users/{admin.username}/"
        delete_url += credential.entity_id
        issue_url = credential_url(credential.entity_id, admin.username, platform.key)
        revoke_body = {"revoked": True, "revocationReason": f"r{n}"}
        issue_body = {"recipient": {"identity": learner.username}}
        revoke, delete, reissue, read, hosted = run_together(
            [
                partial(client().put, revoke_url, revoke_body, format="json"),
                partial(client().delete, delete_url),
                partial(client().post, issue_url, issue_body, format="json"),
                partial(APIClient().get, f"/ob/v3/credentials/{entity_id}"),
                partial(APIClient().get, f"/ob/v2/assertions/{entity_id}"),
            ]
        )
        codes = (revoke.status_code, delete.status_code, reissue.status_code)
        outcomes.add(codes)
        for response in (revoke, delete, reissue, read, hosted):
            assert response.status_code < 500, (n, response.status_code, response.content)
        assert revoke.status_code == 200
        # The revocation holds whatever won: its record, its bit, its hosted 410.
        assert Revocation.objects.get(entity_id=held.entity_id).revocation_reason == f"r{n}"
        listed = (
            APIClient()
            .get(kept["credentialStatus"]["statusListCredential"].removeprefix(BASE))
            .json()
        )
        verify_data_integrity(listed)
        assert listed["issuer"] == kept["iss"]
        index = int(kept["credentialStatus"]["statusListIndex"])
        assert status_bit(listed["credentialSubject"]["encodedList"], index) == 1
        assert APIClient().get(f"/ob/v2/assertions/{held.entity_id}").status_code == 410
        if delete.status_code == 200:
            assert not Credential.objects.filter(pk=credential.pk).exists()
            assert not Assertion.objects.filter(credential_id=credential.pk).exists()
        else:
            assert delete.status_code == 409
    # Every index of the issuer's lists belongs to one assertion only.
    entries = StatusEntry.objects.filter(status_list__issuer=issuer)
    assert entries.count() == len(set(entries.values_list("status_list_id", "index")))
    assert len(outcomes) >= 1
