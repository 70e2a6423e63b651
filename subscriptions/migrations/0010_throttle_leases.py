"""The database store of the NetSuite caps: concurrency leases and rate windows.

Only new tables: nothing existing is touched, so it can run beside the other 00xx migrations
in any order.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0009_inbound_events")]

    operations = [
        migrations.CreateModel(
            name="ThrottleLease",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=200)),
                ("slot", models.PositiveIntegerField()),
                ("owner", models.CharField(max_length=100)),
                ("expires_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scope", "slot"), name="throttle_lease_scope_slot"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ThrottleWindow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=200, unique=True)),
                ("window_index", models.BigIntegerField()),
                ("calls", models.PositiveIntegerField()),
            ],
        ),
    ]
