"""Monitoring: how often a subscription's connection is tested on schedule, and the notices
that the scheduled checks raised (a certificate about to expire, a connection failing test
after test, a connection back to health).

A notice exists once per condition: ``(subscription, condition)`` is unique, so two
schedulers that see the same condition at the same moment store (and email) it once. The
condition names what the notice is about, e.g. ``cert:12:30`` (certificate 12 within 30
days of its end) or ``failing:345`` (the run of failures that began with test 345); a new
run of failures, after a success, is a new condition.
"""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .subscription import Subscription

__all__ = [
    "EXPIRY_NOTICE_DAYS",
    "MONITORING_MINUTES_LIMITS",
    "MonitoringNotice",
    "MonitoringSettings",
]

# A warning when fewer days than each of these are left, the tightest one reached only.
EXPIRY_NOTICE_DAYS = (30, 14, 7)
# 0 is off. A test costs a fresh token and three or four calls, so not more often than every
# 5 minutes; once a week is the longest interval that still watches anything.
MONITORING_MINUTES_LIMITS = (5, 10080)


class MonitoringSettings(models.Model):
    """The scheduled connection test of one subscription; no row means off. Kept beside the
    subscription, not in it, so changing it is not a new revision of the subscription."""

    subscription = models.OneToOneField(
        Subscription, on_delete=models.CASCADE, primary_key=True, related_name="monitoring"
    )
    monitoring_minutes = models.PositiveIntegerField(
        "Scheduled connection test every (minutes)",
        default=0,
        validators=[MaxValueValidator(MONITORING_MINUTES_LIMITS[1])],
        help_text="0 switches scheduled tests off. Expiry warnings are sent either way.",
    )
    # When a scheduler last claimed a due test (a conditional UPDATE on this value), so two
    # schedulers never test one subscription twice in one interval.
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(monitoring_minutes=0)
                | Q(
                    monitoring_minutes__gte=MONITORING_MINUTES_LIMITS[0],
                    monitoring_minutes__lte=MONITORING_MINUTES_LIMITS[1],
                ),
                name="monitoring_minutes_off_or_in_range",
            )
        ]

    def __str__(self):
        every = f"every {self.monitoring_minutes} min" if self.monitoring_minutes else "off"
        return f"Scheduled connection test of subscription {self.subscription_id}: {every}"


class MonitoringNoticeQuerySet(models.QuerySet):
    def unresolved(self):
        """Notices whose condition still holds."""
        return self.filter(resolved_at__isnull=True)

    def shown(self):
        """What the list and the page show: unresolved and not yet acknowledged."""
        return self.unresolved().filter(acknowledged_at__isnull=True)


class MonitoringNotice(models.Model):
    class Kind(models.TextChoices):
        CERTIFICATE_EXPIRY = "certificate_expiry", "Certificate expiry"
        CONNECTION_FAILING = "connection_failing", "Connection failing"
        CONNECTION_RECOVERED = "connection_recovered", "Connection recovered"

    class Level(models.TextChoices):
        OK = "ok", "Good news"
        WARN = "warn", "Warning"
        BAD = "bad", "Needs action"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="monitoring_notices"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    condition = models.CharField(max_length=64)
    level = models.CharField(max_length=4, choices=Level.choices)
    # Written once, from local facts only: never a key, a token or NetSuite's raw answer.
    title = models.CharField(max_length=120)
    message = models.TextField()
    hint = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Sending is retried on later ticks while emailed_at is empty (a mail server that was
    # down); each attempt is claimed by a conditional UPDATE of email_attempts.
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.PositiveIntegerField(default=0)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # The condition no longer holds (the certificate was replaced, a test passed), or, for a
    # notice that is good news, at once.
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True, default="")

    objects = MonitoringNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "condition"], name="monitoring_notice_once_per_condition"
            )
        ]
        indexes = [
            models.Index(fields=["subscription", "resolved_at"], name="notice_sub_resolved"),
            models.Index(fields=["emailed_at"], name="notice_emailed"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} notice {self.pk}: {self.title}"
