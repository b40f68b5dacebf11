"""What Open Badges stores: issuer keys, signed credentials, status lists.

Imported by :mod:`ibl_credentials.models`, so they belong to the ``ibl_credentials`` app.
Nothing here is exposed by the JSON API or the admin: the encrypted private key never
leaves :mod:`.signing`.
"""

from __future__ import annotations

from django.db import models


class IssuerKey(models.Model):
    """An Ed25519 key pair of an issuer. One active key (``retired`` empty) per issuer;
    retired keys stay so that what they signed can still be checked."""

    issuer = models.ForeignKey(
        "ibl_credentials.Issuer", on_delete=models.CASCADE, related_name="ob_keys"
    )
    did = models.CharField(max_length=100, unique=True, help_text="did:key:z6Mk...")
    private_key_encrypted = models.TextField(editable=False)
    created = models.DateTimeField(auto_now_add=True)
    retired = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(retired__isnull=True),
                name="ibl_issuer_key_one_active",
            )
        ]

    def __str__(self) -> str:
        return self.did

    def __repr__(self) -> str:  # never the encrypted key, even in a traceback
        return f"<IssuerKey {self.did}>"


class SignedCredential(models.Model):
    """An assertion as a signed ``OpenBadgeCredential``, in both forms, signed once.

    Both forms are kept as the exact text served (a JSON column may reorder keys, which
    would change the ``ETag`` between two reads of the same credential).

    ``content_hash`` is the hash of the unsigned credential: when the assertion, its
    credential or issuer change what the credential says, it is signed again.
    """

    assertion = models.OneToOneField(
        "ibl_credentials.Assertion", on_delete=models.CASCADE, related_name="ob_signed"
    )
    issuer = models.ForeignKey(
        "ibl_credentials.Issuer", on_delete=models.CASCADE, related_name="ob_signed"
    )
    status_index = models.PositiveIntegerField(help_text="Its bit in the issuer's status list.")
    content_hash = models.CharField(max_length=64)
    ldp = models.TextField(help_text="The credential with its eddsa-rdfc-2022 proof (JSON).")
    jwt = models.TextField(help_text="The VC-JWT form.")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "status_index"], name="ibl_signed_status_index_unique"
            )
        ]

    def __str__(self) -> str:
        return f"signed {self.assertion_id}"


class StatusList(models.Model):
    """An issuer's signed ``BitstringStatusListCredential``, rebuilt once per change.

    ``fingerprint`` is the hash of the revoked indexes it was built from.
    """

    issuer = models.OneToOneField(
        "ibl_credentials.Issuer", on_delete=models.CASCADE, related_name="ob_status_list"
    )
    fingerprint = models.CharField(max_length=64)
    ldp = models.TextField(help_text="The list with its eddsa-rdfc-2022 proof (JSON).")
    jwt = models.TextField()
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"status list {self.issuer_id}"
