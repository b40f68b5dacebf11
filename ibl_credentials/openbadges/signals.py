"""Receivers connected by the app: a key for every new issuer, and the request's host."""

from __future__ import annotations

from typing import Any

from django.core.signals import request_finished, request_started
from django.db.models.signals import post_save

from ibl_credentials.openbadges import links


def issuer_created(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any):
    """Generate the Ed25519 key of an issuer as it is created (not for fixtures)."""
    if created and not raw:
        from ibl_credentials.openbadges.signing import new_key

        new_key(instance)


def connect() -> None:
    from ibl_credentials.models import Issuer

    post_save.connect(issuer_created, sender=Issuer, dispatch_uid="ibl_openbadges_issuer_key")
    request_started.connect(links.remember_request, dispatch_uid="ibl_openbadges_request")
    request_finished.connect(links.forget_request, dispatch_uid="ibl_openbadges_request_end")
