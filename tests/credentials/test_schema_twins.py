"""The ``{username}`` twins of the credentials operations in the OpenAPI schema.

The schema is the committed ``docs/openapi.yaml`` (``tests/project/test_schema.py`` keeps it
current). The twins' ids come from one table, ``ibl_credentials.schema.USERNAME_TWINS``,
checked here against the published client: same pairs, same paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ibl_credentials.schema import TWIN_PATH, USER_PATH, USERNAME_TWINS
from tests.support.sdk_operations import (
    CREDENTIAL_OPERATIONS,
    SUGGESTION_OPERATIONS,
    request_line,
)

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
#: Operations of this server the client does not have (their twins are named alike).
NOT_IN_THE_CLIENT = {"credentials_orgs_users_assertions_bulk_job_retrieve"}


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str, dict]]:
    """``{operation id: (METHOD, path, operation)}`` of the committed schema."""
    schema = yaml.safe_load(COMMITTED.read_text())
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def client_pairs() -> dict[str, str]:
    """``{user_id form: username form}`` as the client's paths pair them."""
    by_request = {request_line(operation): operation for operation in CREDENTIAL_OPERATIONS}
    return {
        by_request[(method, path)]: by_request[(method, path.replace("{user_id}", "{username}"))]
        for method, path in by_request
        if "/users/{user_id}/" in path
    }


def test_the_table_pairs_the_operations_as_the_client_does():
    pairs = client_pairs()
    assert len(pairs) == 34  # every user-scoped (method, path) of the client, once
    table = {k: v for k, v in USERNAME_TWINS.items() if k not in NOT_IN_THE_CLIENT}
    assert table == pairs


def test_every_user_id_operation_has_its_username_twin(operations):
    user_id_operations = {
        operation_id
        for operation_id, (_, path, _) in operations.items()
        if path.startswith(USER_PATH)
    }
    untwinned = user_id_operations - set(USERNAME_TWINS)
    assert not untwinned, f"add to ibl_credentials.schema.USERNAME_TWINS: {sorted(untwinned)}"
    for operation_id in user_id_operations:
        method, path, operation = operations[operation_id]
        twin_method, twin_path, twin = operations[USERNAME_TWINS[operation_id]]
        assert (twin_method, twin_path) == (method, TWIN_PATH + path.removeprefix(USER_PATH))
        assert twin["responses"] == operation["responses"]
        assert twin.get("requestBody") == operation.get("requestBody")
        names = [(p["in"], p["name"]) for p in operation["parameters"]]
        twin_names = [(p["in"], p["name"]) for p in twin["parameters"]]
        assert twin_names == [
            ("path", "username") if name == ("path", "user_id") else name for name in names
        ]


def test_twins_of_operations_not_built_yet_are_skipped(operations):
    missing = {uid for uid in USERNAME_TWINS if uid not in operations}
    assert not {USERNAME_TWINS[uid] for uid in missing} & set(operations)


def test_each_client_operation_in_the_schema_has_the_clients_path(operations):
    for operation in CREDENTIAL_OPERATIONS:
        if operation not in operations:
            continue  # not built yet: tests/project/test_sdk_operations.py lists them
        method, path, _ = operations[operation]
        assert (method, path) == request_line(operation)


def test_the_catalog_has_no_username_twins():
    """The suggestion operations carry no user in their paths: nothing to twin."""
    assert len(SUGGESTION_OPERATIONS) == 24
    assert not [name for name in SUGGESTION_OPERATIONS if name[-1].isdigit()]


def test_a_missing_hook_is_a_warning(settings):
    from ibl_credentials.schema import check_username_twins_hook

    assert check_username_twins_hook() == []
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "POSTPROCESSING_HOOKS": []}
    [warning] = check_username_twins_hook()
    assert warning.id == "ibl_credentials.W001"
    assert "ibl_credentials.schema.add_username_twins" in warning.hint
