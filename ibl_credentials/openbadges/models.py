"""What Open Badges stores: issuer keys, signed credentials, status lists.

Imported by :mod:`ibl_credentials.models`, so they belong to the ``ibl_credentials`` app.
Nothing here is exposed by the JSON API; the admin shows them read-only, never the
encrypted private key, which does not leave :mod:`.signing`.
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


class StatusList(models.Model):
    """A signed ``BitstringStatusListCredential``: one per issuer identity.

    The identity (``did``) is what signs the list and what the credentials pointing at
    it name as their issuer: a ``did:key`` (``key`` is then that key: after a rotation
    the old list keeps being signed with the old key, retired for new credentials only)
    or the issuer's ``did:web`` (``key`` empty: signed with the issuer's active key, a
    verification method of the same DID). A list is never deleted; nor is its issuer
    or its key while it exists. A list whose indexes are all taken is ``full`` and a
    new one is opened for the same identity.

    ``fingerprint`` is the hash of the revoked indexes it was last built from.
    """

    issuer = models.ForeignKey(
        "ibl_credentials.Issuer", on_delete=models.PROTECT, related_name="ob_status_lists"
    )
    entity_id = models.CharField(
        max_length=100, unique=True, help_text="The list's id in its public URL."
    )
    did = models.CharField(max_length=300, help_text="The issuer identity that signs it.")
    key = models.ForeignKey(
        IssuerKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_lists",
        help_text="A did:key list: the key that signs it. A did:web list: empty.",
    )
    full = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    ldp = models.TextField(blank=True, help_text="The list with its eddsa-rdfc-2022 proof.")
    jwt = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "did"],
                condition=models.Q(full=False),
                name="ibl_status_list_one_open_per_identity",
            )
        ]

    def __str__(self) -> str:
        return f"status list {self.entity_id}"


class StatusEntry(models.Model):
    """An index of a status list, taken by an assertion when it is first signed there.

    Never deleted and never given to another assertion: the assertion is named by its
    ``entityId``, not by a foreign key, so the entry (and with the
    :class:`~ibl_credentials.models.Revocation` of that ``entityId``, its revoked bit)
    outlives the assertion, its credential and its recipient.
    """

    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    index = models.PositiveIntegerField()
    assertion_entity_id = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status_list", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "index"], name="ibl_status_entry_index_unique"
            ),
            models.UniqueConstraint(
                fields=["status_list", "assertion_entity_id"],
                name="ibl_status_entry_one_per_assertion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_list.entity_id}#{self.index}"


class SignedCredential(models.Model):
    """An assertion as a signed ``OpenBadgeCredential``, in both forms, signed once.

    Both forms are kept as the exact text served (a JSON column may reorder keys, which
    would change the ``ETag`` between two reads of the same credential).

    ``content_hash`` is the hash of the unsigned credential: when the assertion, its
    credential or issuer change what the credential says, it is signed again, by the
    same identity and at the same status entry (``entry``), unless the credential moved
    to another issuer.
    """

    assertion = models.OneToOneField(
        "ibl_credentials.Assertion", on_delete=models.CASCADE, related_name="ob_signed"
    )
    issuer = models.ForeignKey(
        "ibl_credentials.Issuer", on_delete=models.CASCADE, related_name="ob_signed"
    )
    entry = models.ForeignKey(StatusEntry, on_delete=models.PROTECT, related_name="signed")
    status_index = models.PositiveIntegerField(help_text="Its bit in its status list.")
    content_hash = models.CharField(max_length=64)
    ldp = models.TextField(help_text="The credential with its eddsa-rdfc-2022 proof (JSON).")
    jwt = models.TextField(help_text="The VC-JWT form.")
    signed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"signed {self.assertion_id}"
