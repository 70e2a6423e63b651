"""Inbound webhook events: what NetSuite's user-event script told the dashboard, once each.

An event is not a change made by a person, so it is not written to the audit trail (one
audit row per webhook would also serialise every delivery on the audit chain's lock); the row
itself keeps where it came from (address, request id, user agent) and what arrived.
"""

from django.db import models

from netsuite.bundle import MODULES
from netsuite.inbound import EVENTS

from .subscription import Subscription

__all__ = ["InboundEvent"]


class InboundEvent(models.Model):
    """One notification, deduplicated per subscription by ``dedup_key``.

    ``dedup_key`` is a SHA-256 over scope, external ID and either the sender's own identity
    of the change (``event_id``) or, lacking one, the time bucket it arrived in: a retried
    delivery inside the bucket is stored once, a later change of the same record again.
    """

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "NetSuite webhook"

    # No index of its own: the unique constraint and the indexes below all start with it,
    # and every delivery paid for one more index entry (issue 19, the inbound figure).
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="inbound_events", db_index=False
    )
    module = models.CharField(max_length=40, choices=MODULES)
    event = models.CharField(max_length=10, choices=[(e, e.capitalize()) for e in EVENTS])
    scope = models.CharField(max_length=60)
    external_id = models.CharField(max_length=255)
    event_id = models.CharField(max_length=255, blank=True, default="")
    dedup_key = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEBHOOK)
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=32, blank=True, default="")
    user_agent = models.CharField(max_length=200, blank=True, default="")
    # The notification as it arrived (the body is capped at 1 MB before anything is parsed).
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "dedup_key"], name="inboundevent_once_per_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "-received_at"], name="inboundevent_sub_received"
            ),
            models.Index(
                fields=["subscription", "module", "event", "-received_at"],
                name="inboundevent_sub_module_event",
            ),
            # Retention (services/retention.py) finds the oldest events of every
            # subscription at once; one entry per delivery, at the index's right edge.
            models.Index(fields=["received_at"], name="inboundevent_received"),
        ]

    def __str__(self):
        return f"{self.scope} {self.external_id}"
