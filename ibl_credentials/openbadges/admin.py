"""Open Badges in the admin: read-only, and never the private key (not even encrypted).

Keys are made with their issuer and rotated with ``manage.py ibl_ob_rotate_key``;
signed credentials and status lists are made by the public endpoints.
"""

from __future__ import annotations

from django.contrib import admin

from ibl_core.admin_base import ReadOnlyAdmin

from .models import IssuerKey, SignedCredential, StatusList


@admin.register(IssuerKey)
class IssuerKeyAdmin(ReadOnlyAdmin):
    list_display = ("did", "issuer", "created", "retired")
    list_select_related = ("issuer",)
    search_fields = ("did", "issuer__entity_id", "issuer__name")
    fields = ("issuer", "did", "created", "retired")  # never private_key_encrypted


@admin.register(SignedCredential)
class SignedCredentialAdmin(ReadOnlyAdmin):
    list_display = ("assertion", "issuer", "status_index", "signed_at")
    list_select_related = ("assertion", "issuer")
    search_fields = ("assertion__entity_id", "issuer__entity_id")
    fields = ("assertion", "issuer", "status_index", "signed_at", "content_hash", "jwt")


@admin.register(StatusList)
class StatusListAdmin(ReadOnlyAdmin):
    list_display = ("issuer", "built_at")
    list_select_related = ("issuer",)
    fields = ("issuer", "built_at", "fingerprint", "jwt")
