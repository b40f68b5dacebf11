"""Rendered public artifacts are cached under keys made of what they are built from:
a second read builds nothing, and any change (a revoke, a rename, a new expiry) shows
at once, never a stale copy."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ibl_core.conf import validate_settings
from ibl_credentials.models import Assertion, Credential
from ibl_credentials.openbadges import baking
from ibl_credentials.pages import views as pages
from tests.support.assertion_helpers import revoke
from tests.support.credentials_factories import AssertionFactory, CredentialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(world):
    credential = CredentialFactory(issuer__platform=world.p1)
    return AssertionFactory(
        credential=credential, recipient=world.users["learner_p1"], entity_id="art-held"
    )


def get(path: str):
    return APIClient().get(path)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_baked_image_is_built_once_and_again_after_a_change(held, fmt):
    path = f"/ob/v2/assertions/art-held/image?format={fmt}"
    with mock.patch.object(baking, "baked", wraps=baking.baked) as spy:
        first = get(path)
        assert get(path).content == first.content
        assert spy.call_count == 1
        Credential.objects.filter(pk=held.credential_id).update(
            name="Renamed badge", modified=timezone.now()
        )
        renamed = get(path)
        assert spy.call_count == 2
    assert renamed.status_code == 200 and renamed.content != first.content


def test_a_revoke_shows_at_once_on_cached_images_and_pages(world, held):
    assert get("/ob/v2/assertions/art-held/image").status_code == 200
    assert get("/badges/art-held").status_code == 200
    revoke(world, "art-held", "Copied")
    assert get("/ob/v2/assertions/art-held/image").status_code == 410
    page = get("/badges/art-held")
    assert page.status_code == 410 and b"Copied" in page.content


def test_the_badge_page_is_rendered_once_and_again_when_what_it_shows_changes(world, held):
    with mock.patch.object(pages, "_render", wraps=pages._render) as spy:
        get("/badges/art-held")
        get("/badges/art-held")
        assert spy.call_count == 1
        learner = world.users["learner_p1"]
        learner.first_name, learner.last_name = "Renamed", "Learner"
        learner.save()
        assert b"Awarded to Renamed Learner" in get("/badges/art-held").content
        assert spy.call_count == 2
        # Expiry moves with the clock: the verdict is part of the key.
        Assertion.objects.filter(pk=held.pk).update(
            expires=timezone.now() + dt.timedelta(seconds=1)
        )
        assert b">Valid<" in get("/badges/art-held").content
        with mock.patch.object(
            pages.timezone, "now", return_value=timezone.now() + dt.timedelta(days=1)
        ):
            assert b">Expired<" in get("/badges/art-held").content


def test_a_cache_that_fails_is_skipped(held):
    with mock.patch(
        "django.core.cache.backends.locmem.LocMemCache.get", side_effect=ConnectionError
    ):
        assert get("/ob/v2/assertions/art-held/image").status_code == 200
        assert get("/badges/art-held").status_code == 200


def test_zero_seconds_turns_the_cache_off(held, settings):
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "ARTIFACT_CACHE_SECONDS": 0}
    with mock.patch.object(baking, "baked", wraps=baking.baked) as spy:
        get("/ob/v2/assertions/art-held/image")
        get("/ob/v2/assertions/art-held/image")
    assert spy.call_count == 2


def test_the_artifact_settings_are_checked():
    assert validate_settings({"ARTIFACT_CACHE": "nope", "ARTIFACT_CACHE_SECONDS": -1}) == [
        "ARTIFACT_CACHE_SECONDS must be an integer >= 0 (seconds).",
        "ARTIFACT_CACHE must name one of CACHES ['default'], got 'nope'.",
    ]
