"""Every signed credential has its status entry (filled by 0005): required from now on.
A migration of its own: PostgreSQL does not alter a table in the transaction that
just updated its rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ibl_credentials", "0005_permanent_revocation_and_did_web")]

    operations = [
        migrations.AlterField(
            model_name="signedcredential",
            name="entry",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signed",
                to="ibl_credentials.statusentry",
            ),
        ),
    ]
