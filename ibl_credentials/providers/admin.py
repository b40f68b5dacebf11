"""The admin pages of providers: configurations (secrets masked, never editable here),
mappings, and each assertion's mirror with its state and the provider's last error.

Loaded by ``ibl_credentials.admin``. A configuration's API key is set through the API
only: the admin shows it masked, as the API does, and never holds it in a form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from ibl_core.admin.base import ReadOnlyAdmin
from ibl_credentials.providers import sync
from ibl_credentials.providers.encryption import masked_config
from ibl_credentials.providers.models import (
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    list_display = ("provider_name", "platform", "enabled", "created", "updated")
    list_filter = ("provider_name", "enabled", "platform")
    list_select_related = ("platform",)
    search_fields = ("provider_name", "platform__key", "platform__name")
    fields = ("platform", "provider_name", "masked_config", "enabled", "created", "updated")
    readonly_fields = ("platform", "provider_name", "masked_config", "created", "updated")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the API key is given through the API, never typed into a form here

    @admin.display(description="Config (secrets masked)")
    def masked_config(self, config: ProviderConfig) -> str:
        values = masked_config(config.get_config())
        return format_html_join(", ", "{}: {}", sorted(values.items())) or "-"


@admin.register(ExternalCredentialMapping)
class ExternalCredentialMappingAdmin(admin.ModelAdmin):
    list_display = (
        "credential",
        "provider_name",
        "external_template_id",
        "group_id",
        "platform",
        "updated",
    )
    list_filter = ("provider_name", "platform")
    list_select_related = ("credential", "platform")
    search_fields = ("credential__entity_id", "credential__name", "external_template_id")
    # The credential and the provider are the mapping's identity (checked by the API
    # against the platform); the template, group and metadata may be corrected here.
    readonly_fields = ("platform", "credential", "provider_name", "created", "updated")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # through the API, which checks the credential's platform


@admin.register(AssertionSync)
class AssertionSyncAdmin(ReadOnlyAdmin):
    """Each assertion's mirror at a provider: pending, synced, or failed with the error."""

    list_display = (
        "assertion",
        "provider_name",
        "state",
        "operation",
        "attempts",
        "short_error",
        "external_id",
        "next_attempt_at",
        "updated",
    )
    list_filter = ("state", "operation", "provider_name", "platform")
    list_select_related = ("assertion",)
    search_fields = ("assertion__entity_id", "external_id", "last_error")
    actions = ("mirror_again",)

    @admin.display(description="Last error")
    def short_error(self, sync_row: AssertionSync) -> str:
        error = sync_row.last_error
        return error if len(error) <= 120 else error[:119] + "…"

    @admin.action(description="Mirror the selected assertions again (failed or pending)")
    def mirror_again(self, request: HttpRequest, queryset: QuerySet[AssertionSync]) -> Any:
        count = sync.retry_syncs(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued {count} sync(s) again.", messages.SUCCESS)
        return None
