"""Who may call the four suggestion operations: role x operation x department_mode."""

from __future__ import annotations

import pytest

from ibl_catalog.models import ProgramSuggestion
from tests.conftest import ROLES
from tests.support.catalog_helpers import BULK, MANAGE, suggest
from tests.support.factories import ProgramFactory

pytestmark = pytest.mark.django_db

ALLOWED = {"platform_admin_p1", "dm_admin"}
ALLOWED_IN_DEPARTMENT_MODE = ALLOWED | {"department_admin"}


def call(world, role, operation, department_mode):
    program = ProgramFactory(platform=world.p1)
    target = world.users["learner_p1"]  # in the department the department admin runs
    suggestion = suggest(world, "learner_p1")
    flag = {"department_mode": True} if department_mode else {}
    query = "&department_mode=true" if department_mode else ""
    client = world.client(role)
    if operation == "list":
        return client.get(f"{MANAGE}?platform_key=p1{query}")
    if operation == "create":
        body = {"platform_key": "p1", "program_key": program.program_key, "user_id": target.pk}
        return client.post(MANAGE, body | flag, format="json")
    if operation == "delete":
        return client.delete(f"{MANAGE}?platform_key=p1&suggestion_id={suggestion.pk}{query}")
    rows = [{"program_key": program.program_key, "user_id": target.pk}]
    return client.post(BULK, {"platform_key": "p1", "suggestion_data": rows} | flag, format="json")


@pytest.mark.parametrize("department_mode", [False, True], ids=["plain", "department_mode"])
@pytest.mark.parametrize("operation", ["list", "create", "delete", "bulk"])
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role, operation, department_mode):
    before = ProgramSuggestion.objects.count()
    response = call(world, role, operation, department_mode)
    allowed = ALLOWED_IN_DEPARTMENT_MODE if department_mode else ALLOWED
    if role == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Token"
    elif role in allowed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403, response.content
    if response.status_code != 200:
        assert ProgramSuggestion.objects.count() == before + 1  # only call()'s own row
