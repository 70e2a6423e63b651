"""The database store of the NetSuite caps, for deployments without Redis (``make run``).

The web process and the workers of a deployment must share Concurrent Connections and the API
throttle, and the database is the one thing they already share. Both tables hold a handful of
rows per NetSuite account or subscription; ``subscriptions.throttling`` takes and gives back
their rows in single statements outside any caller's transaction.
"""

from django.db import models

__all__ = ["ThrottleLease", "ThrottleWindow"]


class ThrottleLease(models.Model):
    """One of a scope's concurrency slots, held by ``owner`` until ``expires_at``.

    The expiry is what frees the slot of a process killed mid-call; a live process gives it
    back sooner by deleting its own row. The unique (scope, slot) pair is what makes taking a
    slot atomic: two callers cannot both insert, or both revive, the same row.
    """

    scope = models.CharField(max_length=200)
    slot = models.PositiveIntegerField()
    # host:pid:random, so a person looking at the table sees which process holds a slot.
    owner = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "slot"], name="throttle_lease_scope_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}#{self.slot} ({self.owner} until {self.expires_at:%H:%M:%S})"


class ThrottleWindow(models.Model):
    """How many calls a scope started in its current fixed window (``window_index``: seconds
    since the epoch divided by the window's length)."""

    scope = models.CharField(max_length=200, unique=True)
    window_index = models.BigIntegerField()
    calls = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.scope}: {self.calls} in window {self.window_index}"
