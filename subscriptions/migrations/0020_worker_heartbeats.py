# Hand-written (parallel work kept one chain): a heartbeat row per job worker and scheduler,
# read by /readyz (subscriptions/models/heartbeats.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0019_netsuite_snapshots"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=150, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[("worker", "Job worker"), ("scheduler", "Scheduler")],
                        max_length=16,
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("seen_at", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["kind", "seen_at"], name="heartbeat_kind_seen")
                ],
            },
        ),
    ]
