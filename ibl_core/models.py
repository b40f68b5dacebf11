"""Tenancy tables: platforms, who belongs to them, departments, user groups, API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """``created`` / ``modified`` columns kept by the database layer."""

    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Platform(TimeStampedModel):
    """A tenant. Everything in the other apps belongs to exactly one platform."""

    key = models.SlugField(max_length=100, unique=True, help_text="Identifier used in the API.")
    org = models.CharField(
        max_length=100, unique=True, help_text="Organization identifier (alternative lookup)."
    )
    name = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(
        default=True, help_text="Inactive platforms answer 404 everywhere in the API."
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        validate_platform_identifiers(key=self.key, org=self.org, pk=self.pk)


def validate_platform_identifiers(*, key: str, org: str, pk: int | None = None) -> None:
    """Refuse a key that is another platform's org, or an org that is another's key.

    An ``{org}`` path segment is matched against ``Platform.key`` first, then
    ``Platform.org``: with such a pair, a segment would name a different tenant than
    ``platform_org`` does. The rule spans rows, so no database constraint can hold it;
    the admin (through :meth:`Platform.clean`) and ``ibl_platform`` both call this.
    Uniqueness of each column on its own is the unique indexes' job.
    """
    others = Platform.objects.exclude(pk=pk) if pk is not None else Platform.objects.all()
    errors: dict[str, str] = {}
    if key:
        clash = others.filter(org=key).values_list("key", flat=True).first()
        if clash is not None:
            errors["key"] = f"{key!r} is the org of platform {clash!r}: choose another key."
    if org:
        clash = others.filter(key=org).values_list("key", flat=True).first()
        if clash is not None:
            errors["org"] = f"{org!r} is the key of platform {clash!r}: choose another org."
    if errors:
        raise ValidationError(errors)


class PlatformMembership(TimeStampedModel):
    """A user belongs to a platform; ``is_admin`` makes them a platform admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_memberships"
    )
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "platform"], name="ibl_membership_unique")
        ]
        indexes = [models.Index(fields=["platform", "user"], name="ibl_membership_platform")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.platform_id}"


class Department(models.Model):
    """A group of users inside a platform, managed by its department admins."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=255)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="DepartmentMember",
        related_name="ibl_departments",
        blank=True,
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="DepartmentAdmin",
        related_name="ibl_administered_departments",
        blank=True,
    )

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "name"], name="ibl_department_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform_id})"


class DepartmentMember(models.Model):
    """A user who belongs to a department (a department admin may manage them)."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="ibl_dept_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.department_id}"


class DepartmentAdmin(models.Model):
    """A user who administers a department (acts in ``department_mode``)."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="ibl_dept_admin_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} admin of {self.department_id}"


class UserGroup(TimeStampedModel):
    """Learners of a platform grouped by hand, to suggest things to all of them at once.

    Change who belongs only through ``ibl_core.groups``: it checks that each user is a
    member of the platform and tells listeners (``group_members_changed``) in the same
    transaction.
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="user_groups")
    name = models.CharField(max_length=255)
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="user_groups",
        help_text="Its department admins may manage the group's suggestions.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="UserGroupMember",
        related_name="ibl_user_groups",
        blank=True,
    )

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "name"], name="ibl_usergroup_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        department = self.department if self.department_id is not None else None
        if department is not None and department.platform_id != self.platform_id:
            raise ValidationError(
                {"department": "Choose a department of the group's platform."},
                code="department_of_another_platform",
            )


class UserGroupMember(models.Model):
    """A user in a user group. Written only by ``ibl_core.groups``."""

    group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ibl_group_memberships"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="ibl_usergroup_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


def hash_api_key(raw_key: str) -> str:
    """SHA-256 hex digest of a key. Keys carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(raw_key.encode("ascii")).hexdigest()


class APIKeyManager(models.Manager["APIKey"]):
    def issue(
        self,
        *,
        user: Any,
        platform: Platform,
        name: str = "",
        expires: datetime | None = None,
    ) -> tuple[APIKey, str]:
        """Create a key and return it with the raw value, which is never stored."""
        raw_key = secrets.token_hex(32)
        api_key = self.create(
            user=user,
            platform=platform,
            name=name,
            prefix=raw_key[: APIKey.PREFIX_LENGTH],
            hashed_key=hash_api_key(raw_key),
            expires=expires,
        )
        return api_key, raw_key


class APIKey(models.Model):
    """A secret that authenticates one user on one platform (``Authorization: Api-Token``)."""

    PREFIX_LENGTH = 12

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ibl_api_keys"
    )
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[APIKeyManager] = APIKeyManager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user_id})"

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()


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
