"""Initialization: the bulk transfer of a subscription's reference data to the iPaaS side.

Alternate ID Types come first and from ``netsuite.alternate_ids`` (no NetSuite call: they are
not a NetSuite table, and products' alternate IDs refer to them). The four NetSuite-backed
types are read with SuiteQL in pages of 1,000 ordered by the unique ``id``: page 0 of every
type first, which tells each type's total, then every remaining page, all through one pool of
twice Concurrent Connections threads (the shared limiter in ``throttling`` holds the account's
real cap, whatever else runs; a thread waiting for a slot takes the one another gives back at
once, while that one reads its answer). The slots page 0 of every type leaves idle read
guessed second pages meanwhile (``Transfer.read_ahead``): at NetSuite's real page time, a first
round that left a slot idle made the job a whole page time longer. Threads talk to NetSuite and turn
answers into encoded rows; the job's own thread stores each page as it arrives, together with
the checkpoint that says it is stored, so memory stays at a few pages whatever the totals and
a resumed job fetches only the pages not yet stored.

Rows are upserted by (subscription, type, internal ID) and written only when what was read
differs from what is stored: a second run writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone

from netsuite.alternate_ids import ALTERNATE_ID_TYPES
from netsuite.alternate_ids import FIELDS as ALTERNATE_ID_FIELDS
from netsuite.errors import (
    ConcurrencyLimitError,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
    UnexpectedResponseError,
    UnstablePagingError,
)
from netsuite.records import MAX_PAGE_SIZE, MAX_SUITEQL_ROWS, ordered_by_unique_key

from ..actors import ActorLike
from ..bulk_sql import JsonText, insert_rows, upsert_changed
from ..integration import account_scope, client_for
from ..middleware import carrying_context
from ..models import Job, Record, Subscription
from ..problems import REMOTE_ERRORS, Problem
from ..throttling import wait_until_busy
from .errors import ServiceError
from .jobs import JobRun, job_start

PAGE_SIZE = MAX_PAGE_SIZE
ALTERNATE_ID_TYPE = "alternateidtype"
# What a job waits out rather than fails on: a read is safe to repeat, and a worker can wait
# longer than a person (slots a crashed process still leases, a busy NetSuite).
TRANSIENT = (
    ConcurrencyLimitError,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
    requests.ConnectionError,
)


@dataclass(frozen=True)
class DataType:
    key: str
    label: str
    # SuiteQL columns; the first after id is the name shown.
    columns: tuple[str, ...] = ()
    # The SuiteQL table when it is not ``key`` (inventory items live in ``item``), and a
    # condition on it: both constants of the code (polling adds a timestamp it formats).
    table: str = ""
    where: str = ""
    # The unique key the pages are ordered by (a table without ``id`` has a composite one).
    order_by: tuple[str, ...] = ("id",)
    # How an answered row becomes a stored one and how a page of them is stored: the
    # records' way (``_row``, ``store_rows``) unless a type brings its own.
    row: Callable[[DataType, dict], tuple] | None = None
    store: Callable[[int, str, list[tuple]], dict[str, int]] | None = None
    # The stored fields of a type read from no query, in the order people read them.
    fields: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        # Built from the constants below only, never from input.
        where = f" WHERE {self.where}" if self.where else ""
        return (
            f"SELECT {', '.join(self.columns)} FROM {self.table or self.key}{where}"  # noqa: S608
            f" ORDER BY {', '.join(self.order_by)}"
        )

    @property
    def from_netsuite(self) -> bool:
        return bool(self.columns)


# In transfer order: the alternate-id types before anything that may use them.
DATA_TYPES: dict[str, DataType] = {
    t.key: t
    for t in (
        DataType(ALTERNATE_ID_TYPE, "Alternate ID Type", fields=ALTERNATE_ID_FIELDS),
        DataType("customercategory", "Customer Category", ("id", "name", "isinactive")),
        DataType("location", "Location", ("id", "name", "isinactive")),
        DataType("paymentmethod", "Payment Method", ("id", "name", "isinactive")),
        DataType("shipitem", "Shipping Method", ("id", "itemid", "displayname", "isinactive")),
    )
}


class InitializationError(ServiceError):
    """An initialization that cannot start or cannot go on."""


def initialization_start(
    *, subscription: Subscription, types: list[str] | None, actor: ActorLike
) -> Job:
    """Queue an initialization of ``types`` (all when empty); one at a time per subscription."""
    unknown = sorted(set(types or ()) - set(DATA_TYPES))
    if unknown:
        raise InitializationError(
            f"Unknown data type {', '.join(unknown)}; choose from {', '.join(DATA_TYPES)}.",
            field="type",
        )
    chosen = [key for key in DATA_TYPES if not types or key in types]
    if Job.objects.filter(
        subscription=subscription, kind=Job.Kind.INITIALIZATION, status__in=Job.ACTIVE
    ).exists():
        raise InitializationError(
            "An initialization of this subscription is already queued or running; wait for it "
            "to end or cancel it."
        )
    labels = ", ".join(DATA_TYPES[key].label for key in chosen)
    return job_start(
        subscription=subscription,
        kind=Job.Kind.INITIALIZATION,
        params={"types": chosen},
        actor=actor,
        summary=f"initialize {labels}",
    )


# -- storing -----------------------------------------------------------------------------------


def _encoded(name: str, inactive: bool, fields: dict) -> tuple[JsonText, str]:
    """The fields as stored (JSON, keys sorted) and the digest of what was read: the one
    encoding serves both, a thousand rows a page."""
    text = JsonText(json.dumps(fields, sort_keys=True, separators=(",", ":")))
    raw = f"{name!r}\n{inactive!r}\n{text}"
    return text, hashlib.sha256(raw.encode()).hexdigest()


def _row(data_type: DataType, item: dict) -> tuple[str, str, bool, dict]:
    internal_id = item.get("id")
    if internal_id in (None, "") or isinstance(internal_id, bool):
        raise UnexpectedResponseError(f"NetSuite sent a {data_type.key} row without an id.")
    fields = {k: v for k, v in item.items() if k != "links"}
    name_column = data_type.columns[1] if data_type.columns else "name"
    name = str(fields.get(name_column) or fields.get("name") or "")[:255]
    inactive = str(fields.get("isinactive", "F")).upper() in ("T", "TRUE")
    return str(internal_id)[:64], name, inactive, fields


class Encoded(dict):
    """Rows already encoded by :func:`encode_rows` (internal ID -> name, inactive, fields as
    stored, digest): what a page thread hands :func:`store_rows` so the storing thread only
    writes."""


def encode_rows(rows: list[tuple]) -> Encoded:
    wanted = Encoded()
    for internal_id, name, inactive, fields in rows:
        wanted[internal_id] = (name, inactive, *_encoded(name, inactive, fields))
    return wanted


def store_rows(subscription_id: int, record_type: str, rows: list[tuple]) -> dict[str, int]:
    """Upsert ``rows`` (internal ID, name, inactive, fields, or :class:`Encoded`); new and
    changed ones only."""
    wanted = rows if isinstance(rows, Encoded) else encode_rows(rows)
    now = timezone.now()
    # PostgreSQL compares the digests inside the upsert: one statement a page.
    counted = upsert_changed(
        Record,
        _RECORD_COLUMNS,
        [
            (subscription_id, record_type, iid, name, inactive, fields, digest, now)
            for iid, (name, inactive, fields, digest) in wanted.items()
        ],
        conflict=_RECORD_KEY,
        update=_RECORD_UPDATED,
        changed="content_hash",
    )
    if counted is not None:
        created, updated = counted
        return {
            "read": len(wanted),
            "created": created,
            "updated": updated,
            "unchanged": len(wanted) - created - updated,
        }
    stored = dict(
        Record.objects.filter(
            subscription_id=subscription_id, record_type=record_type, internal_id__in=wanted
        ).values_list("internal_id", "content_hash")
    )
    writes = [
        (subscription_id, record_type, iid, name, inactive, fields, digest, now)
        for iid, (name, inactive, fields, digest) in wanted.items()
        if stored.get(iid) != digest
    ]
    # A page is a thousand rows: the ORM's bulk_create spent more time compiling them than
    # the database spent storing them, and the page's slot in the pool waited for it.
    insert_rows(Record, _RECORD_COLUMNS, writes, conflict=_RECORD_KEY, update=_RECORD_UPDATED)
    created = sum(1 for w in writes if w[2] not in stored)
    return {
        "read": len(wanted),
        "created": created,
        "updated": len(writes) - created,
        "unchanged": len(wanted) - len(writes),
    }


_RECORD_KEY = ("subscription_id", "record_type", "internal_id")
_RECORD_UPDATED = ("name", "inactive", "fields", "content_hash", "fetched_at")
_RECORD_COLUMNS = (*_RECORD_KEY, *_RECORD_UPDATED)


def _add_counts(counts: dict, key: str, more: dict[str, int]) -> dict:
    mine = dict(counts.get(key) or {"read": 0, "created": 0, "updated": 0, "unchanged": 0})
    for name, value in more.items():
        mine[name] = mine.get(name, 0) + value
    return {**counts, key: mine}


# -- the run -----------------------------------------------------------------------------------


def patiently(call, *args, **kwargs):
    """``call`` tried again on a transient failure for ``JOB_PAGE_RETRY_SECONDS``."""
    deadline = time.monotonic() + settings.JOB_PAGE_RETRY_SECONDS
    pause = 0.5
    while True:
        try:
            return call(*args, **kwargs)
        except TRANSIENT:
            if time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, 10.0)


def fetch_page(client, query: str, offset: int) -> dict:
    return patiently(client.records.suiteql_page, query, limit=PAGE_SIZE, offset=offset)


# A page answered faster than this is encoded by its own thread (see ``fetch_rows``); a
# slower one also lets the storing thread wait for every slot to be calling again, up to
# ``BUSY_WAIT_SECONDS`` (``Transfer._pages``).
ENCODE_IN_THREAD_BELOW = 0.25
BUSY_WAIT_SECONDS = 0.05


def fetch_rows(
    call: Callable, client, data_type: DataType, offset: int
) -> tuple[dict, list[tuple] | Encoded, float] | None:
    """``call`` (:func:`fetch_page` or :func:`guess_page`) for a page of ``data_type`` and its
    rows, made in the page's thread: while the job's own thread waits on the database, the
    threads that wait on NetSuite turn answers into rows and, when NetSuite answers faster
    than :data:`ENCODE_IN_THREAD_BELOW` (the storing thread is then the slower side), encode
    them for the records' own store. A slower answer leaves the encoding to the storing
    thread, which waits on NetSuite anyway, so this thread's next call starts sooner. The
    seconds the call took come last."""
    started = time.monotonic()
    page = call(client, data_type.query, offset)
    if page is None:
        return None
    seconds = time.monotonic() - started
    make_row = data_type.row or _row
    rows = [make_row(data_type, item) for item in page.get("items") or () if isinstance(item, dict)]
    fast = seconds < ENCODE_IN_THREAD_BELOW
    return page, (encode_rows(rows) if fast and data_type.store is None else rows), seconds



def guess_page(client, query: str, offset: int) -> dict | None:
    """A page asked for before its type's total is known (``Transfer.read_ahead``): ``None``
    when NetSuite refused it, which is no failure of the job (the page may not exist); it is
    asked for again, patiently, if the total says it does."""
    try:
        return client.records.suiteql_page(query, limit=PAGE_SIZE, offset=offset)
    except REMOTE_ERRORS:
        return None


class Transfer:
    """One attempt of one job that reads SuiteQL pages of ``data_types`` (initialization's
    by default; an inventory poll passes its own) and stores them."""

    def __init__(
        self,
        run: JobRun,
        data_types: dict[str, DataType] | None = None,
        *,
        read_ahead: bool = False,
    ) -> None:
        self.run = run
        # Whether the slots the first pages leave idle guess at second pages (``_guesses``):
        # for whole tables (initialization), not for a poll's few changed rows.
        self.read_ahead = read_ahead
        self.job = run.job
        self.data_types = DATA_TYPES if data_types is None else data_types
        self.checkpoint: dict = dict(run.checkpoint or {})
        self.checkpoint.setdefault("done", [])
        self.checkpoint.setdefault("types", {})
        self.counts: dict = dict(self.job.counts or {})

    def progress(self, checkpoint: dict | None = None, counts: dict | None = None):
        """(records read, records expected) over the job's types."""
        checkpoint = self.checkpoint if checkpoint is None else checkpoint
        counts = self.counts if counts is None else counts
        done = sum((counts.get(key) or {}).get("read", 0) for key in self.job.types)
        total = 0
        for key in self.job.types:
            if key == ALTERNATE_ID_TYPE:
                total += len(ALTERNATE_ID_TYPES)
            else:
                total += (checkpoint["types"].get(key) or {}).get("total") or 0
        return done, max(total, done)

    def save(self, key: str, rows: list[tuple], checkpoint: dict, *, log: str = "") -> None:
        """Store ``rows`` of ``key`` with ``checkpoint`` and the counts, in one transaction."""
        self.save_many([(key, rows)], checkpoint, log=log)

    def save_many(
        self,
        parts: list[tuple[str, list[tuple]]],
        checkpoint: dict,
        *,
        log: str = "",
        done: tuple[str, ...] = (),
    ) -> None:
        """Store the rows of each ``(key, rows)`` with ``checkpoint`` and the counts, in one
        transaction; the types in ``done`` are marked done in it too, each with its line."""
        result: dict = {}
        if done:
            checkpoint = {**checkpoint, "done": [*checkpoint["done"], *done]}

        def write(row: Job) -> list[str]:
            counts = self.counts
            for key, rows in parts:
                store = self.data_types[key].store or store_rows
                counts = _add_counts(counts, key, store(self.job.subscription_id, key, rows))
            result["counts"] = counts
            row.checkpoint = checkpoint
            row.counts = counts
            row.progress_done, row.progress_total = self.progress(checkpoint, row.counts)
            return [self._done_line(key, counts) for key in done]

        self.run.save(write, log=log)
        # Only once committed: a refused save leaves this attempt's view as it was.
        self.checkpoint, self.counts = checkpoint, result["counts"]

    def _done_line(self, key: str, counts: dict) -> str:
        c = counts.get(key) or {}
        return (
            f"{self.data_types[key].label}: {c.get('read', 0)} read, "
            f"{c.get('created', 0)} new, "
            f"{c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged."
        )

    def mark_done(self, key: str) -> None:
        self.save_many([], self.checkpoint, done=(key,))

    def alternate_ids(self) -> None:
        rows = [(t.code, t.description, False, t.as_fields()) for t in ALTERNATE_ID_TYPES]
        self.save_many([(ALTERNATE_ID_TYPE, rows)], self.checkpoint, done=(ALTERNATE_ID_TYPE,))

    def netsuite_types(self, keys: list[str]) -> None:
        subscription = Subscription.objects.get(pk=self.job.subscription_id)
        workers = max(1, subscription.concurrent_connections)
        for key in keys:
            data_type = self.data_types[key]
            # A composite key's last column is unique only after the ones before it, which
            # the query orders by first.
            if not ordered_by_unique_key(data_type.query, data_type.order_by[-1:]):
                raise UnstablePagingError(f"The {key} query is not ordered by a unique key.")
        with client_for(subscription) as client:
            # One token before the threads start, rather than one per thread.
            patiently(client.fetch_token)
            scope = account_scope(subscription.account_id, settings.NETSUITE_BASE_URL)
            self._pages(client, keys, workers, scope)

    def _todo(self, key: str) -> list[int]:
        state = self.checkpoint["types"].get(key) or {}
        total = state.get("total")
        if total is None:
            return [0]
        if total > MAX_SUITEQL_ROWS:
            raise InitializationError(
                f"NetSuite holds {total} {self.data_types[key].label} records, more than the "
                f"{MAX_SUITEQL_ROWS} one SuiteQL query can return."
            )
        done = set(state.get("pages") or [])
        return [o for o in range(0, max(total, 1), PAGE_SIZE) if o not in done]

    def _pages(self, client, keys: list[str], workers: int, scope: str) -> None:
        todo = [(key, offset) for key in keys for offset in self._todo(key)]
        ended = {key for key in keys if not any(k == key for k, _ in todo)}
        for key in keys:
            if key in ended:
                self.mark_done(key)
        guesses = set(self._guesses(todo, workers)) if self.read_ahead else set()
        todo += sorted(guesses, key=lambda page: (page[1], keys.index(page[0])))
        # Every page asked for or queued, guesses included: a total learnt later adds only
        # the pages not asked for yet.
        asked = set(todo)
        # Twice as many threads as slots: while one reads and turns an answer into rows,
        # another waits for the slot it gives back and calls at once (``throttling``'s
        # limiter wakes it), so the reading never delays a slot's next call.
        pool = ThreadPoolExecutor(
            max_workers=2 * workers, thread_name_prefix=f"job{self.job.pk}"
        )
        # Twice as many pages asked for as there are threads: the rest wait in the pool's
        # queue, so a thread that got its answer starts the next call at once while this
        # thread stores, and the slots never idle on a store. Answered pages waiting to be
        # stored stay within that number, whatever the totals: memory does not grow.
        ahead = 2 * workers
        running: dict[Future, tuple[str, int]] = {}
        # The pages' threads log with the job's ids, as this thread does.
        fetch = carrying_context(fetch_rows)

        def top_up() -> None:
            while todo and len(running) < ahead:
                key, offset = todo.pop(0)
                call = guess_page if (key, offset) in guesses else fetch_page
                future = pool.submit(fetch, call, client, self.data_types[key], offset)
                running[future] = (key, offset)

        def pending(key: str) -> bool:
            return (
                not self._total_known(key)
                or any(k == key for k, _ in todo)
                or any(k == key for k, _ in running.values())
            )

        try:
            while todo or running:
                top_up()
                finished, _ = wait(
                    running, timeout=settings.JOB_HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED
                )
                if not finished:
                    self.run.beat()
                    continue
                # Every page answered meanwhile is stored in one transaction: one commit and
                # one checkpoint for them all.
                parts, checkpoint, touched, slow = [], self.checkpoint, set(), False
                for future in sorted(finished, key=lambda f: running[f]):
                    key, offset = running.pop(future)
                    page, rows, seconds = future.result() or (None, None, 0.0)
                    slow = slow or seconds >= ENCODE_IN_THREAD_BELOW
                    touched.add(key)
                    if page is None or ((key, offset) in guesses and not page.get("items")):
                        # A guess that found nothing (or was refused): asked for again as an
                        # ordinary page if the total says it exists.
                        guesses.discard((key, offset))
                        asked.discard((key, offset))
                        total = (checkpoint["types"].get(key) or {}).get("total")
                        if total is not None and offset < total:
                            todo.append((key, offset))
                            asked.add((key, offset))
                        continue
                    rows, checkpoint, more = self._read_page(
                        key, offset, page, checkpoint, rows=rows
                    )
                    parts.append((key, rows))
                    new = [(key, o) for o in more if (key, o) not in asked]
                    todo.extend(new)
                    asked.update(new)
                # The slots just freed call NetSuite again while this thread stores (the pages
                # the first ones told of were not in the queue yet).
                top_up()
                if slow and running:
                    # At a real page time the store can wait a moment, and the threads about
                    # to call cannot: each waited on the interpreter this thread's storing
                    # held, and the calls of every round started 10-40 ms later. So the
                    # store begins once every slot is calling again (or after a moment, when
                    # other work on the account holds some).
                    wait_until_busy(
                        scope, min(workers, len(running)), timeout=BUSY_WAIT_SECONDS
                    )
                # The types these pages end are marked done in the same transaction: at the
                # job's last round, one commit rather than one per type after the last call.
                ending = tuple(
                    key
                    for key in keys
                    if key in touched and key not in ended and not pending(key)
                )
                if parts or ending:
                    self.save_many(parts, checkpoint, done=ending)
                ended.update(ending)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _guesses(self, todo: list[tuple[str, int]], workers: int) -> list[tuple[str, int]]:
        """Pages to ask for beside the first pages of the types whose totals are unknown,
        one for each slot those first pages leave idle: at ``PAGE_SIZE``, then twice that,
        over the types in turn. A type that turns out smaller costs one call for nothing in
        a slot that would have idled; a job that knows its totals (resumed) guesses nothing."""
        unknown = [key for key, offset in todo if offset == 0 and not self._total_known(key)]
        spare = workers - len(todo)
        if not unknown or spare <= 0:
            return []
        return [
            (unknown[n % len(unknown)], PAGE_SIZE * (1 + n // len(unknown)))
            for n in range(spare)
        ]

    def _total_known(self, key: str) -> bool:
        return (self.checkpoint["types"].get(key) or {}).get("total") is not None

    def _store_page(self, key: str, offset: int, page: dict) -> list[int]:
        """Store one page; the offsets it newly tells to fetch."""
        rows, checkpoint, more = self._read_page(key, offset, page, self.checkpoint)
        self.save(key, rows, checkpoint)
        return more

    def _read_page(
        self, key: str, offset: int, page: dict, checkpoint: dict, *, rows=None
    ) -> tuple[list[tuple], dict, list[int]]:
        """One page's rows (``rows`` when its thread made them already), ``checkpoint`` with
        the page counted in, and the offsets it newly tells to fetch; nothing stored yet."""
        answered = page.get("offset", offset)
        if str(answered) != str(offset):
            raise UnexpectedResponseError(
                f"NetSuite answered the page at offset {answered!r} when {offset} was asked for."
            )
        items = page["items"]
        if page.get("hasMore") and not items:
            raise UnexpectedResponseError("NetSuite said more rows follow but sent none.")
        data_type = self.data_types[key]
        if rows is None:
            make_row = data_type.row or _row
            rows = [make_row(data_type, item) for item in items if isinstance(item, dict)]
        state = dict(checkpoint["types"].get(key) or {"pages": []})
        more: list[int] = []
        if state.get("total") is None:
            total = page.get("totalResults")
            total = int(total) if isinstance(total, int | str) and str(total).isdigit() else None
            if total is None:
                total = offset + len(items) + (PAGE_SIZE if page.get("hasMore") else 0)
            state["total"] = total
            more = [o for o in range(PAGE_SIZE, total, PAGE_SIZE)]
        elif page.get("hasMore") and offset + PAGE_SIZE >= state["total"]:
            # Records added since the total was read: one page further.
            state["total"] = offset + PAGE_SIZE + 1
            more = [offset + PAGE_SIZE]
        if state["total"] > MAX_SUITEQL_ROWS:
            raise InitializationError(
                f"NetSuite holds {state['total']} {data_type.label} records, more than the "
                f"{MAX_SUITEQL_ROWS} one SuiteQL query can return."
            )
        state["pages"] = sorted({*state.get("pages", []), offset})
        types = {**checkpoint["types"], key: state}
        return rows, {**checkpoint, "types": types}, more


def initialization_run(run: JobRun) -> str:
    """The runner of an initialization job (see :func:`services.jobs.job_execute`)."""
    transfer = Transfer(run, read_ahead=True)
    pending = [key for key in run.job.types if key not in transfer.checkpoint["done"]]
    try:
        if ALTERNATE_ID_TYPE in pending:
            transfer.alternate_ids()
        remote = [key for key in pending if DATA_TYPES[key].from_netsuite]
        if remote:
            transfer.netsuite_types(remote)
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        raise InitializationError(problem.message, problem=problem) from exc
    done, _total = transfer.progress()
    return f"Initialization finished: {done} records read."
