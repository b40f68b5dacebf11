"""Admin pages of events and webhooks: endpoints (secret shown once, rotation,
disabled ones and why), deliveries with their attempts, and the events themselves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from ibl_core.admin.base import ReadOnlyAdmin
from ibl_core.events.webhooks import services
from ibl_core.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("platform", "url", "events", "active", "description")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            if "url" in cleaned:
                services.check_url(cleaned["url"])
            moving = self.instance._state.adding or "platform" in self.changed_data
            if moving and cleaned.get("platform") is not None:
                services.check_room(cleaned["platform"])
            events = cleaned.get("events") or []
            if not isinstance(events, list):
                raise ValidationError({"events": ["A list of event types ([] for every type)."]})
            services.check_events(events)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # about the platform's endpoints
                self.add_error("platform", error)
                return cleaned
            for field, problems in error.message_dict.items():
                self.add_error(field, problems)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """The secret is generated on creation and shown once, in the success message."""

    form = WebhookEndpointForm
    list_display = (
        "url", "platform", "active", "events", "failing_since", "parked_until", "disabled_reason"
    )  # fmt: skip
    list_filter = ("active", "platform")
    search_fields = ("url", "description", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)
    readonly_fields = (
        "failing_since",
        "disabled_reason",
        "disabled_at",
        "receiving_since",
        "timeouts_in_row",
        "parked_until",
        "created",
        "modified",
    )
    actions = ("rotate_secrets", "enable")

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if change:
            if "active" in form.changed_data and obj.active:
                obj.active = False  # as it was before the form turned it on
                obj.turn_on()
            super().save_model(request, obj, form, change)
            return
        created = services.create_endpoint(
            obj.platform,
            url=obj.url,
            events=obj.events,
            active=obj.active,
            description=obj.description,
        )
        obj.pk, obj.secret, obj.created = created.pk, created.secret, created.created
        obj._state.adding = False
        self.message_user(
            request,
            f"The signing secret is {created.secret} . Copy it now: it will not be shown again.",
            level=messages.WARNING,
        )

    @admin.action(description="Rotate the secrets (the old ones sign for the overlap period)")
    def rotate_secrets(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = services.rotate_secret(endpoint)
            self.message_user(
                request, f"{endpoint.url}: new secret {secret} (shown once).", messages.WARNING
            )

    @admin.action(description="Turn on again (clears why they were off)")
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        count = services.turn_on_endpoints(queryset)
        self.message_user(request, f"{count} endpoint(s) on.")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_type", "endpoint", "status", "attempts", "last_status_code",
                    "next_attempt_at", "created")  # fmt: skip
    list_filter = ("status", "event_type")
    search_fields = ("message_id", "endpoint__url")
    list_select_related = ("endpoint",)
    inlines = (WebhookAttemptInline,)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("delivery", "number", "started", "status_code", "latency_ms", "error")
    list_select_related = ("delivery",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "object_id", "platform", "created", "dispatched")
    list_filter = ("type", "platform")
    search_fields = ("object_id",)
    list_select_related = ("platform",)
