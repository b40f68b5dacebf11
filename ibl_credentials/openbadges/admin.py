"""Open Badges in the admin: read-only, and never the private key (not even encrypted).

Keys are made with their issuer and rotated with ``manage.py ibl_ob_rotate_key``;
signed credentials and status lists are made by the public endpoints. Keys, status
lists, their entries and revocations cannot be deleted here either: what was issued
must stay verifiable (``docs/trust.md``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ibl_core.admin.base import ReadOnlyAdmin
from ibl_credentials.models import Revocation
from ibl_credentials.openbadges.models import IssuerKey, SignedCredential, StatusEntry, StatusList


class PermanentAdmin(ReadOnlyAdmin):
    """Read-only and never deleted by hand."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IssuerKey)
class IssuerKeyAdmin(PermanentAdmin):
    list_display = ("did", "issuer", "created", "retired")
    list_select_related = ("issuer",)
    search_fields = ("did", "issuer__entity_id", "issuer__name")
    fields = ("issuer", "did", "created", "retired")  # never private_key_encrypted


@admin.register(SignedCredential)
class SignedCredentialAdmin(ReadOnlyAdmin):
    list_display = ("assertion", "issuer", "entry", "signed_at")
    list_select_related = ("assertion", "issuer", "entry__status_list")
    search_fields = ("assertion__entity_id", "issuer__entity_id")
    fields = ("assertion", "issuer", "entry", "status_index", "signed_at", "content_hash", "jwt")


@admin.register(StatusList)
class StatusListAdmin(PermanentAdmin):
    list_display = ("entity_id", "issuer", "did", "full", "built_at")
    list_select_related = ("issuer",)
    search_fields = ("entity_id", "did", "issuer__entity_id")
    fields = ("entity_id", "issuer", "did", "key", "full", "created", "built_at", "jwt")


@admin.register(StatusEntry)
class StatusEntryAdmin(PermanentAdmin):
    list_display = ("assertion_entity_id", "status_list", "index", "created")
    list_select_related = ("status_list",)
    search_fields = ("assertion_entity_id", "status_list__entity_id")
    fields = ("status_list", "index", "assertion_entity_id", "created")


@admin.register(Revocation)
class RevocationAdmin(PermanentAdmin):
    list_display = ("entity_id", "platform", "revoked_at", "revocation_reason")
    list_select_related = ("platform",)
    search_fields = ("entity_id",)
    list_filter = ("platform",)
    fields = ("entity_id", "platform", "revoked_at", "revocation_reason")
