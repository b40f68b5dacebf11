"""The bench's own list routes answer what the API answers, so a bench run cannot stop
half-way on one of them (``bench/urls.py``). No server and no timing here."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.catalog_helpers import MANAGE
from tests.support.factories import ProgramFactory


@pytest.fixture
def suggested(world):
    program = ProgramFactory(platform=world.p1)
    client = world.client("platform_admin_p1")
    for name in ("learner_p1", "department_admin", "learner_other_department"):
        body = {"platform_key": "p1", "program_key": program.program_key}
        response = client.post(MANAGE, {**body, "user_id": world.users[name].pk}, format="json")
        assert response.status_code == 200, response.content
    return world


@override_settings(ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize("query", ["", "&sort=username", "&page=2&page_size=2"])
def test_the_counted_list_answers_the_apis_bytes(suggested, query):
    client = suggested.client("platform_admin_p1")
    api = client.get(f"{MANAGE}?platform_key=p1{query}")
    counted = client.get(f"/bench/counted/program-suggestions/?platform_key=p1{query}")
    assert api.status_code == counted.status_code == 200
    assert counted.json()["count"] == api.json()["count"] == 3
    assert counted.json()["results"] == api.json()["results"]
