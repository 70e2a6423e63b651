"""Inventory polling: the subscription's polling settings and the poll job kind.

Three new columns with defaults (polling off, every 60 minutes, never polled) and a new
choice for ``Job.kind``; no existing row changes meaning.
"""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0010_throttle_leases")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="inventory_polling_enabled",
            field=models.BooleanField(default=False, verbose_name="Inventory polling"),
        ),
        migrations.AddField(
            model_name="subscription",
            name="inventory_polling_minutes",
            field=models.PositiveIntegerField(
                default=60,
                validators=[
                    django.core.validators.MinValueValidator(5),
                    django.core.validators.MaxValueValidator(10080),
                ],
                verbose_name="Polling interval (minutes)",
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="inventory_polled_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    inventory_polling_minutes__gte=5, inventory_polling_minutes__lte=10080
                ),
                name="subscription_polling_minutes_range",
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("initialization", "Initialization"),
                    ("inventory_poll", "Inventory poll"),
                ],
                max_length=32,
            ),
        ),
    ]
