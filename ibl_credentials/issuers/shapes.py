"""The issuer and signatory objects as the API answers them, built from rows."""

from __future__ import annotations

from typing import Any

from ibl_credentials.models import Issuer, Signatory


def issuer_object(issuer: Issuer) -> dict[str, Any]:
    """The issuer object; ``signatories`` maps each issuer-wide signatory to its title."""
    return {
        "name": issuer.name,
        "org": issuer.platform.key,
        "entityId": issuer.entity_id,
        "signatories": {signatory.name: signatory.title for signatory in issuer.signatories.all()},
        "url": issuer.url,
        "iconImage": issuer.icon_image,
        "email": issuer.email,
        "allowed_template_tags": issuer.allowed_template_tags,
    }


def signatory_object(signatory: Signatory) -> dict[str, str]:
    """A signatory as credentials and the signatories endpoint show it."""
    return {
        "name": signatory.name,
        "title": signatory.title,
        "signature": signatory.signature_image,
    }
