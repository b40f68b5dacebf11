"""An endpoint receives the events recorded while it is on: since it was created, or
since it was last turned on again. Existing endpoints receive from their creation, as
before this migration."""

import django.utils.timezone
from django.db import migrations, models


def existing_endpoints_receive_since_created(apps, schema_editor):
    Endpoint = apps.get_model("ibl_core", "WebhookEndpoint")
    Endpoint.objects.using(schema_editor.connection.alias).update(
        receiving_since=models.F("created")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ibl_core", "0004_event_dispatched"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="receiving_since",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                editable=False,
                help_text="It receives the events recorded from this time on: when it was "
                "created, or last turned on again.",
            ),
        ),
        migrations.RunPython(existing_endpoints_receive_since_created, migrations.RunPython.noop),
    ]
