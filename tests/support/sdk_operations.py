"""The published client's operations, and the record of which ones the tests drive.

``OPERATION_IDS`` is read from the client (``iblai`` 4.202.2) itself: every public
operation method of ``CredentialsApi`` (72) and every ``catalog_suggestions_*``
method of ``CatalogApi`` (24), 96 in all. Each method of the generated client has two
siblings (``..._with_http_info``, ``..._without_preload_content``) that send the same
request: they are not operations of their own.

A test that drives operations says which with ``@pytest.mark.sdk_operations(...)``
(``{kind}`` stands for course, pathway and program in a test parametrized by
``kind``) and builds its clients with the ``published_client`` fixture, which records each
operation whose request the client builds and fails the test if one it declares was
never sent. ``tests/project/test_sdk_operations.py`` checks that the declarations of the
whole suite cover the 96, so a declaration can neither lie nor be forgotten.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from iblai.api.catalog_api import CatalogApi
from iblai.api.credentials_api import CredentialsApi
from iblai.api_client import ApiClient
from iblai.configuration import Configuration

SIBLING_SUFFIXES = ("_with_http_info", "_without_preload_content")
KINDS = ("course", "pathway", "program")
MARKER = "sdk_operations"


def operations_of(api_class: type, prefix: str) -> list[str]:
    """The operation methods of a generated API class whose names start with ``prefix``."""
    return sorted(
        name
        for name, member in vars(api_class).items()
        if name.startswith(prefix) and callable(member) and not name.endswith(SIBLING_SUFFIXES)
    )


CREDENTIAL_OPERATIONS = operations_of(CredentialsApi, "credentials_")
SUGGESTION_OPERATIONS = operations_of(CatalogApi, "catalog_suggestions_")
OPERATION_IDS = frozenset(CREDENTIAL_OPERATIONS) | frozenset(SUGGESTION_OPERATIONS)

#: Dummy path values, to read the path each operation requests.
_PATH_VALUES = {
    "platform_key": "{org}",
    "user_id": 1,
    "username": "{username}",
    "entity_id": "{entity_id}",
    "assignment_id": "{assignment_id}",
    "course_id": "{course_id}",
}


def request_line(operation: str) -> tuple[str, str]:
    """``(method, path)`` the client requests for ``operation`` (credentials only), with
    ``{user_id}``/``{username}``, ``{org}``, ``{entity_id}`` as in this server's schema."""
    api = CredentialsApi(ApiClient(Configuration(host="")))
    parameters = inspect.signature(getattr(api, operation)).parameters
    arguments = {name: _PATH_VALUES.get(name) for name in parameters if not name.startswith("_")}
    method, url, *_ = getattr(api, f"_{operation}_serialize")(
        **arguments, _request_auth=None, _content_type=None, _headers=None, _host_index=0
    )
    path = url.split("?")[0].replace("%7B", "{").replace("%7D", "}")
    return method, path.replace("/users/1/", "/users/{user_id}/")


def expand(declared: Any, kind: str | None = None) -> set[str]:
    """Operation ids of a marker's arguments; ``{kind}`` as ``kind``, or every kind."""
    kinds = (kind,) if kind else KINDS
    return {name.format(kind=k) for name in declared for k in kinds}


@dataclass
class SdkClients:
    """Clients of the live server that record the operations they send."""

    url: str
    called: set[str] = field(default_factory=set)
    api_clients: list[ApiClient] = field(default_factory=list)

    def api_client(self, key: str) -> ApiClient:
        client = ApiClient(self.configuration(key))
        self.api_clients.append(client)
        return client

    def close(self) -> None:
        """Close the kept-alive connections: the live server's request threads end while
        the test's database is still theirs, not when the clients are collected."""
        for client in self.api_clients:
            client.rest_client.pool_manager.clear()

    def configuration(self, key: str) -> Configuration:
        return Configuration(
            host=self.url,
            api_key={"PlatformApiKeyAuthentication": key},
            api_key_prefix={"PlatformApiKeyAuthentication": "Api-Token"},
        )

    def record(self, api: Any, operations: list[str]) -> Any:
        """Wrap each operation's request builder (the public method and the tests'
        free-form ``send`` both go through it) to note the operation."""
        for operation in operations:
            build = getattr(api, f"_{operation}_serialize")

            def recorded(*args: Any, _build: Any = build, _op: str = operation, **kw: Any) -> Any:
                self.called.add(_op)
                return _build(*args, **kw)

            setattr(api, f"_{operation}_serialize", recorded)
        return api

    def credentials(self, key: str) -> CredentialsApi:
        api = CredentialsApi(self.api_client(key))
        return self.record(api, CREDENTIAL_OPERATIONS)

    def catalog(self, key: str) -> CatalogApi:
        api = CatalogApi(self.api_client(key))
        return self.record(api, SUGGESTION_OPERATIONS)


def sdk_clients(request: pytest.FixtureRequest, live_server: Any) -> Iterator[SdkClients]:
    """The ``published_client`` fixture's body: the clients, then the check of the test's marker."""
    clients = SdkClients(url=live_server.url)
    yield clients
    clients.close()
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return
    callspec = getattr(request.node, "callspec", None)
    kind = callspec.params.get("kind") if callspec else None
    declared = expand(marker.args, getattr(kind, "label", None))
    unsent = declared - clients.called
    assert not unsent, f"declared in @{MARKER} but never sent: {sorted(unsent)}"


def send(api: Any, operation: str, **params: Any) -> Any:
    """Call ``operation`` through the client's request builder with a free-form body
    (where the client declares a model that is not the real body: reference of the
    models in ``tests/credentials/test_sdk_credentials.py``); path, auth and headers stay the
    client's."""
    request = getattr(api, f"_{operation}_serialize")(
        **params, _request_auth=None, _content_type=None, _headers=None, _host_index=0
    )
    return api.api_client.call_api(*request).response


def upload(api: Any, operation: str, image: bytes, name: str, **params: Any) -> Any:
    """An image upload through the client's request builder: the client declares a JSON
    ``UploadedImage`` body, the endpoint takes multipart/form-data (a file)."""
    method, url, headers, _, _ = getattr(api, f"_{operation}_serialize")(
        **params,
        uploaded_image=None,
        _request_auth=None,
        _content_type="multipart/form-data",
        _headers=None,
        _host_index=0,
    )
    fields = [("image", (f"{name}.png", image, "image/png")), ("name", name)]
    return api.api_client.call_api(method, url, headers, None, fields).response


def body(response: Any) -> Any:
    return json.loads(response.data) if response.data else None
