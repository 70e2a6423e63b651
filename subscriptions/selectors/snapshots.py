"""NetSuite's last answers as stored (models/snapshots.py): what a read-only viewer is shown,
and when "Refresh from NetSuite" may be used again. One query; never NetSuite."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from ..models import NetSuiteSnapshot, Subscription


def snapshot_of(subscription: Subscription, kind: str) -> NetSuiteSnapshot | None:
    return NetSuiteSnapshot.objects.filter(subscription=subscription, kind=kind).first()


def refresh_allowed_at(snapshot: NetSuiteSnapshot | None) -> datetime.datetime | None:
    """When the next refresh by a read-only viewer may be made; None: now."""
    if snapshot is None or snapshot.refreshed_at is None:
        return None
    at = snapshot.refreshed_at + datetime.timedelta(seconds=settings.NETSUITE_REFRESH_SECONDS)
    return at if at > timezone.now() else None
