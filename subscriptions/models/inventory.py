"""Stock per inventory item and location, as the last inventory poll read it from NetSuite.

One row per (subscription, item, location), upserted by every poll that reads the level, so
the page shows what NetSuite holds now rather than a history. ``changed_in_poll`` is the poll
(job) that last found the quantities different from what was stored (or new), which is what
"changed in the last poll" filters on; ``read_at`` is when a poll last read the level,
``changed_at`` when one last found it different. IDs are NetSuite's internal IDs, whole
numbers, stored as such so the page sorts them as numbers.
"""

from django.db import models
from django.utils import timezone

from .subscription import Subscription

__all__ = ["QUANTITY_FIELDS", "InventoryLevel"]

# The quantities, in the order the page shows them.
QUANTITY_FIELDS = ("on_hand", "available", "committed", "on_order", "backordered")


def _quantity(label: str) -> models.DecimalField:
    # NetSuite keeps quantities to a few decimals (units of measure); none is "no value".
    return models.DecimalField(label, max_digits=24, decimal_places=6, null=True, blank=True)


class InventoryLevel(models.Model):
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="inventory_levels",
        db_index=False,
    )
    item_id = models.BigIntegerField("item")
    location_id = models.BigIntegerField("location")
    on_hand = _quantity("on hand")
    available = _quantity("available")
    committed = _quantity("committed")
    on_order = _quantity("on order")
    backordered = _quantity("back ordered")
    read_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    # The job id of the poll that last changed this row; no foreign key: a job deleted later
    # leaves the level as it is.
    changed_in_poll = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["item_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "item_id", "location_id"], name="inventory_level_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "changed_in_poll"], name="inventory_level_changed"
            ),
        ]

    def __str__(self):
        return f"item {self.item_id} at location {self.location_id}"
