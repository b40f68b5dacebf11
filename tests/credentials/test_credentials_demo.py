"""The credentials part of ``ibl_demo`` (operations.md): stable ids, idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ibl_core.models import APIKey
from ibl_credentials.models import Assertion, Credential, CredentialItem, Issuer, Signatory

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("ibl_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def demo_state() -> list:
    return [
        list(Issuer.objects.values_list("entity_id", "name", "platform__key", "url", "email")),
        list(Signatory.objects.values_list("issuer__entity_id", "credential", "name", "title")),
        list(Credential.objects.values_list("entity_id", "name", "issuer__entity_id", "tags")),
        list(CredentialItem.objects.values_list("credential__entity_id", "kind", "key")),
        list(
            Assertion.objects.order_by("entity_id").values_list(
                "entity_id", "recipient__username", "item_kind", "item_key", "item_name",
                "issued_on", "revoked", "issued_by__username", "platform__key",
            )
        ),
    ]  # fmt: skip


def test_ibl_demo_makes_an_issuer_a_credential_and_two_assertions():
    before = timezone.now()
    output = run_demo()
    issuers, signatories, credentials, items, assertions = demo_state()
    assert issuers == [
        ("demo-academy", "Demo Academy", "demo", "https://academy.example.com",
         "badges@example.com")
    ]  # fmt: skip
    assert signatories == [("demo-academy", None, "Ada Admin", "Director of Learning")]
    assert credentials == [
        ("demo-python-101", "Python 101 Certificate", "demo-academy", ["python", "demo"])
    ]
    assert items == [("demo-python-101", "course", "course-v1:demo+python-101+2026")]
    course = ("course", "course-v1:demo+python-101+2026", "Python 101")
    assert [row[:5] for row in assertions] == [
        ("demo-python-101-learner1", "learner1", *course),
        ("demo-python-101-learner2", "learner2", *course),
    ]
    assert [row[6:] for row in assertions] == [(False, "demo-admin", "demo")] * 2
    issued = [row[5] for row in assertions]
    assert [round((before - day) / dt.timedelta(days=1)) for day in issued] == [3, 1]
    assert (
        "Demo: issuer 'Demo Academy' (entityId demo-academy), signed by Ada Admin\n"
        "Demo: credential 'Python 101 Certificate' (entityId demo-python-101) for course "
        "course-v1:demo+python-101+2026\n"
        "Demo: assertions of demo-python-101: learner1 (demo-python-101-learner1), "
        "learner2 (demo-python-101-learner2)\n"
    ) in output


def test_ibl_demo_again_changes_nothing_and_keeps_a_revocation():
    run_demo()
    first = demo_state()
    revoked = Assertion.objects.get(entity_id="demo-python-101-learner1")
    Assertion.objects.filter(pk=revoked.pk).update(revoked=True, revocation_reason="Test")
    run_demo()
    second = demo_state()
    assert second[:4] == first[:4]
    assert [row[6] for row in second[4]] == [True, False]  # still revoked, not reissued
    assert Assertion.objects.count() == 2


def test_ibl_demo_keeps_an_assertion_issued_through_the_api():
    run_demo()
    Assertion.objects.filter(entity_id="demo-python-101-learner2").update(
        entity_id="issued-by-hand"
    )
    run_demo()  # learner2 holds an active one already: not issued twice
    assert sorted(Assertion.objects.values_list("entity_id", flat=True)) == [
        "demo-python-101-learner1",
        "issued-by-hand",
    ]


def test_the_demo_assertions_show_in_the_analytics(client):
    run_demo()
    key = APIKey.objects.issue(
        user=Assertion.objects.first().issued_by,
        platform=Credential.objects.get().platform,
        name="test",
    )[1]
    today = timezone.now().date()
    response = client.get(
        "/api/credentials/orgs/demo/users/demo-admin/assertions-over-time/",
        {"start_date": (today - dt.timedelta(days=6)).isoformat(), "end_date": today.isoformat()},
        HTTP_AUTHORIZATION=f"Api-Token {key}",
    )
    assert response.status_code == 200
    assert response.json()["total"] == 2
