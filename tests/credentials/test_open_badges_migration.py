"""Migration 0003 on existing data: every assertion gets its own salt, every issuer a key."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.support.migration_helpers import upgrade

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("ibl_credentials", "0002_credentials_lifecycle")]
AFTER = [("ibl_credentials", "0003_openbadges_keys_and_signed_credentials")]


@pytest.mark.slow
def test_existing_assertions_and_issuers_are_ready_for_open_badges():
    with upgrade(BEFORE, AFTER) as migration:
        old = migration.old
        Platform = old.get_model("ibl_core", "Platform")
        User = old.get_model("auth", "User")
        Issuer = old.get_model("ibl_credentials", "Issuer")
        Credential = old.get_model("ibl_credentials", "Credential")
        Assertion = old.get_model("ibl_credentials", "Assertion")
        platform = Platform.objects.create(key="mig", org="mig", name="Mig")
        user = User.objects.create(username="mig-user", email="m@example.org")
        issuers = [Issuer.objects.create(platform=platform, name=f"I{n}", entity_id=f"mig-i{n}")
                   for n in range(2)]  # fmt: skip
        credential = Credential.objects.create(
            platform=platform, issuer=issuers[0], name="C", entity_id="mig-c"
        )
        for n in range(3):
            Assertion.objects.create(
                platform=platform, credential=credential, recipient=user,
                entity_id=f"mig-a{n}", issued_on=timezone.now(), item_kind="course",
                item_key=f"k{n}",
            )  # fmt: skip

        new = migration.migrate()
        salts = list(
            new.get_model("ibl_credentials", "Assertion")
            .objects.filter(entity_id__startswith="mig-a")
            .values_list("recipient_salt", flat=True)
        )
        assert len(set(salts)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", s) for s in salts)
        keys = new.get_model("ibl_credentials", "IssuerKey").objects.filter(
            issuer__entity_id__startswith="mig-i"
        )
        assert keys.count() == 2
        assert all(key.did.startswith("did:key:z6Mk") for key in keys)
        assert all(key.retired is None for key in keys)


BEFORE_PERMANENCE = [("ibl_credentials", "0004_bulk_issue_jobs")]
AFTER_PERMANENCE = [("ibl_credentials", "0006_signed_credential_entry_required")]


@pytest.mark.slow
def test_revocations_and_status_indexes_already_given_are_kept():
    """0005/0006 on existing data: revoked assertions get their permanent record; every
    signed credential keeps its index, in a list at the issuer's entityId signed by the
    key that signed most of them; one signed by another key is signed again."""
    import json

    with upgrade(BEFORE_PERMANENCE, AFTER_PERMANENCE) as migration:
        old = migration.old
        Platform = old.get_model("ibl_core", "Platform")
        User = old.get_model("auth", "User")
        Issuer = old.get_model("ibl_credentials", "Issuer")
        IssuerKey = old.get_model("ibl_credentials", "IssuerKey")
        Credential = old.get_model("ibl_credentials", "Credential")
        Assertion = old.get_model("ibl_credentials", "Assertion")
        Signed = old.get_model("ibl_credentials", "SignedCredential")
        StatusList = old.get_model("ibl_credentials", "StatusList")
        platform = Platform.objects.create(key="perm", org="perm", name="Perm")
        user = User.objects.create(username="perm-user", email="p@example.org")
        issuer = Issuer.objects.create(platform=platform, name="I", entity_id="perm-i")
        now = timezone.now()
        first = IssuerKey.objects.create(
            issuer=issuer, did="did:key:z6MkFirst", private_key_encrypted="x", retired=now
        )
        IssuerKey.objects.create(issuer=issuer, did="did:key:z6MkSecond", private_key_encrypted="x")
        credential = Credential.objects.create(
            platform=platform, issuer=issuer, name="C", entity_id="perm-c"
        )
        rows = []
        for n, (revoked, did) in enumerate(
            [
                (True, "did:key:z6MkFirst"),
                (False, "did:key:z6MkFirst"),
                (False, "did:key:z6MkSecond"),
            ]
        ):
            assertion = Assertion.objects.create(
                platform=platform, credential=credential, recipient=user,
                entity_id=f"perm-a{n}", issued_on=now, item_kind="course", item_key=f"k{n}",
                revoked=revoked, revocation_reason="Cheated" if revoked else "",
                revoked_at=now if revoked else None,
            )  # fmt: skip
            rows.append(
                Signed.objects.create(
                    assertion=assertion,
                    issuer=issuer,
                    status_index=10 + n,
                    content_hash="h",
                    ldp=json.dumps({"issuer": {"id": did}}),
                    jwt="j",
                    signed_at=now,
                )
            )
        StatusList.objects.create(issuer=issuer, fingerprint="f", ldp="{}", jwt="j", built_at=now)

        new = migration.migrate()
        Revocation = new.get_model("ibl_credentials", "Revocation")
        assert list(Revocation.objects.values_list("entity_id", "revocation_reason")) == [
            ("perm-a0", "Cheated")
        ]
        lists = new.get_model("ibl_credentials", "StatusList").objects.filter(
            issuer__entity_id="perm-i"
        )
        assert [(lst.entity_id, lst.did, lst.key_id) for lst in lists] == [
            ("perm-i", "did:key:z6MkFirst", first.pk)
        ]
        entries = new.get_model("ibl_credentials", "StatusEntry").objects.order_by("index")
        assert [(e.assertion_entity_id, e.index) for e in entries] == [
            ("perm-a0", 10), ("perm-a1", 11), ("perm-a2", 12)
        ]  # fmt: skip
        signed = new.get_model("ibl_credentials", "SignedCredential").objects.order_by(
            "status_index"
        )
        assert [(s.entry.index, s.content_hash) for s in signed] == [
            (10, "h"), (11, "h"), (12, "")
        ]  # fmt: skip
