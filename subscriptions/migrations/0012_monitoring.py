"""Monitoring: the scheduled connection test per subscription and the notices it raises.

Two new tables; no existing row changes. A subscription without a MonitoringSettings row has
scheduled tests off. A notice is unique per (subscription, condition), so each condition is
stored and emailed once even with two schedulers.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0011_inventory_polling"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonitoringSettings",
            fields=[
                (
                    "subscription",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="monitoring",
                        serialize=False,
                        to="subscriptions.subscription",
                    ),
                ),
                (
                    "monitoring_minutes",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="0 switches scheduled tests off. Expiry warnings are sent either way.",
                        validators=[django.core.validators.MaxValueValidator(10080)],
                        verbose_name="Scheduled connection test every (minutes)",
                    ),
                ),
                ("last_scheduled_at", models.DateTimeField(blank=True, null=True)),
                ("updated_by", models.CharField(blank=True, default="", max_length=150)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("monitoring_minutes", 0),
                            models.Q(
                                ("monitoring_minutes__gte", 5), ("monitoring_minutes__lte", 10080)
                            ),
                            _connector="OR",
                        ),
                        name="monitoring_minutes_off_or_in_range",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MonitoringNotice",
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
                            ("certificate_expiry", "Certificate expiry"),
                            ("connection_failing", "Connection failing"),
                            ("connection_recovered", "Connection recovered"),
                        ],
                        max_length=24,
                    ),
                ),
                ("condition", models.CharField(max_length=64)),
                (
                    "level",
                    models.CharField(
                        choices=[("ok", "Good news"), ("warn", "Warning"), ("bad", "Needs action")],
                        max_length=4,
                    ),
                ),
                ("title", models.CharField(max_length=120)),
                ("message", models.TextField()),
                ("hint", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_to", models.PositiveIntegerField(default=0)),
                ("email_attempts", models.PositiveSmallIntegerField(default=0)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_by", models.CharField(blank=True, default="", max_length=150)),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="monitoring_notices",
                        to="subscriptions.subscription",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["subscription", "resolved_at"], name="notice_sub_resolved"
                    ),
                    models.Index(fields=["emailed_at"], name="notice_emailed"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subscription", "condition"),
                        name="monitoring_notice_once_per_condition",
                    )
                ],
            },
        ),
    ]
