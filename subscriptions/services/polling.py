"""Inventory polling: read the inventory items NetSuite changed and store them like
initialization's records, and the stock levels per item and location that moved, stored as
:mod:`~subscriptions.services.inventory` levels.

Stock moves through transactions that leave the item's ``lastmodifieddate`` alone, so the
levels are found by their own stamp (``lastquantityavailablechange``) in the same window as
the items; every timestamp sent states its offset (docs/inventory.md).

The window follows the seed's Inventory Search Days. With N days a poll reads the items
changed in the last N days, whatever earlier polls read. With 0 ("standard polling") it reads
what changed since the end of the last successful poll's window (``inventory_polled_until``),
less :data:`CLOCK_MARGIN`; the very first poll with 0 has nothing to go on and reads every
inventory item, which is also what the iPaaS side needs before changes mean anything. A
window ends when its poll was queued, and a successful poll moves ``inventory_polled_until``
there (never back), so an item saved while a poll runs is read again by the next one rather
than missed.

The query has a lower bound only (``lastmodifieddate >= ...``) and is ordered by ``id``: an
item saved during the poll can only join the result, never leave it, so pages read at
different moments may repeat a row (stored once, counted unchanged) but never skip one. It is
paged and stored by initialization's :class:`~subscriptions.services.initialization.Transfer`
(pages of 1,000 on Concurrent Connections threads, each page stored with the checkpoint that
says so), so a poll resumed by another worker reads only the pages it has not stored. The
window is fixed when the poll is queued (``params["window"]``): a resumed or retried poll
asks the same query, which is what makes its stored page numbers mean the same rows.

An item deleted in NetSuite while a poll pages through its window can shift a later row into
a page already read; with Inventory Search Days 0 that row is read again only when it next
changes. Deletions do not reach the iPaaS side by polling in any case (the user-event
webhooks carry them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from netsuite.records import suiteql_timestamp

from .. import audit
from ..actors import SCHEDULER, ActorLike
from ..locks import locked_subscription
from ..models import POLLING_MINUTES_LIMITS, Job, Subscription
from ..problems import REMOTE_ERRORS, Problem
from ..selectors.polling import (
    active_poll,
    poll_is_due,
    polling_candidates,
)
from ..selectors.setup_progress import setup_refusal
from .errors import InvalidInput, ServiceError
from .initialization import DATA_TYPES, DataType, Transfer
from .inventory import INVENTORY_LEVEL_KEY, inventory_level_type
from .jobs import JobRun, job_start, job_start_many

# SuiteQL's one item table holds every item type; an inventory item is "InvtPart".
INVENTORY_ITEM = DataType(
    "inventoryitem",
    "Inventory Item",
    ("id", "itemid", "displayname", "isinactive"),
    table="item",
    where="itemtype = 'InvtPart'",
)
# Every type the dashboard stores records of, for the records pages.
RECORD_TYPES: dict[str, DataType] = {**DATA_TYPES, INVENTORY_ITEM.key: INVENTORY_ITEM}
# How far a window with Inventory Search Days 0 reaches back before the last one's end: this
# server's clock and NetSuite's may differ by a little, and NetSuite keeps lastModifiedDate
# in whole seconds. Reading an item twice costs a row counted "unchanged"; missing one costs
# a wrong stock level on the iPaaS side.
CLOCK_MARGIN = dt.timedelta(minutes=2)


class PollingError(ServiceError):
    """A poll that cannot start, a setting refused, or a poll that cannot go on."""


# -- the window --------------------------------------------------------------------------------


def poll_window(
    subscription: Subscription, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime]:
    """(from, to) of a poll queued at ``now``; from ``None`` reads every inventory item."""
    days = subscription.inventory_search_days
    if days:
        return now - dt.timedelta(days=days), now
    if subscription.inventory_polled_until is None:
        return None, now
    return subscription.inventory_polled_until - CLOCK_MARGIN, now


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def inventory_type(window_from: str | None) -> DataType:
    """The inventory item query of a window (from the job's params, written by this module)."""
    if window_from is None:
        return INVENTORY_ITEM
    since = suiteql_timestamp(dt.datetime.fromisoformat(window_from))
    return dataclasses.replace(
        INVENTORY_ITEM, where=f"{INVENTORY_ITEM.where} AND lastmodifieddate >= {since}"
    )


def describe_window(params: dict) -> str:
    window = params.get("window") or {}
    start = window.get("from")
    if start is None:
        return "every inventory item and level"
    since = dt.datetime.fromisoformat(start).astimezone(dt.UTC)
    return f"inventory items and levels changed since {since:%Y-%m-%d %H:%M:%S} UTC"


# -- starting --------------------------------------------------------------------------------


def _poll_start(subscription: Subscription, now: dt.datetime) -> tuple[dict, str]:
    """A poll's params and summary, its window fixed at ``now``."""
    window_from, window_to = poll_window(subscription, now)
    params = {
        "types": [INVENTORY_ITEM.key, INVENTORY_LEVEL_KEY],
        "window": {"from": _iso(window_from), "to": _iso(window_to)},
        "search_days": subscription.inventory_search_days,
    }
    return params, f"poll {describe_window(params)}"


def _queue(subscription: Subscription, actor: ActorLike, now: dt.datetime) -> Job:
    params, summary = _poll_start(subscription, now)
    return job_start(
        subscription=subscription,
        kind=Job.Kind.INVENTORY_POLL,
        params=params,
        actor=actor,
        summary=summary,
    )


def polling_start(*, subscription: Subscription, actor: ActorLike) -> Job:
    """Queue a poll now; refused while another poll of the subscription is queued or running."""
    with transaction.atomic():
        # The row lock makes a person's "Poll now" and a scheduler's tick take turns.
        locked = locked_subscription(subscription.pk)
        active = active_poll(locked)
        if active is not None:
            raise PollingError(
                f"An inventory poll of this subscription is already "
                f"{active.get_status_display().lower()} (job {active.pk}); wait for it to end "
                "or cancel it, then poll again."
            )
        return _queue(locked, actor, timezone.now())


# Subscriptions decided, locked and queued together: one transaction and a fixed number of
# queries per chunk, and no lock held on more rows than this at once.
ENQUEUE_CHUNK = 500


def _due(candidates, now: dt.datetime) -> list[Subscription]:
    return [
        s for s in candidates if poll_is_due(s, s.last_poll_at, s.active_polls is not None, now)
    ]


def polling_enqueue_due(*, now: dt.datetime | None = None) -> list[Job]:
    """Queue a poll for every subscription whose polling interval has passed; each once,
    however many schedulers run this at the same moment.

    The subscriptions are decided on their locked rows, and decided again there, in chunks of
    :data:`ENQUEUE_CHUNK`: a scheduler that finds a row locked (PostgreSQL, ``skip_locked``)
    leaves it to the one holding it, and one that gets the rows after another queued their
    polls sees those polls (the second look is a new statement, after the locks). On SQLite
    the IMMEDIATE transaction is the lock: one writer at a time. A chunk costs the same few
    queries whether one or 500 of its subscriptions are due (:func:`job_start_many`).
    """
    now = now or timezone.now()
    queued: list[Job] = []
    due = [s.pk for s in _due(polling_candidates(), now)]
    for first in range(0, len(due), ENQUEUE_CHUNK):
        chunk = due[first : first + ENQUEUE_CHUNK]
        with transaction.atomic():
            locked = list(
                Subscription.objects.select_for_update(skip_locked=True)
                .filter(pk__in=chunk, inventory_polling_enabled=True)
                .values_list("pk", flat=True)
            )
            if not locked:
                continue  # gone, polling switched off, or another scheduler holds them
            starts = [
                (subscription, *_poll_start(subscription, now))
                for subscription in _due(polling_candidates().filter(pk__in=locked), now)
                # A subscription whose set-up is not finished waits for it, unpolled.
                if not setup_refusal(subscription)
            ]
            queued += job_start_many(kind=Job.Kind.INVENTORY_POLL, actor=SCHEDULER, starts=starts)
    return queued


# -- settings --------------------------------------------------------------------------------


def polling_settings_set(
    *, subscription: Subscription, actor: ActorLike, enabled: bool, minutes: int
) -> tuple[Subscription, dict]:
    """Switch polling on or off and set its interval; audited as its own action (not a new
    revision of the subscription: nobody editing the subscription's form is overruled).
    Returns the subscription and what changed (empty: nothing did, and nothing is recorded).
    """
    low, high = POLLING_MINUTES_LIMITS
    if not isinstance(enabled, bool):
        raise InvalidInput({"inventory_polling_enabled": "Choose on or off."})
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not low <= minutes <= high:
        raise InvalidInput(
            {"inventory_polling_minutes": f"Enter a whole number of minutes from {low} to {high}."}
        )
    if enabled and (why := setup_refusal(subscription)):
        raise InvalidInput({"inventory_polling_enabled": why})
    with transaction.atomic():
        locked = locked_subscription(subscription.pk)
        wanted = {"inventory_polling_enabled": enabled, "inventory_polling_minutes": minutes}
        changes = {
            name: [getattr(locked, name), value]
            for name, value in wanted.items()
            if getattr(locked, name) != value
        }
        if changes:
            for name, value in wanted.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(changes))
            audit.record(
                actor=actor, action="polling.settings_changed", target=locked, changes=changes
            )
    return locked, changes


# -- the run -----------------------------------------------------------------------------------


def polling_run(run: JobRun) -> str:
    """The runner of an inventory poll job (see :func:`services.jobs.job_execute`)."""
    window = run.job.params.get("window") or {}
    start = window.get("from")
    levels = inventory_level_type(
        None if start is None else dt.datetime.fromisoformat(start), run.job.pk
    )
    data_type = inventory_type(start)
    # The item names first (the levels page shows them), then the levels; a poll queued
    # before levels were read has only the items among its types.
    types = {t.key: t for t in (data_type, levels) if t.key in run.job.types}
    transfer = Transfer(run, types)
    try:
        pending = [key for key in types if key not in transfer.checkpoint["done"]]
        if pending:
            transfer.netsuite_types(pending)
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        raise PollingError(problem.message, problem=problem) from exc
    until = dt.datetime.fromisoformat(window["to"])

    def advance(job: Job) -> None:
        # Under the job's lock, so only the worker that still owns the poll moves it; never
        # back, should an older poll be retried after a newer one succeeded.
        Subscription.objects.filter(pk=job.subscription_id).filter(
            Q(inventory_polled_until__isnull=True) | Q(inventory_polled_until__lt=until)
        ).update(inventory_polled_until=until)

    run.save(advance, log=f"Inventory polled until {window['to']}.")
    counts = transfer.counts.get(data_type.key) or {}
    moved = transfer.counts.get(INVENTORY_LEVEL_KEY) or {}
    return (
        f"Inventory poll finished: {counts.get('read', 0)} read, {counts.get('created', 0)} new, "
        f"{counts.get('updated', 0)} updated, {counts.get('unchanged', 0)} unchanged; "
        f"{moved.get('read', 0)} item-locations read, "
        f"{moved.get('created', 0) + moved.get('updated', 0)} changed."
    )
