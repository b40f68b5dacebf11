"""The ``{username}`` twins of the credentials paths in the OpenAPI schema.

Every credentials path ``/api/credentials/orgs/{org}/users/{user_id}/...`` takes a
numeric id or a username in the user segment: one route serves both. The published
client (``iblai`` 4.202.2) was generated from a schema listing each such operation
twice, ``{user_id}`` (an integer) and ``{username}`` (a string), the second with an
operation id the generator numbered (``credentials_orgs_users_retrieve3``, ...). This
postprocessing hook writes the second form into the schema, from the one table below:
an operation missing from the table gets no twin (``tests/credentials/test_schema_twins.py`` fails
on it), and a row whose operation does not exist is skipped.

Install it after drf-spectacular's own hook (``check`` warns, ``ibl_credentials.W001``,
while it is missing)::

    SPECTACULAR_SETTINGS = {
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "ibl_credentials.schema.add_username_twins",
        ],
    }
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

USER_PATH = "/api/credentials/orgs/{org}/users/{user_id}/"
TWIN_PATH = "/api/credentials/orgs/{org}/users/{username}/"

#: Operation id of the ``{user_id}`` form -> operation id of the ``{username}`` form, as
#: the published client names them (its ``CredentialsApi``), in the client's order.
USERNAME_TWINS: dict[str, str] = {
    "credentials_orgs_users_retrieve": "credentials_orgs_users_retrieve3",
    "credentials_orgs_users_create": "credentials_orgs_users_create2",
    "credentials_orgs_users_assertions_over_time_retrieve": (
        "credentials_orgs_users_assertions_over_time_retrieve2"
    ),
    "credentials_orgs_users_assertions_retrieve": "credentials_orgs_users_assertions_retrieve4",
    "credentials_orgs_users_assertions_retrieve2": "credentials_orgs_users_assertions_retrieve5",
    "credentials_orgs_users_assertions_update": "credentials_orgs_users_assertions_update2",
    "credentials_orgs_users_assignments_groups_retrieve": (
        "credentials_orgs_users_assignments_groups_retrieve2"
    ),
    "credentials_orgs_users_assignments_groups_create": (
        "credentials_orgs_users_assignments_groups_create2"
    ),
    "credentials_orgs_users_assignments_users_retrieve": (
        "credentials_orgs_users_assignments_users_retrieve2"
    ),
    "credentials_orgs_users_assignments_users_create": (
        "credentials_orgs_users_assignments_users_create2"
    ),
    "credentials_orgs_users_assignments_destroy": "credentials_orgs_users_assignments_destroy2",
    "credentials_orgs_users_course_assertions_over_time_retrieve": (
        "credentials_orgs_users_course_assertions_over_time_retrieve2"
    ),
    "credentials_orgs_users_course_credentials_list": (
        "credentials_orgs_users_course_credentials_list2"
    ),
    "credentials_orgs_users_credentials_over_time_retrieve": (
        "credentials_orgs_users_credentials_over_time_retrieve2"
    ),
    "credentials_orgs_users_external_mapping_destroy": (
        "credentials_orgs_users_external_mapping_destroy2"
    ),
    "credentials_orgs_users_external_mapping_retrieve": (
        "credentials_orgs_users_external_mapping_retrieve2"
    ),
    "credentials_orgs_users_external_mapping_create": (
        "credentials_orgs_users_external_mapping_create2"
    ),
    "credentials_orgs_users_images_retrieve": "credentials_orgs_users_images_retrieve2",
    "credentials_orgs_users_images_create": "credentials_orgs_users_images_create2",
    "credentials_orgs_users_issuers_retrieve": "credentials_orgs_users_issuers_retrieve3",
    "credentials_orgs_users_issuers_create": "credentials_orgs_users_issuers_create2",
    "credentials_orgs_users_issuers_authority_create": (
        "credentials_orgs_users_issuers_authority_create2"
    ),
    "credentials_orgs_users_issuers_destroy": "credentials_orgs_users_issuers_destroy2",
    "credentials_orgs_users_issuers_retrieve2": "credentials_orgs_users_issuers_retrieve4",
    "credentials_orgs_users_issuers_update": "credentials_orgs_users_issuers_update2",
    "credentials_orgs_users_provider_config_destroy": (
        "credentials_orgs_users_provider_config_destroy2"
    ),
    "credentials_orgs_users_provider_config_retrieve": (
        "credentials_orgs_users_provider_config_retrieve2"
    ),
    "credentials_orgs_users_provider_config_create": (
        "credentials_orgs_users_provider_config_create2"
    ),
    "credentials_orgs_users_destroy": "credentials_orgs_users_destroy2",
    "credentials_orgs_users_retrieve2": "credentials_orgs_users_retrieve4",
    "credentials_orgs_users_update": "credentials_orgs_users_update2",
    "credentials_orgs_users_assertions_retrieve3": "credentials_orgs_users_assertions_retrieve6",
    "credentials_orgs_users_assertions_create": "credentials_orgs_users_assertions_create2",
    "credentials_orgs_users_assertions_bulk_create": (
        "credentials_orgs_users_assertions_bulk_create2"
    ),
    # Not in the client: the job of a bulk issue answered 202 (this server's addition).
    "credentials_orgs_users_assertions_bulk_job_retrieve": (
        "credentials_orgs_users_assertions_bulk_job_retrieve2"
    ),
}

USERNAME_PARAMETER = {
    "in": "path",
    "name": "username",
    "schema": {"type": "string"},
    "required": True,
    "description": (
        "The user the request acts as, by username (the same operation as the "
        "{user_id} form, which takes a numeric id or a username)."
    ),
}


def username_twin(operation: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """A copy of ``operation`` whose user segment is ``{username}``."""
    twin = copy.deepcopy(operation)
    twin["operationId"] = operation_id
    twin["parameters"] = [
        USERNAME_PARAMETER
        if parameter.get("in") == "path" and parameter.get("name") == "user_id"
        else parameter
        for parameter in twin.get("parameters", [])
    ]
    return twin


def add_username_twins(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    """drf-spectacular postprocessing hook: each credentials ``{user_id}`` operation of
    ``USERNAME_TWINS`` gets its ``{username}`` twin, right after its own path."""
    paths: dict[str, Any] = {}
    for path, operations in result.get("paths", {}).items():
        paths[path] = operations
        if not path.startswith(USER_PATH):
            continue
        twins = {
            method: username_twin(operation, USERNAME_TWINS[operation["operationId"]])
            for method, operation in operations.items()
            if isinstance(operation, dict) and operation.get("operationId") in USERNAME_TWINS
        }
        if twins:
            paths[TWIN_PATH + path.removeprefix(USER_PATH)] = twins
    result["paths"] = paths
    return result


HOOK = "ibl_credentials.schema.add_username_twins"


@register()
def check_username_twins_hook(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """``ibl_credentials.W001``: the schema would lack the ``{username}`` operations."""
    hooks = getattr(settings, "SPECTACULAR_SETTINGS", {}).get("POSTPROCESSING_HOOKS", [])
    if HOOK in hooks or add_username_twins in hooks:
        return []
    return [
        Warning(
            "The OpenAPI schema will not list the {username} form of the credentials "
            "operations (the published client's ...2, ...3 operation ids).",
            hint=(
                'Add "drf_spectacular.hooks.postprocess_schema_enums" and '
                f'"{HOOK}" to SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].'
            ),
            id="ibl_credentials.W001",
        )
    ]
