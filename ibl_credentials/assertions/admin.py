"""The admin page of assertions: find them, and revoke them with a reason.

Loaded by ``ibl_credentials.admin``. The "Revoke" action takes its reason from a field
of the action bar and revokes through the same service as the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ibl_core.admin.base import ReadOnlyAdmin
from ibl_credentials.assertions import services
from ibl_credentials.models import Assertion, BulkIssueJob


class RevokeActionForm(ActionForm):
    """The action bar, with the reason the "Revoke" action records."""

    reason = forms.CharField(
        required=False, label="Revocation reason", widget=forms.TextInput(attrs={"size": 40})
    )


@admin.register(Assertion)
class AssertionAdmin(admin.ModelAdmin):
    list_display = (
        "entity_id",
        "credential",
        "recipient",
        "platform",
        "item_kind",
        "item_key",
        "issued_on",
        "expires",
        "revoked",
        "superseded",
        "acceptance",
    )
    list_filter = ("revoked", "superseded", "acceptance", "item_kind", "platform")
    search_fields = (
        "entity_id",
        "credential__name",
        "credential__entity_id",
        "recipient__username",
        "recipient__email",
        "item_key",
    )
    list_select_related = ("credential", "recipient", "platform")
    raw_id_fields = ("credential", "recipient", "issued_by")
    date_hierarchy = "issued_on"
    # Issued through the API or the bulk endpoint only: they resolve the recipient and
    # the item, compute the expiry and keep one active assertion per item. Here an
    # assertion's narrative, evidence, metadata and expiry may be corrected; revoking
    # goes through the action, with a reason.
    readonly_fields = (
        "public_url",
        "entity_id",
        "platform",
        "credential",
        "recipient",
        "item_kind",
        "item_key",
        "item_name",
        "issued_on",
        "issued_by",
        "revoked",
        "revocation_reason",
        "revoked_at",
        "superseded",
        "acceptance",
        "created",
        "modified",
    )
    action_form = RevokeActionForm
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Public page")
    def public_url(self, assertion: Assertion) -> str:
        if not assertion.pk:
            return "-"
        url = reverse("credentials-public-assertion", kwargs={"entity_id": assertion.entity_id})
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.action(description="Revoke the selected assertions (give a reason)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Assertion]) -> Any:
        reason = str(request.POST.get("reason", "")).strip()
        if not reason:
            self.message_user(
                request, "Type a revocation reason to revoke assertions.", messages.ERROR
            )
            return None
        revoked = services.revoke_many(queryset, reason)
        self.message_user(request, f"Revoked {revoked} assertion(s).", messages.SUCCESS)
        return None


@admin.register(BulkIssueJob)
class BulkIssueJobAdmin(ReadOnlyAdmin):
    """Bulk issues answered 202 and run by a task: read-only, the system's record."""

    list_display = (
        "entity_id",
        "platform",
        "credential",
        "status",
        "user_count",
        "issued_count",
        "skipped_count",
        "requested_by",
        "created",
        "finished",
    )
    list_filter = ("status", "platform", "created")
    search_fields = ("entity_id", "credential__entity_id", "credential__name")
    list_select_related = ("platform", "credential", "requested_by")
    date_hierarchy = "created"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return JobChangeList


class JobChangeList(ChangeList):
    """The jobs' list page: it shows neither the stored request nor the result, which
    hold up to 10,000 names each, so it does not read them (the job's page does)."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return super().get_queryset(request, exclude_parameters).defer("request", "result")
