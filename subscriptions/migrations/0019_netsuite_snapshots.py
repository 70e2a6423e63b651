# Hand-written (parallel work kept one chain): NetSuite's last answers per subscription and
# read, shown to read-only viewers instead of a NetSuite call per page view
# (subscriptions/models/snapshots.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0018_audit_keying"),
    ]

    operations = [
        migrations.CreateModel(
            name="NetSuiteSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("auth_details", "iPaaS Auth Details"),
                            ("netsuite_certificates", "Certificates in NetSuite"),
                            ("webhook_table", "Webhook deployments"),
                        ],
                        max_length=32,
                    ),
                ),
                ("data", models.JSONField(blank=True, null=True)),
                ("fetched_at", models.DateTimeField(blank=True, null=True)),
                ("fetched_by", models.CharField(blank=True, default="", max_length=150)),
                ("refreshed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="netsuite_snapshots",
                        to="subscriptions.subscription",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subscription", "kind"), name="netsuitesnapshot_one_per_kind"
                    )
                ],
            },
        ),
    ]
