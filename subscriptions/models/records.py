"""NetSuite records as stored on this dashboard's iPaaS side, one row per record.

Initialization (and, later, inventory polling) upserts by (subscription, type, internal ID),
so a second run or a resumed job finds its rows and adds none. ``content_hash`` covers what
was read, so a row whose record did not change is not written again: ``fetched_at`` is when
this version of the record was read.
"""

from django.db import models
from django.utils import timezone

from .subscription import Subscription

__all__ = ["Record"]


class Record(models.Model):
    # No index of its own: the unique constraint's index starts with it, and every stored
    # row paid for a second one (a thousand a page).
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    record_type = models.CharField(max_length=64)
    internal_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    # Every column read, as NetSuite answered it (SuiteQL's lower-case names).
    fields = models.JSONField(default=dict, blank=True)
    inactive = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "name", "internal_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "record_type", "internal_id"], name="record_unique_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "record_type", "name"], name="record_sub_type_name"
            ),
        ]

    def __str__(self):
        return f"{self.record_type} {self.internal_id} {self.name}".strip()
