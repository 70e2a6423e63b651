"""Inventory polling for the pages and the scheduler: the last polls, and when the next is due.

The due rule lives here once: the Jobs section shows it and ``services.polling`` enqueues by
it. A poll is due when polling is on, no poll is queued or running, and the subscription's
interval has passed since its last poll was queued (by the scheduler or by a person: "Poll
inventory now" also restarts the interval).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q
from django.utils import timezone

from ..models import Job, Subscription

POLL = Job.Kind.INVENTORY_POLL


def next_poll_at(subscription: Subscription, last_queued: dt.datetime | None) -> dt.datetime | None:
    """When the scheduler queues the next poll (``None``: polling is off); a moment in the past
    means at its next tick."""
    if not subscription.inventory_polling_enabled:
        return None
    if last_queued is None:
        return subscription.created_at
    return last_queued + dt.timedelta(minutes=subscription.inventory_polling_minutes)


def poll_is_due(
    subscription: Subscription, last_queued: dt.datetime | None, active: bool, now: dt.datetime
) -> bool:
    due = next_poll_at(subscription, last_queued)
    return due is not None and not active and due <= now


def polling_candidates():
    """Subscriptions with polling on, each with ``last_poll_at`` (when its last poll was
    queued) and ``active_polls``: one query for the scheduler's tick."""
    return (
        Subscription.objects.without_secrets()
        .filter(inventory_polling_enabled=True)
        .annotate(
            last_poll_at=Max("jobs__created_at", filter=Q(jobs__kind=POLL)),
            active_polls=Max("jobs__id", filter=Q(jobs__kind=POLL, jobs__status__in=Job.ACTIVE)),
        )
        .order_by("pk")
    )


def last_poll_queued(subscription: Subscription) -> dt.datetime | None:
    return Job.objects.filter(subscription=subscription, kind=POLL).aggregate(
        last=Max("created_at")
    )["last"]


def active_poll(subscription: Subscription) -> Job | None:
    return (
        Job.objects.filter(subscription=subscription, kind=POLL, status__in=Job.ACTIVE)
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PollingOverview:
    enabled: bool
    minutes: int
    search_days: int
    polled_until: dt.datetime | None
    last: Job | None
    last_succeeded: Job | None
    active: Job | None
    next_at: dt.datetime | None
    due_now: bool

    @property
    def window_rule(self) -> str:
        if self.search_days:
            return f"the last {self.search_days} days (Inventory Search Days)"
        if self.polled_until is None:
            return "every inventory item (the first poll; later polls read what changed since)"
        return "what changed since the last successful poll"


def polling_overview(subscription: Subscription) -> PollingOverview:
    """The Jobs section's polling card: one query (two when no recent poll succeeded)."""
    polls = list(
        Job.objects.filter(subscription=subscription, kind=POLL)
        .only(
            "id",
            "kind",
            "status",
            "params",
            "counts",
            "created_at",
            "finished_at",
            "actor_name",
            "error",
            "subscription_id",
        )
        .order_by("-created_at", "-id")[:20]
    )
    last = polls[0] if polls else None
    active = next((job for job in polls if job.is_active), None)
    succeeded = next((job for job in polls if job.status == Job.Status.SUCCEEDED), None)
    if succeeded is None and len(polls) == 20:
        succeeded = (
            Job.objects.filter(subscription=subscription, kind=POLL, status=Job.Status.SUCCEEDED)
            .order_by("-created_at", "-id")
            .first()
        )
    next_at = next_poll_at(subscription, last.created_at if last else None)
    return PollingOverview(
        enabled=subscription.inventory_polling_enabled,
        minutes=subscription.inventory_polling_minutes,
        search_days=subscription.inventory_search_days,
        polled_until=subscription.inventory_polled_until,
        last=last,
        last_succeeded=succeeded,
        active=active,
        next_at=next_at,
        due_now=next_at is not None and next_at <= timezone.now(),
    )
