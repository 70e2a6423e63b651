"""The steps and outcome of each connection test, kept as history and shown as the health badge."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .certificates import Certificate
from .subscription import Subscription

__all__ = ["ConnectionTest"]


def stale_before() -> dt.datetime:
    """A running test whose last step is older than this can no longer finish."""
    return timezone.now() - dt.timedelta(seconds=settings.CONNECTION_TEST_STALE_SECONDS)


class ConnectionTest(models.Model):
    """One connection test. "Interrupted" is not stored: it is a running test whose last step
    is older than ``CONNECTION_TEST_STALE_SECONDS`` (the page that drove it was left); such a
    test is never continued."""

    INTERRUPTED = "interrupted"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="connection_tests"
    )
    # Set when the test ran with a staged certificate instead of the subscription's own.
    staged_certificate = models.ForeignKey(
        Certificate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connection_tests",
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    # [{"key", "label", "status": "ok"|"failed"|"skipped", "ms", "detail", "error": {...}}]
    steps = models.JSONField(default=list, blank=True)
    # The Certificate ID (JWT kid) and key the test signed with, frozen as they were.
    netsuite_certificate_id = models.CharField(max_length=255, blank=True, default="")
    key_fingerprint = models.CharField(max_length=95, blank=True, default="")
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-started_at"], name="conntest_sub_started"),
            # Retention (services/retention.py) finds old tests of every subscription at once.
            models.Index(fields=["started_at"], name="conntest_started"),
        ]

    def __str__(self):
        return f"Connection test {self.pk} ({self.outcome})"

    @property
    def is_staged(self) -> bool:
        return self.staged_certificate_id is not None

    @property
    def failed_step(self) -> dict | None:
        return next((s for s in self.steps if s.get("status") == "failed"), None)

    @property
    def duration_ms(self) -> int:
        return sum(int(s.get("ms") or 0) for s in self.steps)

    @property
    def last_activity(self) -> dt.datetime:
        """When its last step was saved (``at``), or for older rows its start plus the steps."""
        if self.steps:
            at = parse_datetime(str(self.steps[-1].get("at") or ""))
            if at is not None:
                return at
        return self.started_at + dt.timedelta(milliseconds=self.duration_ms)

    @property
    def interrupted(self) -> bool:
        return self.outcome == self.Outcome.RUNNING and self.last_activity < stale_before()

    @property
    def is_running(self) -> bool:
        """Still running and able to go on (not interrupted)."""
        return self.outcome == self.Outcome.RUNNING and not self.interrupted

    @property
    def shown_outcome(self) -> str:
        return self.INTERRUPTED if self.interrupted else self.outcome

    @property
    def shown_outcome_label(self) -> str:
        return "Interrupted" if self.interrupted else self.get_outcome_display()
