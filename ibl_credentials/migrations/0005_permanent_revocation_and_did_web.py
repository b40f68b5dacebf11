"""Permanent revocation, status lists per issuer identity, did:web.

- ``Revocation``: the permanent record of each revoked assertion (filled here from the
  assertions revoked so far).
- ``StatusList`` is rebuilt as one list per issuer identity (it only cached signed
  text: the lists are signed again at their next read), with ``StatusEntry`` rows that
  keep each taken index forever. Each issuer's signed credentials keep their index in
  a list whose id is the issuer's entityId (the URL their ``statusListCredential``
  already names), signed by the did:key that signed most of them. A credential signed
  by another of the issuer's keys (an earlier rotation) is signed again at its next
  read, by that list's key, so that its issuer and its list's issuer agree.
- ``Issuer.did_web_domain``; an assertion's recipient with an unrevoked assertion is
  no longer deleted with it.
"""

import json
from collections import Counter

import django.db.models.deletion
import ibl_credentials.models
import ibl_credentials.validators
from django.conf import settings
from django.db import migrations, models


def fill_revocations(apps, schema_editor):
    Assertion = apps.get_model("ibl_credentials", "Assertion")
    Revocation = apps.get_model("ibl_credentials", "Revocation")
    revoked = Assertion.objects.filter(revoked=True).values_list(
        "platform_id", "entity_id", "revocation_reason", "revoked_at", "modified"
    )
    batch = []
    for platform_id, entity_id, reason, revoked_at, modified in revoked.iterator():
        batch.append(
            Revocation(
                platform_id=platform_id,
                entity_id=entity_id,
                revocation_reason=reason,
                revoked_at=revoked_at or modified,
            )
        )
        if len(batch) >= 1000:
            Revocation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Revocation.objects.bulk_create(batch, ignore_conflicts=True)


def _signer(ldp: str) -> str:
    try:
        issuer = json.loads(ldp).get("issuer")
    except ValueError:
        return ""
    return (issuer.get("id") if isinstance(issuer, dict) else issuer) or ""


def fill_entries(apps, schema_editor):
    Issuer = apps.get_model("ibl_credentials", "Issuer")
    IssuerKey = apps.get_model("ibl_credentials", "IssuerKey")
    SignedCredential = apps.get_model("ibl_credentials", "SignedCredential")
    StatusList = apps.get_model("ibl_credentials", "StatusList")
    StatusEntry = apps.get_model("ibl_credentials", "StatusEntry")
    issuer_ids = SignedCredential.objects.values_list("issuer_id", flat=True).distinct()
    for issuer in Issuer.objects.filter(pk__in=list(issuer_ids)).order_by("pk"):
        signed = list(
            SignedCredential.objects.filter(issuer=issuer)
            .select_related("assertion")
            .order_by("pk")
        )
        signers = Counter(_signer(row.ldp) for row in signed)
        keys = {key.did: key for key in IssuerKey.objects.filter(issuer=issuer)}
        known = [did for did, _ in signers.most_common() if did in keys]
        if known:
            key = keys[known[0]]
        else:
            key = IssuerKey.objects.filter(issuer=issuer).order_by("created", "pk").first()
        listed = StatusList.objects.create(
            issuer=issuer, entity_id=issuer.entity_id, did=key.did, key=key
        )
        # Set-based: one INSERT of the entries, one read of their ids, batched UPDATEs.
        StatusEntry.objects.bulk_create(
            [
                StatusEntry(
                    status_list=listed,
                    index=row.status_index,
                    assertion_entity_id=row.assertion.entity_id,
                )
                for row in signed
            ],
            batch_size=1000,
        )
        ids = dict(
            StatusEntry.objects.filter(status_list=listed).values_list("assertion_entity_id", "pk")
        )
        for row in signed:
            row.entry_id = ids[row.assertion.entity_id]
            if _signer(row.ldp) != key.did:
                row.content_hash = ""  # signed again, by the list's key, at its next read
        SignedCredential.objects.bulk_update(signed, ["entry", "content_hash"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ibl_core", "0003_events_webhooks"),
        ("ibl_credentials", "0004_bulk_issue_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Revocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("entity_id", models.CharField(max_length=100, unique=True)),
                ("revocation_reason", models.TextField(blank=True)),
                ("revoked_at", models.DateTimeField()),
                (
                    "platform",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="revocations",
                        to="ibl_core.platform",
                    ),
                ),
            ],
            options={"ordering": ["-revoked_at", "-id"]},
        ),
        # The old lists were a cache of signed text: rebuilt as lists per identity.
        migrations.DeleteModel(name="StatusList"),
        migrations.CreateModel(
            name="StatusList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "entity_id",
                    models.CharField(
                        help_text="The list's id in its public URL.", max_length=100, unique=True
                    ),
                ),
                (
                    "did",
                    models.CharField(
                        help_text="The issuer identity that signs it.", max_length=300
                    ),
                ),
                ("full", models.BooleanField(default=False)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("fingerprint", models.CharField(blank=True, max_length=64)),
                (
                    "ldp",
                    models.TextField(
                        blank=True, help_text="The list with its eddsa-rdfc-2022 proof."
                    ),
                ),
                ("jwt", models.TextField(blank=True)),
                ("built_at", models.DateTimeField(blank=True, null=True)),
                (
                    "issuer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ob_status_lists",
                        to="ibl_credentials.issuer",
                    ),
                ),
                (
                    "key",
                    models.ForeignKey(
                        blank=True,
                        help_text="A did:key list: the key that signs it. A did:web list: empty.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="status_lists",
                        to="ibl_credentials.issuerkey",
                    ),
                ),
            ],
            options={
                "ordering": ["issuer", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("full", False)),
                        fields=("issuer", "did"),
                        name="ibl_status_list_one_open_per_identity",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StatusEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("index", models.PositiveIntegerField()),
                ("assertion_entity_id", models.CharField(db_index=True, max_length=100)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "status_list",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="ibl_credentials.statuslist",
                    ),
                ),
            ],
            options={
                "ordering": ["status_list", "index"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("status_list", "index"), name="ibl_status_entry_index_unique"
                    ),
                    models.UniqueConstraint(
                        fields=("status_list", "assertion_entity_id"),
                        name="ibl_status_entry_one_per_assertion",
                    ),
                ],
            },
        ),
        migrations.RemoveConstraint(
            model_name="signedcredential", name="ibl_signed_status_index_unique"
        ),
        migrations.AlterField(
            model_name="signedcredential",
            name="status_index",
            field=models.PositiveIntegerField(help_text="Its bit in its status list."),
        ),
        migrations.AddField(
            model_name="signedcredential",
            name="entry",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signed",
                to="ibl_credentials.statusentry",
            ),
        ),
        migrations.AddField(
            model_name="issuer",
            name="did_web_domain",
            field=models.CharField(
                blank=True,
                help_text="Optional: sign Open Badges 3.0 credentials as did:web:<this> instead of a did:key. A host this server answers for, with an optional port and path: badges.example.org or badges.example.org/issuers/acme. Its DID document is served at /.well-known/did.json or /<path>/did.json.",
                max_length=255,
                validators=[ibl_credentials.validators.validate_did_web_domain],
            ),
        ),
        migrations.AddConstraint(
            model_name="issuer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("did_web_domain", ""), _negated=True),
                fields=("did_web_domain",),
                name="ibl_issuer_did_web_unique",
            ),
        ),
        migrations.AlterField(
            model_name="assertion",
            name="recipient",
            field=models.ForeignKey(
                on_delete=ibl_credentials.models.protect_unrevoked,
                related_name="ibl_assertions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # Data last: PostgreSQL refuses to alter a table with pending trigger events.
        migrations.RunPython(fill_revocations, migrations.RunPython.noop),
        migrations.RunPython(fill_entries, migrations.RunPython.noop),
    ]
