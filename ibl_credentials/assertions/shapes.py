"""The assertion object of the API, built from rows already loaded (no query per row).

The published model types the nested objects as string-to-string maps and the dates,
``expires`` and ``revocationReason`` as strings: every value inside
``credentialDetails``, ``recipient`` and ``course``/``program``/``pathway`` is a
string, an unset ``expires`` or ``revocationReason`` is ``""``, and datetimes are UTC
with a ``Z``. Callers load the assertion with :data:`RELATED` (selectors do).
"""

from __future__ import annotations

from ibl_core.api.representation import utc_text
from ibl_core.tenancy.scope import user_full_name
from ibl_credentials.models import Assertion, ItemKind

#: What :func:`assertion_object` reads through foreign keys: one join, no extra query.
RELATED = ("credential__issuer", "recipient")
#: ``ItemKind.values``, read once (the enum builds the list on every read).
ITEM_KINDS = tuple(ItemKind.values)


def credential_details(assertion: Assertion) -> dict[str, str]:
    credential = assertion.credential
    return {
        "entityId": credential.entity_id,
        "name": credential.name,
        "description": credential.description,
        "iconImage": credential.icon_image,
        "credentialType": credential.credential_type,
        "issuer": credential.issuer.entity_id,
    }


def item_objects(assertion: Assertion) -> dict[str, dict[str, str]]:
    """``course``, ``program``, ``pathway``: ``{key, name}`` for its item, else ``{}``."""
    return {
        kind: (
            {"key": assertion.item_key, "name": assertion.item_name}
            if assertion.item_kind == kind
            else {}
        )
        for kind in ITEM_KINDS
    }


def assertion_object(assertion: Assertion, *, recipient: dict[str, str] | None = None) -> dict:
    """The assertion as the API answers it (``recipient`` replaces the recipient object)."""
    user = assertion.recipient
    return {
        "entityId": assertion.entity_id,
        "issuedOn": utc_text(assertion.issued_on),
        "expires": utc_text(assertion.expires),
        "credentialDetails": credential_details(assertion),
        "recipient": recipient
        if recipient is not None
        else {
            "username": user.get_username(),
            "email": user.email or "",
            "name": user_full_name(user),
            "user_id": str(user.pk),
        },
        **item_objects(assertion),
        "metadata": assertion.metadata,
        "narrative": assertion.narrative,
        "evidence": assertion.evidence,
        "revoked": assertion.revoked,
        "revocationReason": assertion.revocation_reason,
        "acceptance": assertion.acceptance,
        **open_badges_urls(assertion),
    }


def open_badges_urls(assertion: Assertion) -> dict[str, str]:
    """``verifyUrl`` (the Open Badges 2.0 hosted assertion) and ``imageUrl`` (baked PNG)."""
    from ibl_credentials.openbadges import links

    base = links.base_url()
    return {
        "verifyUrl": links.assertion_url(assertion.entity_id, base),
        "imageUrl": links.assertion_image_url(assertion.entity_id, base),
    }


#: Stands for the entity id in :func:`open_badges_url_templates` (entity ids are
#: [A-Za-z0-9_-], so none contains it).
ENTITY_MARK = "~entity~"


def open_badges_url_templates() -> dict[str, str]:
    """:func:`open_badges_urls` with :data:`ENTITY_MARK` for the entity id: a bulk
    issue's events have the database put each row's in its place."""
    return open_badges_urls(Assertion(entity_id=ENTITY_MARK))


def public_assertion_object(assertion: Assertion) -> dict:
    """The assertion for anyone: the recipient is shown by name only."""
    return assertion_object(assertion, recipient={"name": user_full_name(assertion.recipient)})
