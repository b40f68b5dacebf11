"""External providers: platform configurations (encrypted), credential mappings, and
each assertion's mirror at a provider (docs/providers.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ibl_core", "0006_webhookendpoint_circuit_breaker"),
        ("ibl_credentials", "0007_assignments"),
    ]

    operations = [
        migrations.CreateModel(
            name="AssertionSync",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider_name", models.CharField(max_length=100)),
                ("external_id", models.CharField(blank=True, max_length=255)),
                (
                    "operation",
                    models.CharField(
                        choices=[("create", "Create"), ("update", "Update"), ("delete", "Delete")],
                        max_length=10,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("synced", "Synced"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("synced_at", models.DateTimeField(blank=True, null=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                (
                    "assertion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="external_syncs",
                        to="ibl_credentials.assertion",
                    ),
                ),
                (
                    "platform",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="ibl_core.platform",
                    ),
                ),
            ],
            options={
                "ordering": ["-updated", "-id"],
                "indexes": [
                    models.Index(fields=["state", "next_attempt_at"], name="assertion_sync_due")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("assertion", "provider_name"),
                        name="assertion_sync_one_per_provider",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ExternalCredentialMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider_name", models.CharField(max_length=100)),
                ("external_template_id", models.CharField(blank=True, max_length=255)),
                ("group_id", models.CharField(blank=True, max_length=255)),
                ("metadata", models.JSONField(blank=True, default=dict)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                (
                    "credential",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="external_mappings",
                        to="ibl_credentials.credential",
                    ),
                ),
                (
                    "platform",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="external_credential_mappings",
                        to="ibl_core.platform",
                    ),
                ),
            ],
            options={
                "ordering": ["-created", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("credential", "platform", "provider_name"),
                        name="external_mapping_one_per_provider",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ProviderConfig",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider_name", models.CharField(max_length=100)),
                ("encrypted_config", models.TextField(editable=False)),
                ("enabled", models.BooleanField(default=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                (
                    "platform",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="provider_configs",
                        to="ibl_core.platform",
                    ),
                ),
            ],
            options={
                "ordering": ["provider_name", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("platform", "provider_name"),
                        name="provider_config_one_per_platform",
                    )
                ],
            },
        ),
    ]
