"""External providers: the providers list, a platform's configurations (secrets masked,
encrypted at rest) and mappings, and the mirroring of assertions to Accredible.

The real Accredible client runs against a loopback fake of Accredible's API
(``tests/support/fake_accredible.py``: their paths, auth header, error shapes, 429 with
``Retry-After``, a slow answer); nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.test import override_settings
from django.utils import timezone

from ibl_core.conf import ibl_settings
from ibl_core.events.tasks import default_task_backend
from ibl_core.models import Event
from ibl_credentials.models import Assertion
from ibl_credentials.providers import services, sync
from ibl_credentials.providers.accredible import AccredibleClient, retry_after_seconds
from ibl_credentials.providers.base import MirroredAssertion, ProviderError
from ibl_credentials.providers.models import (
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)
from tests.conftest import ROLES
from tests.support.assertion_helpers import (
    assertion_json,
    bulk_url,
    credential_url,
    detail_url,
    revoke,
)
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.fake_accredible import API_KEY, fake_accredible

pytestmark = pytest.mark.django_db

OTHER_KEY = "another-key-zyxw98765"
MASKED = "****" + API_KEY[-4:]


def config_url(user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/provider-config/"


def mapping_url(user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/external-mapping/"


def z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def provider_settings(url: str, **extra: Any) -> Iterator[None]:
    values = {"ACCREDIBLE_BASE_URL": url, "PROVIDER_TIMEOUT": 1, **extra}
    with override_settings(IBL_DATA_MANAGER=values):
        yield


@pytest.fixture
def credential(world):
    issuer = IssuerFactory(platform=world.p1, entity_id="issuer-p1")
    return CredentialFactory(
        issuer=issuer, entity_id="python-101", name="Python 101", description="Passed it."
    )


@pytest.fixture
def other_credential(world):
    issuer = IssuerFactory(platform=world.p2, entity_id="issuer-p2")
    return CredentialFactory(issuer=issuer, entity_id="p2-credential", name="Elsewhere")


def save_config(world, config: dict | None = None, role: str = "platform_admin_p1", **body):
    payload = {"provider_name": "accredible", **body}
    if config is not None:
        payload["config"] = config
    org = "p2" if role.endswith("p2") else "p1"
    return world.client(role).post(config_url(role, org), payload, format="json")


def save_mapping(world, role: str = "platform_admin_p1", **body):
    payload = {"credential_id": "python-101", "provider_name": "accredible", **body}
    return world.client(role).post(mapping_url(role), payload, format="json")


def configured(world, credential, **mapping: Any) -> None:
    """p1 mirrors ``credential`` to Accredible, group 9549 unless told."""
    assert save_config(world, {"accredible_api_key": API_KEY}).status_code == 201
    assert save_mapping(world, **{"group_id": "9549", **mapping}).status_code == 201


def mirror(record: MirroredAssertion | None = None, **changes: Any) -> MirroredAssertion:
    values = {
        "entity_id": "a1",
        "platform_key": "p1",
        "recipient_id": "7",
        "recipient_name": "Ada Lovelace",
        "recipient_email": "ada@example.com",
        "credential_name": "Python 101",
        "credential_description": "Passed it.",
        "issued_on": dt.date(2026, 12, 1),
        "expires_on": None,
        "url": "",
        "private": False,
        "group": "9549",
        **changes,
    }
    return MirroredAssertion(**values)


def failure_of(call: Any) -> ProviderError:
    """The ProviderError ``call()`` raises."""
    with pytest.raises(ProviderError) as raised:
        call()
    return raised.value


def queued_syncs() -> list[int]:
    return [
        result.args[0]
        for result in default_task_backend.results
        if result.task.name == "mirror_assertion"
    ]


# The client against the fake -----------------------------------------------------------


def test_the_client_creates_updates_and_deletes_with_accredibles_calls():
    with fake_accredible() as fake, provider_settings(fake.url):
        client = AccredibleClient({"accredible_api_key": API_KEY})
        external_id = client.create(mirror())
        assert external_id == "10000005"
        client.update(external_id, mirror(private=True, expires_on=dt.date(2027, 12, 1)))
        client.delete(external_id)
    create, update, delete = fake.calls
    assert (create.method, create.path) == ("POST", "/v1/credentials")
    assert (update.method, update.path) == ("PUT", "/v1/credentials/10000005")
    assert (delete.method, delete.path) == ("DELETE", "/v1/credentials/10000005")
    for call in fake.calls:
        assert call.headers["Authorization"] == f"Token token={API_KEY}"
    assert create.body == {
        "credential": {
            "recipient": {"name": "Ada Lovelace", "email": "ada@example.com", "id": "7"},
            "name": "Python 101",
            "description": "Passed it.",
            "issued_on": "2026-12-01",
            "expired_on": None,
            "private": False,
            "course_link": "",
            "meta_data": {"ibl_assertion_id": "a1", "ibl_platform": "p1"},
            "group_id": 9549,
        }
    }
    assert update.body["credential"]["private"] is True
    assert update.body["credential"]["expired_on"] == "2027-12-01"
    assert fake.credentials == {}


def test_a_group_that_is_not_a_number_is_sent_as_its_name():
    with fake_accredible() as fake, provider_settings(fake.url):
        AccredibleClient({"accredible_api_key": API_KEY}).create(mirror(group="course1234"))
    [call] = fake.calls
    assert call.body["credential"]["group_name"] == "course1234"
    assert "group_id" not in call.body["credential"]


@pytest.mark.parametrize(
    ("key", "record", "status", "message", "retryable"),
    [
        (OTHER_KEY, mirror(), 401, "Accredible answered 401: HTTP Token: Access denied.", False),
        (API_KEY, mirror(group="1"), 422, "Accredible answered 422: Invalid Group", False),
        (
            API_KEY,
            mirror(recipient_name="", recipient_email=""),
            422,
            "Accredible answered 422: Can not create credential without recipient data",
            False,
        ),
    ],
)
def test_errors_carry_accredibles_words_and_never_the_key(key, record, status, message, retryable):
    with fake_accredible() as fake, provider_settings(fake.url):
        error = failure_of(lambda: AccredibleClient({"accredible_api_key": key}).create(record))
    assert (str(error), error.status, error.retryable) == (message, status, retryable)
    assert key not in str(error) and key not in repr(AccredibleClient({"accredible_api_key": key}))


def test_429_is_retryable_after_what_retry_after_asks():
    script = [(429, {"Retry-After": "7"}, {"errors": "Too many requests"})]
    with fake_accredible(script=script) as fake, provider_settings(fake.url):
        error = failure_of(
            lambda: AccredibleClient({"accredible_api_key": API_KEY}).create(mirror())
        )
    assert (error.status, error.retryable, error.retry_after) == (429, True, 7.0)
    assert str(error) == "Accredible answered 429: Too many requests"


def test_retry_after_as_an_http_date():
    when = timezone.now() + dt.timedelta(seconds=120)
    seconds = retry_after_seconds(when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert seconds is not None and 110 <= seconds <= 121
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_5xx_is_retryable_and_a_404_on_delete_is_done():
    script = [(500, {}, {"errors": "Internal server error"})]
    with fake_accredible(script=script) as fake, provider_settings(fake.url):
        client = AccredibleClient({"accredible_api_key": API_KEY})
        with pytest.raises(ProviderError) as raised:
            client.create(mirror())
        client.delete("404404")  # already gone: nothing to do
        with pytest.raises(ProviderError) as missing:
            client.update("404404", mirror())
    assert (raised.value.status, raised.value.retryable) == (500, True)
    assert str(missing.value) == "Accredible answered 404: Doesn't exist"
    assert not missing.value.retryable


def test_a_slow_answer_hits_the_timeout():
    with fake_accredible(script=["slow"], slow_seconds=2.5) as fake, provider_settings(fake.url):
        started = timezone.now()
        with pytest.raises(ProviderError) as raised:
            AccredibleClient({"accredible_api_key": API_KEY}).create(mirror())
        took = (timezone.now() - started).total_seconds()
    assert str(raised.value) == "Timeout: Accredible did not answer within 1 s."
    assert raised.value.retryable and took < 2.4


def test_an_unreachable_service_is_retryable():
    with fake_accredible() as fake:
        url = fake.url
    with provider_settings(url):  # the port is closed now
        error = failure_of(
            lambda: AccredibleClient({"accredible_api_key": API_KEY}).create(mirror())
        )
    assert error.retryable and str(error).startswith("Cannot reach Accredible")


# The providers list ----------------------------------------------------------------------


def test_the_providers_list_names_each_provider_and_its_required_keys(world):
    response = world.client("learner_p2").get("/api/credentials/providers/")
    assert response.status_code == 200
    assert response.json() == {
        "status": {"success": True, "description": "Ok"},
        "result": {
            "next": None,
            "previous": None,
            "count": 1,
            "data": [
                {
                    "name": "accredible",
                    "display_name": "Accredible",
                    "required_config_keys": ["accredible_api_key"],
                }
            ],
            "num_pages": 1,
            "page_number": 1,
            "max_page_size": 1000,
        },
    }


def test_the_providers_list_needs_a_caller_and_valid_pages(world):
    anonymous = world.client("anonymous").get("/api/credentials/providers/")
    assert anonymous.status_code == 401
    assert anonymous.json()["status"]["success"] is False
    bad = world.client("learner_p1").get("/api/credentials/providers/?page_size=0")
    assert bad.status_code == 400
    assert bad.json()["result"] == {"page_size": ["A positive integer is required."]}
    past = world.client("learner_p1").get("/api/credentials/providers/?page=2")
    assert past.status_code == 404


# Who may call ---------------------------------------------------------------------------

#: role -> status of every platform-scoped provider operation on p1 (the caller in the path).
EXPECTED = {
    "anonymous": 401,
    "outsider": 403,
    "learner_p1": 403,
    "learner_p2": 403,
    "department_admin": 403,
    "platform_admin_p1": None,  # allowed: the operation's own status
    "platform_admin_p2": 403,
    "dm_admin": None,
}
OPERATIONS = {
    "config GET": ("get", config_url, None, 200),
    "config POST": (
        "post",
        config_url,
        {"provider_name": "accredible", "config": {"accredible_api_key": OTHER_KEY}},
        200,
    ),
    "config DELETE": ("delete", config_url, {"provider_name": "accredible"}, 204),
    "mapping GET": ("get", mapping_url, None, 200),
    "mapping POST": (
        "post",
        mapping_url,
        {"credential_id": "python-101", "provider_name": "accredible", "group_id": "1"},
        200,
    ),
    "mapping DELETE": (
        "delete",
        mapping_url,
        {"credential_id": "python-101", "provider_name": "accredible"},
        204,
    ),
}


def test_the_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


def stored_state() -> list:
    return [
        [(c.provider_name, c.enabled, c.get_config()) for c in ProviderConfig.objects.all()],
        list(ExternalCredentialMapping.objects.values_list("credential_id", "group_id")),
    ]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_only_platform_admins_manage_providers(world, credential, role, operation):
    services.save_provider_config(world.p1, "accredible", {"accredible_api_key": API_KEY}, None)
    services.save_mapping(world.p1, "python-101", "accredible", {"group_id": "9549"})
    before = stored_state()
    method, url, body, allowed = OPERATIONS[operation]
    user = "platform_admin_p1" if role == "anonymous" else role
    response = getattr(world.client(role), method)(url(user), body, format="json")
    assert response.status_code == (EXPECTED[role] or allowed), response.content
    if EXPECTED[role] is not None:
        assert response.json()["status"]["success"] is False
        assert stored_state() == before
    elif method == "get":
        assert response.json()["result"]["count"] == 1
    elif method == "post":
        assert response.json()["status"]["description"] == "Updated"
    assert API_KEY not in response.content.decode()


def test_an_admin_acting_as_a_learner_of_the_platform_is_still_an_admin(world, credential):
    response = world.client("platform_admin_p1").get(config_url("learner_p1"))
    assert response.status_code == 200
    unknown = world.client("platform_admin_p1").get(config_url("learner_p2"))
    assert unknown.status_code == 404  # not a member of p1: as an unknown user


# Configurations -------------------------------------------------------------------------


def test_create_answers_201_with_the_key_masked_and_stores_it_encrypted(world):
    response = save_config(world, {"Accredible_API_Key": API_KEY, "group_id": "9549"})
    assert response.status_code == 201, response.content
    row = ProviderConfig.objects.get()
    assert response.json() == {
        "status": {"success": True, "description": "Created"},
        "result": {
            "id": row.pk,
            "platform_key": "p1",
            "platform_name": world.p1.name,
            "provider_name": "accredible",
            "provider_name_display": "Accredible",
            "config": {"accredible_api_key": MASKED, "group_id": "9549"},
            "enabled": True,
            "created": z(row.created),
            "updated": z(row.updated),
        },
    }
    # At rest: ciphertext only, whatever column one reads.
    stored = ProviderConfig.objects.values_list("encrypted_config", flat=True).get()
    assert API_KEY not in stored and API_KEY[-4:] not in stored and "group_id" not in stored
    assert row.get_config() == {"accredible_api_key": API_KEY, "group_id": "9549"}


def test_the_key_depends_on_the_configured_secret(world):
    save_config(world, {"accredible_api_key": API_KEY})
    row = ProviderConfig.objects.get()
    another_secret = override_settings(IBL_DATA_MANAGER={"PROVIDER_CONFIG_SECRET": "s" * 40})
    with another_secret, pytest.raises(InvalidToken):  # another secret cannot read it
        row.get_config()


def test_update_answers_200_and_merges_over_the_stored_config(world):
    save_config(world, {"accredible_api_key": API_KEY, "group_id": "9549"})
    # The key sent back masked (as read) keeps its value; null removes a key.
    response = save_config(world, {"accredible_api_key": MASKED, "group_id": None}, enabled=False)
    assert response.status_code == 200, response.content
    assert response.json()["status"]["description"] == "Updated"
    assert response.json()["result"]["config"] == {"accredible_api_key": MASKED}
    assert response.json()["result"]["enabled"] is False
    row = ProviderConfig.objects.get()
    assert row.get_config() == {"accredible_api_key": API_KEY} and not row.enabled
    # No config at all: only enabled changes.
    again = save_config(world, enabled=True)
    assert again.status_code == 200 and again.json()["result"]["enabled"] is True
    # A new key replaces the old one.
    save_config(world, {"accredible_api_key": OTHER_KEY})
    assert ProviderConfig.objects.get().get_config() == {"accredible_api_key": OTHER_KEY}


def test_a_short_secret_is_masked_whole(world):
    response = save_config(world, {"accredible_api_key": "abc123", "client_secret": "xyz"})
    assert response.json()["result"]["config"] == {
        "accredible_api_key": "****",
        "client_secret": "****",
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"provider_name": ["This field is required."]}),
        (
            {"provider_name": "credly"},
            {"provider_name": ["Unknown provider 'credly'; the providers are: accredible."]},
        ),
        ({"provider_name": 7}, {"provider_name": ["Not a valid string."]}),
        (
            {"provider_name": "accredible"},
            {"config": ["Accredible needs accredible_api_key (a non-empty value)."]},
        ),
        (
            {"provider_name": "accredible", "config": {"accredible_api_key": ""}},
            {"config": ["Accredible needs accredible_api_key (a non-empty value)."]},
        ),
        (
            {"provider_name": "accredible", "config": ["accredible_api_key"]},
            {"config": ["A JSON object is required."]},
        ),
        (
            {"provider_name": "accredible", "config": {"accredible_api_key": {"nested": 1}}},
            {"config": ["accredible_api_key: a text, a number, true, false or null is required."]},
        ),
        (
            {"provider_name": "accredible", "config": {"A": 1, "a": 2}},
            {"config": ["The key 'a' is given twice."]},
        ),
        (
            {"provider_name": "accredible", "config": {"accredible_api_key": "k" * 1001}},
            {"config": ["accredible_api_key: at most 1000 characters."]},
        ),
        (
            {
                "provider_name": "accredible",
                "config": {"accredible_api_key": API_KEY},
                "enabled": "maybe",
            },
            {"enabled": ["Must be a valid boolean."]},
        ),
    ],
)
def test_invalid_configurations_are_400_and_change_nothing(world, body, errors):
    response = world.client("platform_admin_p1").post(config_url(), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["result"] == errors
    assert response.json()["status"]["success"] is False
    assert not ProviderConfig.objects.exists()


def test_a_body_that_is_not_json_is_400(world):
    response = world.client("platform_admin_p1").post(
        config_url(), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert not ProviderConfig.objects.exists()


def test_the_list_shows_the_platforms_own_configurations_masked(world):
    save_config(world, {"accredible_api_key": API_KEY})
    save_config(world, {"accredible_api_key": OTHER_KEY}, role="platform_admin_p2")
    response = world.client("platform_admin_p1").get(config_url())
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["count"] == 1 and result["max_page_size"] == 1000
    [row] = result["data"]
    assert (row["platform_key"], row["config"]) == ("p1", {"accredible_api_key": MASKED})
    assert API_KEY not in response.content.decode()
    filtered = world.client("platform_admin_p1").get(config_url() + "?provider_name=other")
    assert filtered.json()["result"]["count"] == 0
    same = world.client("platform_admin_p1").get(config_url() + "?provider_name=ACCREDIBLE")
    assert same.json()["result"]["count"] == 1


def test_delete_turns_the_provider_off_and_keeps_it(world):
    save_config(world, {"accredible_api_key": API_KEY})
    response = world.client("platform_admin_p1").delete(
        config_url(), {"provider_name": "accredible"}, format="json"
    )
    assert response.status_code == 204 and response.content == b""
    row = ProviderConfig.objects.get()
    assert not row.enabled and row.get_config() == {"accredible_api_key": API_KEY}


def test_delete_may_name_the_provider_in_the_query(world):
    save_config(world, {"accredible_api_key": API_KEY})
    response = world.client("platform_admin_p1").delete(config_url() + "?provider_name=accredible")
    assert response.status_code == 204
    assert not ProviderConfig.objects.get().enabled


def test_another_platforms_configuration_is_not_found(world):
    save_config(world, {"accredible_api_key": API_KEY}, role="platform_admin_p2")
    response = world.client("platform_admin_p1").delete(
        config_url(), {"provider_name": "accredible"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["result"] == {
        "detail": "This platform has no configuration of this provider."
    }
    assert ProviderConfig.objects.get().enabled


def test_delete_without_a_provider_is_400(world):
    response = world.client("platform_admin_p1").delete(config_url(), {}, format="json")
    assert response.status_code == 400
    assert response.json()["result"] == {"provider_name": ["This field is required."]}


def test_no_secret_reaches_the_logs_or_the_events(world, credential, caplog):
    caplog.set_level(logging.DEBUG)
    save_config(world, {"accredible_api_key": API_KEY})
    save_config(world, {"accredible_api_key": API_KEY, "group_id": 3})
    world.client("platform_admin_p1").get(config_url())
    save_config(world, {"accredible_api_key": {"bad": API_KEY}})  # a 400 that echoes nothing
    world.client("platform_admin_p1").delete(
        config_url(), {"provider_name": "accredible"}, format="json"
    )
    assert API_KEY not in caplog.text
    for payload in Event.objects.values_list("payload", flat=True):
        assert API_KEY not in json.dumps(payload)


# Mappings --------------------------------------------------------------------------------


def test_map_a_credential_answers_201_then_200(world, credential):
    save_config(world, {"accredible_api_key": API_KEY})
    response = save_mapping(world, external_template_id="123456", metadata={"batch": "TK210"})
    assert response.status_code == 201, response.content
    mapping = ExternalCredentialMapping.objects.get()
    config = ProviderConfig.objects.get()
    expected = {
        "id": mapping.pk,
        "credential_id": "python-101",
        "credential_name": "Python 101",
        "platform_key": "p1",
        "platform_name": world.p1.name,
        "provider": config.pk,
        "provider_name": "accredible",
        "provider_name_display": "Accredible",
        "external_template_id": "123456",
        "group_id": None,
        "metadata": {"batch": "TK210"},
        "created": z(mapping.created),
        "updated": z(mapping.updated),
    }
    assert response.json() == {
        "status": {"success": True, "description": "Created"},
        "result": expected,
    }
    again = save_mapping(world, group_id="9549")
    assert again.status_code == 200
    mapping.refresh_from_db()
    assert again.json()["status"]["description"] == "Updated"
    assert again.json()["result"] == {**expected, "group_id": "9549", "updated": z(mapping.updated)}
    assert ExternalCredentialMapping.objects.count() == 1


def test_a_mapping_without_a_configuration_names_no_provider_config(world, credential):
    response = save_mapping(world)
    assert response.status_code == 201
    assert response.json()["result"]["provider"] is None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"provider_name": "accredible"}, {"credential_id": ["This field is required."]}),
        ({"credential_id": "python-101"}, {"provider_name": ["This field is required."]}),
        (
            {"credential_id": "nope", "provider_name": "accredible"},
            {"credential_id": ["No credential with this entityId on this platform."]},
        ),
        (
            {"credential_id": "p2-credential", "provider_name": "accredible"},
            {"credential_id": ["No credential with this entityId on this platform."]},
        ),
        (
            {"credential_id": "python-101", "provider_name": "accredible", "metadata": [1]},
            {"metadata": ["A JSON object is required."]},
        ),
        (
            {"credential_id": "python-101", "provider_name": "accredible", "group_id": 5},
            {"group_id": ["Not a valid string."]},
        ),
        (
            {
                "credential_id": "python-101",
                "provider_name": "accredible",
                "external_template_id": "x" * 256,
            },
            {"external_template_id": ["Ensure this field has no more than 255 characters."]},
        ),
    ],
)
def test_invalid_mappings_are_400_and_change_nothing(
    world, credential, other_credential, body, errors
):
    response = world.client("platform_admin_p1").post(mapping_url(), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["result"] == errors
    assert not ExternalCredentialMapping.objects.exists()


def test_the_mapping_list_filters_and_stays_on_its_platform(world, credential, other_credential):
    second = CredentialFactory(issuer=credential.issuer, entity_id="python-201")
    save_mapping(world)
    save_mapping(world, credential_id="python-201")
    world.client("platform_admin_p2").post(
        mapping_url("platform_admin_p2", "p2"),
        {"credential_id": "p2-credential", "provider_name": "accredible"},
        format="json",
    )
    listed = world.client("platform_admin_p1").get(mapping_url())
    assert [row["credential_id"] for row in listed.json()["result"]["data"]] == [
        "python-201",
        "python-101",
    ]
    one = world.client("platform_admin_p1").get(mapping_url() + "?credential_id=python-101")
    assert [row["credential_id"] for row in one.json()["result"]["data"]] == ["python-101"]
    none = world.client("platform_admin_p1").get(mapping_url() + "?credential_id=p2-credential")
    assert none.json()["result"]["data"] == []
    paged = world.client("platform_admin_p1").get(mapping_url() + "?page_size=1&page=2")
    assert second.entity_id == "python-201"  # newest first: page 2 of 1 is the older one
    assert [row["credential_id"] for row in paged.json()["result"]["data"]] == ["python-101"]


def test_lists_cost_the_same_whatever_their_length(
    world, credential, django_assert_max_num_queries
):
    save_config(world, {"accredible_api_key": API_KEY})
    for n in range(30):
        entity_id = f"course-{n}"
        CredentialFactory(issuer=credential.issuer, entity_id=entity_id)
        save_mapping(world, credential_id=entity_id)
    client = world.client("platform_admin_p1")
    with django_assert_max_num_queries(8):
        response = client.get(mapping_url() + "?page_size=1000")
    assert response.json()["result"]["count"] == 30
    with django_assert_max_num_queries(8):
        assert client.get(config_url()).json()["result"]["count"] == 1


def test_delete_a_mapping(world, credential):
    save_mapping(world)
    body = {"credential_id": "python-101", "provider_name": "accredible"}
    response = world.client("platform_admin_p1").delete(mapping_url(), body, format="json")
    assert response.status_code == 204
    assert not ExternalCredentialMapping.objects.exists()
    again = world.client("platform_admin_p1").delete(mapping_url(), body, format="json")
    assert again.status_code == 404
    assert again.json()["result"] == {"detail": "No mapping of this credential to this provider."}


def test_another_platforms_mapping_is_not_found(world, credential, other_credential):
    world.client("platform_admin_p2").post(
        mapping_url("platform_admin_p2", "p2"),
        {"credential_id": "p2-credential", "provider_name": "accredible"},
        format="json",
    )
    response = world.client("platform_admin_p1").delete(
        mapping_url(),
        {"credential_id": "p2-credential", "provider_name": "accredible"},
        format="json",
    )
    assert response.status_code == 404
    assert ExternalCredentialMapping.objects.count() == 1


def test_the_literal_segments_are_not_credential_ids(world):
    response = world.client("platform_admin_p1").get(
        "/api/credentials/orgs/p1/users/platform_admin_p1/provider-config"
    )
    assert response.status_code == 404  # the published path ends with a slash


@pytest.mark.parametrize("reserved", ["provider-config", "External-Mapping"])
def test_no_credential_may_take_a_providers_segment_as_its_id(world, credential, reserved):
    response = world.client("platform_admin_p1").post(
        "/api/credentials/orgs/p1/users/platform_admin_p1/",
        {"name": "Clash", "issuer": "issuer-p1", "entityId": reserved},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "reserved path segment" in json.dumps(response.json()["result"])


# Mirroring --------------------------------------------------------------------------------


def issue(world, credential_id: str = "python-101", user: str = "learner_p1"):
    return world.client("platform_admin_p1").post(
        credential_url(credential_id), {"recipient": {"identity": user}}, format="json"
    )


def run_queued() -> list[str]:
    """Run every queued sync attempt once, in order; their outcomes."""
    ids = queued_syncs()
    default_task_backend.clear()
    return [sync.run_sync(sync_id) for sync_id in ids]


def test_writes_of_other_things_cost_the_providers_nothing(
    world, credential, django_capture_on_commit_callbacks
):
    """The mirror listens for assertion events only: a suggestion written on a platform
    that mirrors asks nothing of the provider tables, while an issue still does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.factories import ProgramFactory

    program = ProgramFactory(platform=world.p1)
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential)
        body = {"platform_key": "p1", "user_id": world.users["learner_p1"].pk}
        with (
            CaptureQueriesContext(connection) as suggesting,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = world.client("platform_admin_p1").post(
                "/api/catalog/suggestions/program/manage/",
                {**body, "program_key": program.program_key},
                format="json",
            )
        assert response.status_code == 200
        with (
            CaptureQueriesContext(connection) as issuing,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert issue(world).status_code == 201
    provider_tables = ("ibl_credentials_providerconfig", "ibl_credentials_assertionsync")

    def asked(queries: CaptureQueriesContext) -> bool:
        return any(table in q["sql"] for q in queries.captured_queries for table in provider_tables)

    assert (asked(suggesting), asked(issuing)) == (False, True)
    assert AssertionSync.objects.count() == 1


def test_an_issued_assertion_is_created_at_accredible(
    world, credential, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential, metadata={"batch": "TK210"})
        with django_capture_on_commit_callbacks(execute=True):
            response = issue(world)
        assert response.status_code == 201
        entity_id = response.json()["entityId"]
        row = AssertionSync.objects.get()
        assert (row.state, row.operation, row.attempts) == ("pending", "create", 0)
        assert queued_syncs() == [row.pk]
        assert run_queued() == ["synced"]
    row.refresh_from_db()
    assert (row.state, row.external_id, row.attempts, row.last_error) == (
        "synced",
        "10000005",
        1,
        "",
    )
    [call] = fake.calls
    learner = world.users["learner_p1"]
    assert call.body["credential"]["recipient"] == {
        "name": learner.get_full_name() or "learner_p1",
        "email": learner.email,
        "id": str(learner.pk),
    }
    assert call.body["credential"]["group_id"] == 9549
    assert call.body["credential"]["meta_data"] == {
        "batch": "TK210",
        "ibl_assertion_id": entity_id,
        "ibl_platform": "p1",
    }
    detail = world.client("learner_p1").get(detail_url(entity_id))
    assert detail.json()["externalSync"] == [
        {
            "provider": "accredible",
            "state": "synced",
            "operation": "create",
            "externalId": "10000005",
            "attempts": 1,
            "lastError": "",
            "syncedAt": z(row.synced_at),
        }
    ]
    assertion = Assertion.objects.get()
    assert detail.json() == {
        **assertion_json(assertion),
        "externalSync": detail.json()["externalSync"],
    }


def test_revoking_deletes_it_there_and_answering_updates_it(
    world, credential, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            entity_id = issue(world).json()["entityId"]
        run_queued()
        with django_capture_on_commit_callbacks(execute=True):
            answered = world.client("learner_p1").put(
                detail_url(entity_id), {"acceptance": "Rejected"}, format="json"
            )
        assert answered.status_code == 200
        # Answered before the change committed: the mirror is queued after.
        assert AssertionSync.objects.get().state == "pending"
        assert run_queued() == ["synced"]
        assert fake.credentials["10000005"]["private"] is True
        with django_capture_on_commit_callbacks(execute=True):
            revoke(world, entity_id)
        assert run_queued() == ["synced"]
    assert [(c.method, c.path) for c in fake.calls] == [
        ("POST", "/v1/credentials"),
        ("PUT", "/v1/credentials/10000005"),
        ("DELETE", "/v1/credentials/10000005"),
    ]
    assert fake.credentials == {}
    row = AssertionSync.objects.get()
    assert (row.state, row.operation, row.external_id) == ("synced", "delete", "10000005")


def test_a_bulk_issue_mirrors_every_assertion(
    world, credential, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client("platform_admin_p1").post(
                bulk_url("python-101"),
                {"users": ["learner_p1", "department_admin", "learner_other_department"]},
                format="json",
            )
        assert response.status_code == 200, response.content
        assert AssertionSync.objects.filter(state="pending").count() == 3
        assert run_queued() == ["synced"] * 3
    assert len(fake.credentials) == 3
    assert {c["recipient"]["id"] for c in fake.credentials.values()} == {
        str(world.users[name].pk)
        for name in ("learner_p1", "department_admin", "learner_other_department")
    }


def test_unmapped_credentials_and_disabled_providers_are_not_mirrored(
    world, credential, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    other = CredentialFactory(issuer=credential.issuer, entity_id="unmapped")
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            response = issue(world, "unmapped")
        assert response.status_code == 201
        world.client("platform_admin_p1").delete(
            config_url(), {"provider_name": "accredible"}, format="json"
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert issue(world).status_code == 201
    assert not AssertionSync.objects.exists() and queued_syncs() == [] and fake.calls == []
    # The assertion's answer is exactly what it was before providers existed.
    unmapped = Assertion.objects.get(credential=other)
    detail = world.client("learner_p1").get(detail_url(unmapped.entity_id))
    assert detail.json() == assertion_json(unmapped)


def test_a_429_waits_as_asked_then_the_last_failure_is_visible(
    world, credential, django_capture_on_commit_callbacks, admin_client, caplog
):
    default_task_backend.clear()
    script = [(429, {"Retry-After": "7"}, {"errors": "Slow down"})] + [
        (503, {}, {"errors": "Internal server error"})
    ] * 5
    limits = {"WEBHOOK_MAX_ATTEMPTS": 3}
    with fake_accredible(script=script) as fake, provider_settings(fake.url, **limits):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            entity_id = issue(world).json()["entityId"]
        row = AssertionSync.objects.get()
        before = timezone.now()
        assert sync.run_sync(row.pk) == "pending"
        row.refresh_from_db()
        assert row.attempts == 1 and row.last_error == "Accredible answered 429: Slow down"
        waited = (row.next_attempt_at - before).total_seconds()
        assert 6 <= waited <= 8
        [retry] = [
            r
            for r in default_task_backend.results
            if r.task.name == "mirror_assertion" and r.task.run_after
        ]
        assert abs((retry.task.run_after - row.next_attempt_at).total_seconds()) < 1
        assert sync.run_sync(row.pk) == "pending"  # 503: backoff
        row.refresh_from_db()
        base = ibl_settings.WEBHOOK_RETRY_BASE_SECONDS * 3
        waited = (row.next_attempt_at - timezone.now()).total_seconds()
        assert base * 0.7 <= waited <= base * 1.25
        assert sync.run_sync(row.pk) == "failed"
        assert sync.run_sync(row.pk) == "gone"
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.last_error == "Accredible answered 503: Internal server error"
    assert len(fake.calls) == 3
    detail = world.client("learner_p1").get(detail_url(entity_id))
    assert detail.json()["externalSync"][0] | {"syncedAt": None} == {
        "provider": "accredible",
        "state": "failed",
        "operation": "create",
        "externalId": None,
        "attempts": 3,
        "lastError": "Accredible answered 503: Internal server error",
        "syncedAt": None,
    }
    page = admin_client.get("/admin/ibl_credentials/assertionsync/?state=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Accredible answered 503: Internal server error" in text and entity_id in text
    assert API_KEY not in text and API_KEY not in caplog.text


def test_a_wrong_key_fails_at_once_and_the_admin_queues_it_again(
    world, credential, django_capture_on_commit_callbacks, admin_client
):
    default_task_backend.clear()
    with fake_accredible(api_key=OTHER_KEY) as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            issue(world)
        assert run_queued() == ["failed"]
        row = AssertionSync.objects.get()
        assert row.last_error == "Accredible answered 401: HTTP Token: Access denied."
        fake.api_key = API_KEY  # the key is right at Accredible now
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/ibl_credentials/assertionsync/",
                {"action": "mirror_again", "_selected_action": [row.pk]},
            )
        assert response.status_code == 302
        assert run_queued() == ["synced"]
    row.refresh_from_db()
    assert (row.state, row.external_id, row.last_error) == ("synced", "10000005", "")


def test_a_timeout_is_retried(world, credential, django_capture_on_commit_callbacks):
    default_task_backend.clear()
    with fake_accredible(script=["slow"], slow_seconds=2) as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            issue(world)
        assert run_queued() == ["pending"]
        row = AssertionSync.objects.get()
        assert row.last_error == "Timeout: Accredible did not answer within 1 s."
        assert queued_syncs() == [row.pk]
        assert run_queued() == ["synced"]


def test_the_admin_never_shows_the_key(world, admin_client):
    save_config(world, {"accredible_api_key": API_KEY})
    row = ProviderConfig.objects.get()
    page = admin_client.get(f"/admin/ibl_credentials/providerconfig/{row.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert MASKED in text and API_KEY not in text and row.encrypted_config not in text
    listing = admin_client.get("/admin/ibl_credentials/providerconfig/")
    assert listing.status_code == 200 and API_KEY not in listing.content.decode()


def test_the_sweeper_queues_stalled_syncs_again(
    world, credential, django_capture_on_commit_callbacks
):
    assertion = AssertionFactory(credential=credential, recipient=world.users["learner_p1"])
    stalled = AssertionSync.objects.create(
        platform=world.p1,
        assertion=assertion,
        provider_name="accredible",
        operation="create",
        next_attempt_at=timezone.now() - dt.timedelta(hours=1),
    )
    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sync.requeue_stalled(timezone.now()) == "1 stalled provider sync queued again."
    assert queued_syncs() == [stalled.pk]


# Through the published client ---------------------------------------------------------


@pytest.mark.sdk_operations(
    "credentials_providers_retrieve",
    "credentials_orgs_users_provider_config_retrieve",
    "credentials_orgs_users_provider_config_retrieve2",
    "credentials_orgs_users_provider_config_create",
    "credentials_orgs_users_provider_config_create2",
    "credentials_orgs_users_provider_config_destroy",
    "credentials_orgs_users_provider_config_destroy2",
    "credentials_orgs_users_external_mapping_retrieve",
    "credentials_orgs_users_external_mapping_retrieve2",
    "credentials_orgs_users_external_mapping_create",
    "credentials_orgs_users_external_mapping_create2",
    "credentials_orgs_users_external_mapping_destroy",
    "credentials_orgs_users_external_mapping_destroy2",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.live
def test_every_provider_operation_through_the_published_client(world, published_client):
    """The 13 operations of the client (the providers list, and the six platform ones in
    their user_id and username forms), built and sent by ``iblai`` 4.202.2."""
    from iblai import models as sdk

    issuer = IssuerFactory(platform=world.p1, entity_id="issuer-p1")
    CredentialFactory(issuer=issuer, entity_id="python-101", name="Python 101")
    api = published_client.credentials(world.keys["platform_admin_p1"])
    admin = world.users["platform_admin_p1"]
    by_id = {"platform_key": "p1", "user_id": admin.pk}
    by_name = {"platform_key": "p1", "username": "platform_admin_p1"}

    def body(response) -> Any:
        return json.loads(response.data) if response.data else None

    def send(operation: str, query: str = "", **params: Any):
        """The client's own request for ``operation``; ``query`` added to its URL (the
        client declares no parameter for what a DELETE names), or a free-form body."""
        method, url, headers, payload, post = getattr(api, f"_{operation}_serialize")(
            **params, _request_auth=None, _content_type=None, _headers=None, _host_index=0
        )
        return api.api_client.call_api(method, url + query, headers, payload, post).response

    listed = api.credentials_providers_retrieve()
    assert listed.status == 200
    assert body(listed)["result"]["data"][0]["name"] == "accredible"

    # provider-config: the client's model is the real body (its read-only fields are not sent)
    def config_model(key: str, enabled: bool) -> Any:
        now = timezone.now()
        return sdk.CredentialProviderConfig(
            id=0,
            platform_key="ignored",
            platform_name="ignored",
            provider_name="accredible",
            provider_name_display="ignored",
            config={"accredible_api_key": key},
            enabled=enabled,
            created=now,
            updated=now,
        )

    created = api.credentials_orgs_users_provider_config_create(
        credential_provider_config=config_model(API_KEY, True), **by_id
    )
    assert created.status == 201, body(created)
    result = sdk.CredentialProviderConfig.from_dict(body(created)["result"])
    assert (result.platform_key, result.config) == ("p1", {"accredible_api_key": MASKED})
    updated = api.credentials_orgs_users_provider_config_create2(
        credential_provider_config=config_model(OTHER_KEY, True), **by_name
    )
    assert updated.status == 200, body(updated)
    assert body(updated)["status"]["description"] == "Updated"
    assert ProviderConfig.objects.get().get_config() == {"accredible_api_key": OTHER_KEY}
    for read in (
        api.credentials_orgs_users_provider_config_retrieve(**by_id),
        api.credentials_orgs_users_provider_config_retrieve2(**by_name),
    ):
        assert read.status == 200
        [row] = body(read)["result"]["data"]
        assert sdk.CredentialProviderConfig.from_dict(row).config == {
            "accredible_api_key": "****" + OTHER_KEY[-4:]
        }

    # external-mapping: credential_id is read-only in the client's model, so free-form
    mapping = {"credential_id": "python-101", "provider_name": "accredible", "group_id": "9549"}
    made = send(
        "credentials_orgs_users_external_mapping_create",
        **by_id,
        external_credential_mapping=mapping,
    )
    assert made.status == 201, body(made)
    assert sdk.ExternalCredentialMapping.from_dict(body(made)["result"]).group_id == "9549"
    remade = send(
        "credentials_orgs_users_external_mapping_create2",
        **by_name,
        external_credential_mapping={**mapping, "external_template_id": "123"},
    )
    assert remade.status == 200, body(remade)
    for read in (
        api.credentials_orgs_users_external_mapping_retrieve(**by_id),
        api.credentials_orgs_users_external_mapping_retrieve2(**by_name),
    ):
        assert read.status == 200
        [row] = body(read)["result"]["data"]
        parsed = sdk.ExternalCredentialMapping.from_dict(row)
        assert (parsed.credential_id, parsed.external_template_id) == ("python-101", "123")

    # DELETEs: the client sends no body; the query names the object
    names = "?credential_id=python-101&provider_name=accredible"
    gone = send("credentials_orgs_users_external_mapping_destroy", names, **by_id)
    assert gone.status == 204
    again = send("credentials_orgs_users_external_mapping_destroy2", names, **by_name)
    assert again.status == 404
    off = send(
        "credentials_orgs_users_provider_config_destroy", "?provider_name=accredible", **by_id
    )
    assert off.status == 204
    off_again = send(
        "credentials_orgs_users_provider_config_destroy2", "?provider_name=accredible", **by_name
    )
    assert off_again.status == 204  # already off: still off
    assert not ProviderConfig.objects.get().enabled
    assert not ExternalCredentialMapping.objects.exists()


def test_a_revocation_queued_while_the_create_is_out_still_deletes_it(
    world, credential, django_capture_on_commit_callbacks, monkeypatch
):
    default_task_backend.clear()
    with fake_accredible() as fake, provider_settings(fake.url):
        configured(world, credential)
        with django_capture_on_commit_callbacks(execute=True):
            entity_id = issue(world).json()["entityId"]
        [sync_id] = queued_syncs()
        default_task_backend.clear()
        create = AccredibleClient.create

        def create_then_revoked(self, record):
            external_id = create(self, record)
            with django_capture_on_commit_callbacks(execute=True):
                revoke(world, entity_id)  # its delete is queued before the id is recorded
            return external_id

        monkeypatch.setattr(AccredibleClient, "create", create_then_revoked)
        with django_capture_on_commit_callbacks(execute=True):
            assert sync.run_sync(sync_id) == "gone"  # the create's result went to the delete
        row = AssertionSync.objects.get()
        assert (row.state, row.operation, row.external_id) == ("pending", "delete", "10000005")
        # The delete; the other queued attempts (the revocation's own) find nothing to do.
        outcomes = run_queued()
        assert outcomes[0] == "synced" and set(outcomes[1:]) == {"gone"}
    assert fake.credentials == {}
    assert [(c.method, c.path) for c in fake.calls] == [
        ("POST", "/v1/credentials"),
        ("DELETE", "/v1/credentials/10000005"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_mirror_that_cannot_be_scheduled_does_not_fail_the_issue(
    world, credential, monkeypatch, caplog
):
    configured(world, credential)

    def broken(platform_id, event_ids):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(sync, "schedule_from_events", broken)
    response = issue(world)
    assert response.status_code == 201
    assert Assertion.objects.count() == 1
    assert "the database went away" in caplog.text
