"""Event tables: the outbox and the webhook endpoints, deliveries and attempts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ibl_core.tenancy.models import Platform, TimeStampedModel


class Event(models.Model):
    """Something that happened on a platform, recorded in the transaction that made it
    happen (an outbox): webhooks deliver it once that transaction commits.

    ``payload`` is the object as the API answers it; ``object_id`` is its id there
    (a suggestion's id, an assertion's entity id...).
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    payload = models.JSONField()
    created = models.DateTimeField(default=timezone.now)
    #: When its deliveries were created (null: not yet; the sweeper looks for those).
    dispatched = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["platform", "created"], name="ibl_event_platform_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.object_id}"


class WebhookEndpoint(TimeStampedModel):
    """A URL of a platform's that receives its events, signed per Standard Webhooks.

    ``events`` lists the event types it receives; an empty list receives every type.
    ``secret`` signs deliveries (``whsec_`` + base64); after a rotation
    ``previous_secret`` signs them too until ``previous_secret_expires``, so a receiver
    can switch secrets without refusing a delivery.
    """

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=500, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Start of the current run of failed attempts."
    )
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    receiving_since = models.DateTimeField(
        default=timezone.now,
        editable=False,
        help_text="It receives the events recorded from this time on: when it was created, "
        "or last turned on again.",
    )
    timeouts_in_row = models.PositiveIntegerField(
        default=0, editable=False, help_text="Attempts in a row that ran out of time."
    )
    parked_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Parked after attempts in a row ran out of time: nothing is sent to it "
        "until then, then one attempt tells whether it answers again.",
    )

    class Meta:
        ordering = ["platform", "id"]
        indexes = [models.Index(fields=["platform", "active"], name="ibl_webhook_platform_active")]

    def __str__(self) -> str:
        return f"{self.url} ({self.platform_id})"

    def receives(self, event_type: str) -> bool:
        return not self.events or event_type in self.events

    def turn_on(self) -> list[str]:
        """Turn it on again: clear why it was off and, if it was off, receive the events
        recorded from now on (not those recorded while it was off). The fields
        changed."""
        changed = ["active", "disabled_reason", "disabled_at", "failing_since"]
        if not self.active:
            self.receiving_since = timezone.now()
            changed.append("receiving_since")
        self.active = True
        self.disabled_reason, self.disabled_at, self.failing_since = "", None, None
        return changed


class WebhookDelivery(models.Model):
    """One event (or test message) to deliver to one endpoint, attempt after attempt."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64, help_text="The webhook-id header.")
    event_type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-id"], name="ibl_delivery_endpoint")]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id}: {self.status}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what the receiver answered, and how fast."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_records"
    )
    number = models.PositiveIntegerField()
    started = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
