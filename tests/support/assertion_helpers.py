"""URLs and exact bodies for the assertion tests, built from the database."""

from __future__ import annotations

import datetime as dt

from ibl_credentials.models import Assertion


def user_url(user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/assertions/"


def detail_url(entity_id: str, user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/assertions/{entity_id}"


def credential_url(entity_id: str, user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/{entity_id}/assertions/"


def bulk_url(entity_id: str, user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/{entity_id}/assertions/bulk/"


def revoke(world, entity_id: str, reason: str = "Cheated") -> None:
    """Revoke an assertion of p1 through the API, as its platform admin."""
    response = world.client("platform_admin_p1").put(
        detail_url(entity_id, "platform_admin_p1"),
        {"revoked": True, "revocationReason": reason},
        format="json",
    )
    assert response.status_code == 200, response.content


def public_url(entity_id: str) -> str:
    return f"/api/credentials/public/assertions/{entity_id}/"


def z(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else ""


def assertion_json(assertion: Assertion, *, public: bool = False) -> dict:
    """The exact assertion object, from the database."""
    assertion = Assertion.objects.select_related("credential__issuer", "recipient").get(
        pk=assertion.pk
    )
    user, credential = assertion.recipient, assertion.credential
    name = f"{user.first_name} {user.last_name}".strip()
    item = {"key": assertion.item_key, "name": assertion.item_name}
    return {
        "entityId": assertion.entity_id,
        "issuedOn": z(assertion.issued_on),
        "expires": z(assertion.expires),
        "credentialDetails": {
            "entityId": credential.entity_id,
            "name": credential.name,
            "description": credential.description,
            "iconImage": credential.icon_image,
            "credentialType": credential.credential_type,
            "issuer": credential.issuer.entity_id,
        },
        "recipient": {"name": name}
        if public
        else {
            "username": user.username,
            "email": user.email,
            "name": name,
            "user_id": str(user.pk),
        },
        "course": item if assertion.item_kind == "course" else {},
        "program": item if assertion.item_kind == "program" else {},
        "pathway": item if assertion.item_kind == "pathway" else {},
        "metadata": assertion.metadata,
        "narrative": assertion.narrative,
        "evidence": assertion.evidence,
        "revoked": assertion.revoked,
        "revocationReason": assertion.revocation_reason,
        "acceptance": assertion.acceptance,
        "verifyUrl": f"http://testserver/ob/v2/assertions/{assertion.entity_id}",
        "imageUrl": f"http://testserver/ob/v2/assertions/{assertion.entity_id}/image?format=png",
    }


def page(data: list, count: int | None = None, **overrides) -> dict:
    return {
        "next": None,
        "previous": None,
        "count": len(data) if count is None else count,
        "num_pages": 1,
        "page_number": 1,
        "max_page_size": 1000,
        "data": data,
        **overrides,
    }
