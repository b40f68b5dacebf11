"""Every admin changelist and add page answers 200 with data present, in bounded queries."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from ibl_catalog.models import SuggestionCount
from ibl_core.models import APIKey, hash_api_key
from tests.factories import ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = [model for model in admin.site._registry if model._meta.app_label.startswith("ibl_")]


@pytest.fixture
def superuser_client(client, world):
    for n in range(5):
        ProgramFactory(platform=world.p1, program_key=f"program-v1:x+{n}+r")
    client.force_login(world.users["dm_admin"])
    return client


def test_every_ibl_model_is_registered():
    from django.apps import apps

    for label in ("ibl_core", "ibl_catalog", "ibl_credentials"):
        for model in apps.get_app_config(label).get_models():
            if not model._meta.auto_created:
                assert model in admin.site._registry, model


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_pages(superuser_client, model, django_assert_max_num_queries):
    opts = model._meta
    with django_assert_max_num_queries(15):
        response = superuser_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
    assert response.status_code == 200
    with django_assert_max_num_queries(15):
        response = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    # Read-only bookkeeping (the counts the database keeps) has no add page.
    assert response.status_code == (403 if model is SuggestionCount else 200)


def test_changelist_queries_do_not_grow_with_rows(
    superuser_client, world, django_assert_max_num_queries
):
    url = reverse("admin:ibl_core_apikey_changelist")
    superuser_client.get(url)
    for _ in range(20):
        APIKey.objects.issue(user=UserFactory(), platform=world.p1)
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200


def test_api_key_created_from_admin_is_shown_once(superuser_client, world):
    user = world.users["learner_p1"]
    response = superuser_client.post(
        reverse("admin:ibl_core_apikey_add"),
        {"user": user.pk, "platform": world.p1.pk, "name": "from admin"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    raw_key = re.search(r"The API key is ([0-9a-f]{64})", text).group(1)
    key = APIKey.objects.get(name="from admin")
    assert key.hashed_key == hash_api_key(raw_key)
    assert (key.user, key.platform) == (user, world.p1)
    # Never again: the change page does not contain it.
    page = superuser_client.get(reverse("admin:ibl_core_apikey_change", args=[key.pk]))
    assert raw_key not in page.content.decode()
