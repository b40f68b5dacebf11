"""Events remember when they were dispatched, so the sweeper can find the ones whose
task never reached the queue. Events recorded before this migration count as
dispatched (as recorded): the sweeper must not deliver them again."""

from django.db import migrations, models


def existing_events_were_dispatched(apps, schema_editor):
    Event = apps.get_model("ibl_core", "Event")
    Event.objects.using(schema_editor.connection.alias).update(dispatched=models.F("created"))


class Migration(migrations.Migration):
    dependencies = [
        ("ibl_core", "0003_events_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="dispatched",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(existing_events_were_dispatched, migrations.RunPython.noop),
    ]
