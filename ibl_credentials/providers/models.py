"""A platform's provider configurations, its credentials' mappings to a provider, and
each assertion's mirror at the provider.

The configuration holds the provider's API key: it is stored encrypted
(:mod:`.encryption`), never as plain text, and the model never exposes it but through
:meth:`ProviderConfig.get_config` (the worker that calls the provider, the service that
merges an update).

Imported by :mod:`ibl_credentials.models`, so they belong to the ``ibl_credentials`` app;
they name its models by label, so neither module imports the other.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from ibl_core.models import Platform
from ibl_credentials.providers.encryption import decrypt_config, encrypt_config


class ProviderConfig(models.Model):
    """How one platform reaches one provider (``config`` encrypted at rest)."""

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="provider_configs"
    )
    provider_name = models.CharField(max_length=100)
    #: The configuration as a Fernet token of its JSON (never plain text).
    encrypted_config = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "provider_name"], name="provider_config_one_per_platform"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_name} ({self.platform_id})"

    def get_config(self) -> dict[str, Any]:
        """The configuration, decrypted (secrets in clear: never answer or log it)."""
        return decrypt_config(self.encrypted_config) if self.encrypted_config else {}

    def set_config(self, config: dict[str, Any]) -> None:
        self.encrypted_config = encrypt_config(config)


class ExternalCredentialMapping(models.Model):
    """Which template (and group) of a provider a credential's assertions are mirrored to."""

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="external_credential_mappings"
    )
    credential = models.ForeignKey(
        "ibl_credentials.Credential", on_delete=models.CASCADE, related_name="external_mappings"
    )
    provider_name = models.CharField(max_length=100)
    external_template_id = models.CharField(max_length=255, blank=True)
    group_id = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "platform", "provider_name"],
                name="external_mapping_one_per_provider",
            )
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} -> {self.provider_name}"


class AssertionSync(models.Model):
    """One assertion's mirror at one provider: what is to be done there, and how it went.

    ``operation`` is the last change to mirror (create on issue, update on the
    recipient's answer, delete on revocation); ``state`` says whether it is done
    (``synced``), waiting for an attempt (``pending``) or given up (``failed``, with
    ``last_error``).
    """

    class State(models.TextChoices):
        PENDING = "pending"
        SYNCED = "synced"
        FAILED = "failed"

    class Operation(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    assertion = models.ForeignKey(
        "ibl_credentials.Assertion", on_delete=models.CASCADE, related_name="external_syncs"
    )
    provider_name = models.CharField(max_length=100)
    external_id = models.CharField(max_length=255, blank=True)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assertion", "provider_name"], name="assertion_sync_one_per_provider"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="assertion_sync_due")]

    def __str__(self) -> str:
        return f"{self.provider_name}: {self.state}"
