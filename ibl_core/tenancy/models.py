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

    Change who belongs only through ``ibl_core.tenancy.groups``: it checks that each user is a
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
    """A user in a user group. Written only by ``ibl_core.tenancy.groups``."""

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
