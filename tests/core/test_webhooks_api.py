"""``/api/core/orgs/{org}/webhooks/``: endpoints for platform admins and DM admins."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from ibl_core.events.tasks import default_task_backend
from ibl_core.events.webhooks import delivery
from ibl_core.events.webhooks.services import create_endpoint
from ibl_core.models import WebhookEndpoint
from tests.conftest import ROLES
from tests.support.webhook_receiver import receiver

pytestmark = pytest.mark.django_db
URL = "/api/core/orgs/p1/webhooks/"
HOOK = "https://127.0.0.1/hooks"


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def bare(endpoint: WebhookEndpoint) -> dict:
    endpoint.refresh_from_db()
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
        "description": endpoint.description,
        "created": iso(endpoint.created),
    }


def test_create_answers_201_with_the_secret_once(world):
    client = world.client("platform_admin_p1")
    body = {"url": HOOK, "events": ["suggestion.created", "assertion.issued"],
            "description": "CRM sync"}  # fmt: skip
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert response.json() == {**bare(endpoint), "secret": endpoint.secret}
    assert endpoint.secret.startswith("whsec_") and endpoint.platform == world.p1
    assert client.get(URL).json() == [bare(endpoint)]
    assert client.get(f"{URL}{endpoint.pk}/").json() == bare(endpoint)
    assert "secret" not in client.get(f"{URL}{endpoint.pk}/").json()


def test_every_type_by_default(world):
    response = world.client("dm_admin").post(URL, {"url": HOOK}, format="json")
    assert response.status_code == 201
    assert response.json()["events"] == [] and response.json()["active"] is True


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"url": ["This field is required."]}),
        ({"url": "ftp://x.org/"}, {"url": ["Use an https:// URL."]}),
        ({"url": HOOK, "events": ["nope"]}, {"events": {"0": ['"nope" is not a valid choice.']}}),
        ({"url": "https://169.254.169.254/"},
         {"url": ["Link-local and cloud metadata addresses are refused."]}),
    ],
)  # fmt: skip
def test_bad_bodies_are_400_and_create_nothing(world, body, errors):
    response = world.client("platform_admin_p1").post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not WebhookEndpoint.objects.exists()


def test_private_addresses_are_refused_without_the_setting(world):
    with override_settings(
        IBL_DATA_MANAGER={**settings.IBL_DATA_MANAGER, "WEBHOOKS_ALLOW_PRIVATE": False}
    ):
        response = world.client("platform_admin_p1").post(
            URL, {"url": "https://10.0.0.1/"}, format="json"
        )
    assert response.status_code == 400
    assert response.json() == {"url": ["The URL resolves to a loopback or private address."]}


def test_update_changes_the_fields_sent_and_turning_on_clears_the_reason(world):
    endpoint = create_endpoint(world.p1, url=HOOK)
    delivery.disable(endpoint, "The receiver answered 410 Gone.", endpoint.created)
    client = world.client("platform_admin_p1")
    response = client.patch(f"{URL}{endpoint.pk}/", {"active": True, "events": []}, format="json")
    assert response.status_code == 200
    assert response.json() == bare(endpoint)
    assert (endpoint.active, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)
    response = client.patch(f"{URL}{endpoint.pk}/", {"url": "http://"}, format="json")
    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK


def test_rotate_answers_a_new_secret_and_keeps_the_old_for_the_overlap(world):
    endpoint = create_endpoint(world.p1, url=HOOK)
    old = endpoint.secret
    response = world.client("platform_admin_p1").post(
        f"{URL}{endpoint.pk}/rotate-secret/", {"overlap_seconds": 600}, format="json"
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json() == {**bare(endpoint), "secret": endpoint.secret}
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert delivery.signing_secrets(endpoint, endpoint.modified) == [endpoint.secret, old]


def test_delete(world):
    endpoint = create_endpoint(world.p1, url=HOOK)
    response = world.client("platform_admin_p1").delete(f"{URL}{endpoint.pk}/")
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_send_a_test_event_and_list_recent_deliveries(world, django_capture_on_commit_callbacks):
    client = world.client("platform_admin_p1")
    default_task_backend.clear()
    with receiver(script=[500]) as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        with django_capture_on_commit_callbacks(execute=True):
            failed = client.post(f"{URL}{endpoint.pk}/test/")
            succeeded = client.post(f"{URL}{endpoint.pk}/test/")
        assert (failed.status_code, succeeded.status_code) == (202, 202)
        assert failed.json()["status"] == "pending" and failed.json()["attempts"] == 0
        queued = [r.args for r in default_task_backend.results if r.task.name == "attempt_delivery"]
        assert queued == [[failed.json()["id"]], [succeeded.json()["id"]]]
        for [delivery_id] in queued:  # the worker
            delivery.run_attempt(delivery_id)
    failed, succeeded = client.get(failed["Location"]), client.get(succeeded["Location"])
    body = failed.json()
    assert body["event_type"] == "webhook.test" and body["status"] == "failed"
    assert (body["attempts"], body["last_status_code"], body["last_response"]) == (
        1, 500, "answered 500"
    )  # fmt: skip
    assert succeeded.json()["status"] == "succeeded"
    recent = client.get(f"{URL}{endpoint.pk}/deliveries/").json()
    assert [d["id"] for d in recent] == [succeeded.json()["id"], failed.json()["id"]]
    assert recent[0] == succeeded.json()
    assert len(client.get(f"{URL}{endpoint.pk}/deliveries/", {"limit": 1}).json()) == 1


def test_a_delivery_of_another_endpoint_is_404(world):
    mine = create_endpoint(world.p1, url=HOOK)
    other = create_endpoint(world.p2, url=HOOK)
    theirs = delivery.send_test_event(other)
    client = world.client("platform_admin_p1")
    response = client.get(f"{URL}{mine.pk}/deliveries/{theirs.pk}/")
    assert (response.status_code, response.json()) == (404, {"detail": "Delivery not found."})


# -- how many endpoints a platform may have ----------------------------------------


def test_past_the_maximum_endpoints_creating_one_is_400_and_creates_nothing(world):
    client = world.client("platform_admin_p1")
    capped = {**settings.IBL_DATA_MANAGER, "WEBHOOK_MAX_ENDPOINTS": 3}
    create_endpoint(world.p2, url=HOOK)  # another platform's do not count
    with override_settings(IBL_DATA_MANAGER=capped):
        for _ in range(3):
            assert client.post(URL, {"url": HOOK}, format="json").status_code == 201
        response = client.post(URL, {"url": HOOK}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "detail": "A platform has at most 3 webhook endpoints; delete one to add another."
        }
        assert WebhookEndpoint.objects.filter(platform=world.p1).count() == 3
        # Deleting one makes room again.
        client.delete(f"{URL}{WebhookEndpoint.objects.filter(platform=world.p1).first().pk}/")
        assert client.post(URL, {"url": HOOK}, format="json").status_code == 201


def test_the_default_maximum_is_20_endpoints(world):
    for _ in range(20):
        create_endpoint(world.p1, url=HOOK)
    response = world.client("dm_admin").post(URL, {"url": HOOK}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A platform has at most 20 webhook endpoints; delete one to add another."
    }
    assert WebhookEndpoint.objects.filter(platform=world.p1).count() == 20


def test_another_platforms_endpoint_is_404(world):
    other = create_endpoint(world.p2, url=HOOK)
    client = world.client("platform_admin_p1")
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "rotate-secret/"),
                         ("post", "test/"), ("get", "deliveries/")]:  # fmt: skip
        response = getattr(client, method)(f"{URL}{other.pk}/{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    other.refresh_from_db()
    assert other.url == HOOK


EXPECTED = {
    "anonymous": 401,
    "outsider": 403,
    "learner_p1": 403,
    "learner_p2": 403,
    "department_admin": 403,
    "platform_admin_p1": 200,
    "platform_admin_p2": 403,
    "dm_admin": 200,
}


def test_the_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("operation", ["list", "create", "detail", "update", "delete", "rotate"])
def test_access(world, role, operation):
    endpoint = create_endpoint(world.p1, url=HOOK)
    client = world.client(role)
    detail = f"{URL}{endpoint.pk}/"
    response = {
        "list": lambda: client.get(URL),
        "create": lambda: client.post(URL, {"url": HOOK}, format="json"),
        "detail": lambda: client.get(detail),
        "update": lambda: client.patch(detail, {"description": "x"}, format="json"),
        "delete": lambda: client.delete(detail),
        "rotate": lambda: client.post(f"{detail}rotate-secret/"),
    }[operation]()
    allowed = EXPECTED[role] == 200
    expected = {"create": 201, "delete": 204}.get(operation, 200) if allowed else EXPECTED[role]
    assert response.status_code == expected, response.content
    remaining = WebhookEndpoint.objects.count()
    assert remaining == (0 if allowed and operation == "delete" else
                         2 if allowed and operation == "create" else 1)  # fmt: skip
