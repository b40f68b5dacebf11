"""Issuers, signatories, credentials (badge classes), assertions, uploaded images.

A credential names the catalog items it is earned for by their keys (``CredentialItem``),
not by foreign keys: ``ibl_credentials`` does not depend on ``ibl_catalog``. The keys are
checked and named through :mod:`ibl_core.catalog_items` when the catalog is installed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ibl_core.models import Platform, TimeStampedModel
from ibl_credentials.validators import (
    validate_did_web_domain,
    validate_entity_id,
    validate_http_url,
    validate_image_reference,
    validate_own_image_reference,
    validate_unreserved_entity_id,
)

ENTITY_ID_MAX_LENGTH = 100
IMAGE_NAME_MAX_LENGTH = 254


def generate_salt() -> str:
    """A new salt for an assertion's hashed recipient identity (Open Badges)."""
    return secrets.token_hex(16)


class RandomSalt(models.Func):
    """32 random hex characters made by the database: rows inserted by raw SQL (bulk
    issue) get their own salt too. PostgreSQL 13+ and SQLite."""

    template = "replace(gen_random_uuid()::text, '-', '')"
    output_field = models.CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="lower(hex(randomblob(16)))", **extra)


def generate_entity_id() -> str:
    """A new opaque, URL-safe id for an issuer, credential or assertion (128 random bits)."""
    return secrets.token_urlsafe(16)


def entity_id_field() -> models.CharField:
    """The ``entityId`` of issuers, credentials and assertions: generated, opaque,
    URL-safe, unique across the installation (it appears in public URLs), never a
    literal path segment of the API."""
    return models.CharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        unique=True,
        default=generate_entity_id,
        validators=[validate_entity_id, validate_unreserved_entity_id],
        help_text="Opaque URL-safe identifier (entityId in the API), unique across platforms.",
    )


class ItemKind(models.TextChoices):
    """The catalog items a credential can be earned for."""

    COURSE = "course"
    PROGRAM = "program"
    PATHWAY = "pathway"


class Issuer(TimeStampedModel):
    """An organisation that issues credentials, owned by one platform."""

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="credential_issuers"
    )
    entity_id = entity_id_field()
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=500, blank=True, validators=[validate_http_url])
    email = models.EmailField(max_length=254, blank=True)
    icon_image = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_image_reference],
        help_text="An http(s) URL or a path in the media storage.",
    )
    allowed_template_tags = models.JSONField(
        null=True, blank=True, help_text="A list of strings, or empty (null) for no restriction."
    )
    did_web_domain = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_did_web_domain],
        help_text=(
            "Optional: sign Open Badges 3.0 credentials as did:web:<this> instead of a "
            "did:key. A host this server answers for, with an optional port and path: "
            "badges.example.org or badges.example.org/issuers/acme. Its DID document is "
            "served at /.well-known/did.json or /<path>/did.json."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_created_issuers",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["platform", "name", "id"], name="ibl_issuer_platform_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["did_web_domain"],
                condition=~models.Q(did_web_domain=""),
                name="ibl_issuer_did_web_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.entity_id})"

    def clean(self) -> None:
        if self.platform_id is not None:
            _check_own_image(self.icon_image, self.platform, "icon_image")


class Signatory(models.Model):
    """A person who signs an issuer's credentials, in display ``order``.

    Without ``credential`` the signatory signs every credential of the issuer (and is
    listed in the issuer's ``signatories``); with one, only that credential.
    """

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="signatories")
    credential = models.ForeignKey(
        "Credential",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="own_signatories",
        help_text="Empty: signs every credential of the issuer.",
    )
    name = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    signature_image = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_image_reference],
        help_text="An http(s) URL or a path in the media storage.",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "signatories"
        ordering = ["issuer", "order", "id"]
        constraints = [
            # The API exposes an issuer's signatories as an object keyed by name.
            models.UniqueConstraint(
                fields=["issuer", "name"],
                condition=models.Q(credential__isnull=True),
                name="ibl_signatory_unique_name",
            ),
            models.UniqueConstraint(
                fields=["credential", "name"],
                condition=models.Q(credential__isnull=False),
                name="ibl_signatory_unique_credential_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name

    def clean(self) -> None:
        # In the issuer's admin page the issuer may not be saved yet: use the instance.
        issuer = self.issuer if Signatory._meta.get_field("issuer").is_cached(self) else None
        if issuer is None and self.issuer_id is not None:
            issuer = Issuer.objects.select_related("platform").get(pk=self.issuer_id)
        if issuer is not None and issuer.platform_id is not None:
            _check_own_image(self.signature_image, issuer.platform, "signature_image")


def _check_own_image(value: str, platform: Platform, field: str) -> None:
    """``validate_own_image_reference`` for a model's ``clean``: errors on ``field``."""
    try:
        validate_own_image_reference(value, platform.key)
    except ValidationError as error:
        raise ValidationError({field: error.error_list}) from None


class UploadedImage(models.Model):
    """An image that passed :mod:`ibl_credentials.images.pipeline`, stored re-encoded."""

    class Format(models.TextChoices):
        PNG = "PNG"
        JPEG = "JPEG"
        GIF = "GIF"
        WEBP = "WEBP"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="uploaded_images")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_uploaded_images",
    )
    name = models.CharField(max_length=IMAGE_NAME_MAX_LENGTH)
    file = models.FileField(max_length=255, help_text="Server-generated path in the storage.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10, choices=Format.choices)
    size = models.PositiveIntegerField(help_text="Bytes stored (after re-encoding).")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["platform", "-created", "-id"], name="ibl_image_platform_new"),
            models.Index(
                fields=["platform", "uploaded_by", "-created", "-id"], name="ibl_image_owner_new"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Credential(TimeStampedModel):
    """A badge class: what an issuer awards, and the rules of its assertions."""

    class Duration(models.TextChoices):
        DAYS = "days"
        WEEKS = "weeks"
        MONTHS = "months"
        YEARS = "years"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="credentials")
    issuer = models.ForeignKey(
        Issuer,
        on_delete=models.PROTECT,  # an issuer with credentials is not deleted (409)
        related_name="credentials",
    )
    entity_id = entity_id_field()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    credential_type = models.CharField(max_length=100, default="badge")
    criteria_url = models.URLField(max_length=500, blank=True, validators=[validate_http_url])
    criteria_narrative = models.TextField(blank=True)
    signal = models.CharField(max_length=100, default="COURSE_PASSED")
    html_template = models.TextField(blank=True)
    css_template = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="A list of strings.")
    metadata = models.JSONField(default=dict, blank=True, help_text="A JSON object.")
    expires_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="With expires_duration: how long an assertion lasts."
    )
    expires_duration = models.CharField(max_length=10, choices=Duration.choices, blank=True)
    icon_image = models.CharField(max_length=500, blank=True, validators=[validate_image_reference])
    background_image = models.CharField(
        max_length=500, blank=True, validators=[validate_image_reference]
    )
    thumbnail_image = models.CharField(
        max_length=500, blank=True, validators=[validate_image_reference]
    )
    public = models.BooleanField(default=True, help_text="Listed to every member of the platform.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_created_credentials",
    )

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["platform", "-created", "-id"], name="ibl_credential_platform_new"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(expires_amount__isnull=True, expires_duration="")
                    | (models.Q(expires_amount__gt=0) & ~models.Q(expires_duration=""))
                ),
                name="ibl_credential_expires_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.entity_id})"

    def clean(self) -> None:
        if self.platform_id is not None:
            for field in ("icon_image", "background_image", "thumbnail_image"):
                _check_own_image(getattr(self, field), self.platform, field)
        if (
            self.issuer_id is not None
            and self.platform_id is not None
            and self.issuer.platform_id != self.platform_id
        ):
            raise ValidationError({"issuer": "The issuer must belong to the same platform."})
        if (self.expires_amount is None) != (not self.expires_duration):
            raise ValidationError(
                {"expires_duration": "Set both the amount and the duration, or neither."}
            )


class CredentialItem(models.Model):
    """A catalog item (by its key) that a credential is earned for."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    key = models.CharField(max_length=255, help_text="The item's catalog key on the platform.")

    class Meta:
        ordering = ["credential", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "kind", "key"], name="ibl_credential_item_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "key"], name="ibl_credential_item_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


UNREVOKED_RECIPIENT_MESSAGE = (
    "This user holds credentials that are not revoked: revoke them first. Their public "
    "forms (hosted assertion, baked image, signed credential) must stay true."
)


def protect_unrevoked(collector: Any, field: Any, sub_objs: Any, using: str) -> None:
    """``on_delete`` of an assertion's recipient: deleting a user who holds an assertion
    that is not revoked is refused (``ProtectedError``; the admin shows why), since the
    assertion's public forms would vanish; revoked ones are deleted with the user, their
    :class:`Revocation` stays."""
    unrevoked = [assertion for assertion in sub_objs if not assertion.revoked]
    if unrevoked:
        raise models.ProtectedError(UNREVOKED_RECIPIENT_MESSAGE, set(unrevoked))
    models.CASCADE(collector, field, sub_objs, using)


class Assertion(TimeStampedModel):
    """A credential awarded to one member of the platform.

    At most one *active* assertion per (credential, recipient, item): the partial unique
    constraint covers assertions that are neither revoked nor superseded. An expired
    assertion is superseded when the credential is issued again for the same item.
    """

    class Acceptance(models.TextChoices):
        UNACCEPTED = "Unaccepted"
        ACCEPTED = "Accepted"
        REJECTED = "Rejected"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="assertions")
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="assertions")
    entity_id = entity_id_field()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=protect_unrevoked, related_name="ibl_assertions"
    )
    item_kind = models.CharField(max_length=10, choices=ItemKind.choices, blank=True)
    item_key = models.CharField(max_length=255, blank=True)
    item_name = models.CharField(
        max_length=255, blank=True, help_text="The item's name when the assertion was issued."
    )
    issued_on = models.DateTimeField()
    expires = models.DateTimeField(null=True, blank=True)
    narrative = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text='[{"url", "narrative"}]')
    metadata = models.JSONField(default=dict, blank=True)
    revoked = models.BooleanField(default=False)
    revocation_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(
        default=False, help_text="Expired, and replaced by a later assertion for the same item."
    )
    acceptance = models.CharField(
        max_length=10, choices=Acceptance.choices, default=Acceptance.UNACCEPTED
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_issued_assertions",
    )
    recipient_salt = models.CharField(
        max_length=64,
        default=generate_salt,
        db_default=RandomSalt(),
        editable=False,
        help_text="Open Badges: the recipient identity is sha256(email + salt).",
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "recipient", "item_kind", "item_key"],
                condition=models.Q(revoked=False, superseded=False),
                name="ibl_assertion_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(item_kind="", item_key="") | ~models.Q(item_kind=""),
                name="ibl_assertion_item_complete",
            ),
        ]
        indexes = [
            models.Index(
                fields=["platform", "recipient", "-issued_on", "-id"],
                name="ibl_assertion_recipient_new",
            ),
            # A credential's list: the page in index order, and its COUNT (the list's
            # revoked / superseded / expires filters) from the index alone.
            models.Index(
                fields=["credential", "-issued_on", "-id", "revoked", "superseded", "expires"],
                name="ibl_assertion_credential_list",
            ),
            models.Index(fields=["platform", "issued_on"], name="ibl_assertion_platform_day"),
        ]

    def __str__(self) -> str:
        return self.entity_id


class Revocation(models.Model):
    """The permanent record that an assertion was revoked (a tombstone).

    Written in the transaction that revokes, and never deleted with the assertion: it
    names the assertion by its ``entityId``, not by a foreign key. When the assertion is
    gone (its credential deleted, its recipient deleted), every public form still says
    it is revoked: the hosted OB 2.0 document and the baked image answer 410, the JSON
    public read its revoked answer, and its bit in every status list it was signed into
    stays 1. Only the platform's own deletion removes it.
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="revocations")
    entity_id = models.CharField(max_length=ENTITY_ID_MAX_LENGTH, unique=True)
    revocation_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField()

    class Meta:
        ordering = ["-revoked_at", "-id"]

    def __str__(self) -> str:
        return f"revoked {self.entity_id}"


class BulkIssueJob(models.Model):
    """A bulk issue answered ``202 Accepted`` and run by a background task.

    It keeps what the task needs to run the request later (``request``: the users as
    sent and the validated details) and, once done, the answer the request would have
    given (``result``), so a client follows it until it is finished and then reads that
    answer. It goes with its credential.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="bulk_issue_jobs")
    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="bulk_issue_jobs"
    )
    entity_id = entity_id_field()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who sent the request: the task issues with their rights as they are then.",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The user of the request's path: the assertions' issuer.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    request = models.JSONField(help_text="The users as sent and the validated details.")
    user_count = models.PositiveIntegerField(help_text="Users named in the request.")
    result = models.JSONField(
        null=True,
        blank=True,
        help_text='The answer once succeeded: {"issued", "skipped", "reasons"}.',
    )
    issued_count = models.PositiveIntegerField(null=True, blank=True)
    skipped_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed (nothing was issued then).")
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.entity_id


# Open Badges, assignments and provider models live in their packages; importing them
# here registers them.
from ibl_credentials.assignments.models import GroupAssignment, UserAssignment  # noqa: E402, F401
from ibl_credentials.openbadges.models import (  # noqa: E402, F401
    IssuerKey,
    SignedCredential,
    StatusEntry,
    StatusList,
)
from ibl_credentials.providers.models import (  # noqa: E402, F401
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)
