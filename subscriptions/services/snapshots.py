"""Keeping NetSuite's last answers (models/snapshots.py) and taking turns at refreshing them.

The services that read NetSuite for a table (``auth_details_list``,
``certificate_netsuite_table``, ``webhook_table``) store what they read with
:func:`snapshot_store` after every successful read; read-only viewers are shown that instead
of a call per page view. Their "Refresh from NetSuite" takes a turn first
(:func:`snapshot_refresh_turn`): one per subscription and read per
``NETSUITE_REFRESH_SECONDS`` for all of them together, counted on the snapshot's row under a
row lock, so every process agrees. A snapshot is a copy of a read, not a change: it is not
audited (the reads it copies never were).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..actors import ActorLike, actor_name
from ..models import NetSuiteSnapshot, Subscription
from .errors import ServiceError

__all__ = ["RefreshTooSoon", "snapshot_refresh_turn", "snapshot_store"]


class RefreshTooSoon(ServiceError):
    """Someone refreshed this read from NetSuite moments ago; ``retry_at`` says when again."""

    def __init__(self, message: str, *, retry_at: datetime.datetime) -> None:
        self.retry_at = retry_at
        super().__init__(message)


def snapshot_store(
    *, subscription: Subscription, kind: str, data: dict, actor: ActorLike
) -> None:
    """Keep ``data`` (JSON, no secrets) as NetSuite's latest answer for this read."""
    NetSuiteSnapshot.objects.update_or_create(
        subscription=subscription,
        kind=kind,
        defaults={"data": data, "fetched_at": timezone.now(), "fetched_by": actor_name(actor)},
    )


def snapshot_refresh_turn(*, subscription: Subscription, kind: str) -> None:
    """Take the one refresh of this read that the window allows, or refuse with when the next
    one may be made (no NetSuite call is made then)."""
    now = timezone.now()
    window = datetime.timedelta(seconds=settings.NETSUITE_REFRESH_SECONDS)
    with transaction.atomic():
        NetSuiteSnapshot.objects.get_or_create(subscription=subscription, kind=kind)
        row = NetSuiteSnapshot.objects.select_for_update().get(
            subscription=subscription, kind=kind
        )
        if row.refreshed_at is not None and now < row.refreshed_at + window:
            retry_at = row.refreshed_at + window
            seconds = max(1, int((retry_at - now).total_seconds()) + 1)
            raise RefreshTooSoon(
                f"NetSuite was asked for this moments ago: to spare the account's request "
                f"limits, Refresh from NetSuite may be used again in {seconds} seconds "
                f"(once every {settings.NETSUITE_REFRESH_SECONDS} seconds for everyone who "
                "reads this).",
                retry_at=retry_at,
            )
        row.refreshed_at = now
        row.save(update_fields=["refreshed_at"])
