"""Migration 0003 on existing data: every assertion gets its own salt, every issuer a key."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.migration_helpers import upgrade

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
