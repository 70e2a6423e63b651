# Hand-written: filled in by the change that needs it (parallel work kept one chain).
# Retention (services/retention.py): the timestamp each kind is pruned by, indexed across
# subscriptions, so a prune batch reads the oldest rows without scanning the table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0020_worker_heartbeats"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(fields=["received_at"], name="inboundevent_received"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["finished_at"], name="job_finished"),
        ),
        migrations.AddIndex(
            model_name="connectiontest",
            index=models.Index(fields=["started_at"], name="conntest_started"),
        ),
    ]
