"""The caps on calls to NetSuite, shared by every process and machine of a deployment.

Concurrent Connections caps the requests in flight per NetSuite account; API Throttle Limit
per API Throttle Seconds caps the rate per subscription. The web process and every worker
must count against the same caps, or each would use the account's whole allowance and
NetSuite would answer 429. So the counts live in a store they all share, chosen by
``NETSUITE_THROTTLE_STORE``:

- ``redis`` (the default when ``CACHE_URL`` is Redis): a sorted set of leases per scope,
  scored by their expiry, taken and given back by one server-side step each, on the Redis
  server's clock (one clock for every machine).
- ``database`` (the default otherwise, so ``make run``'s web process and worker share it):
  a row per held slot and a row per rate window, each taken by one conditional statement in
  autocommit; see ``models.throttling``.
- ``cache``: Django's cache framework, shared exactly as far as its backend is (one process
  with the local-memory cache). Kept for a cache backend that is shared but not Redis.

A slot is a lease: it expires on its own after ``hold_seconds`` (longer than a call may last,
its deadline), so a process killed mid-call holds it no longer than that. None of the stores
keeps a database transaction open while a call is in flight or while a caller waits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import math
import os
import random
import secrets
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Protocol

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from redis import exceptions as redis_errors

from netsuite.errors import ConcurrencyLimitError

from .models import ThrottleLease, ThrottleWindow

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
STORES = ("redis", "database", "cache")
REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
# How long a waiter sleeps at most between two looks at a full cap: short enough that a
# freed slot is reused quickly (throughput at the cap), long enough not to hammer the store.
MAX_PAUSE = 0.025
_HOST = socket.gethostname()[:60]


class LocalWaitError(ConcurrencyLimitError):
    """This dashboard held the call back (its own cap or throttle); NetSuite saw nothing."""


def new_owner() -> str:
    """Who holds a lease: unique per call, and readable (host and process) for people."""
    return f"{_HOST}:{os.getpid()}:{secrets.token_hex(6)}"


class Store(Protocol):
    name: str

    def take(
        self, scope: str, limit: int, hold_seconds: float, owner: str
    ) -> tuple[object | None, float | None]:
        """A slot's token, or ``None`` and (when known) the seconds until a lease expires."""

    def release(self, scope: str, token: object, owner: str) -> bool:
        """Give the slot back if ``owner`` still holds it; whether it did."""

    def held(self, scope: str, limit: int) -> int:
        """Leases of ``scope`` not yet expired."""

    def count(self, scope: str, limit: int, per_seconds: float, units: int = 1) -> float | None:
        """Count ``units`` calls at once: ``None`` if all fit the window, else the seconds to
        wait, and none of them counted."""


# --- cache framework ---------------------------------------------------------------------

# Give a slot back only if it is still ours, in one step on the server: a get followed by a
# delete could delete a slot that expired in between and was taken by another call, letting
# one more call in than Concurrent Connections allows.
_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Backends without a server-side compare-and-delete (the local-memory cache) take and give
# back slots under this lock, which makes both atomic among the threads that share them.
_LOCAL = threading.Lock()


def _redis_client(cache):
    """The redis-py client behind Django's Redis cache backend, or ``None`` for others."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if get_client is None or type(cache).__name__ != "RedisCache":
        return None
    return get_client(write=True)


def _int_owner(owner: str) -> int:
    # Django's Redis backend stores an int as its plain decimal form (anything else pickled),
    # which is what lets the release script compare it.
    return int.from_bytes(hashlib.blake2b(owner.encode(), digest_size=7).digest()) + 1


class CacheStore:
    """Slots as cache keys taken with ``cache.add``; a fixed window counted with ``incr``."""

    name = "cache"

    def __init__(self, alias: str = CACHE_ALIAS) -> None:
        self.cache = caches[alias]
        self._redis = _redis_client(self.cache)

    def _guard(self):
        return contextlib.nullcontext() if self._redis is not None else _LOCAL

    def take(self, scope, limit, hold_seconds, owner):
        value = _int_owner(owner)
        # A random starting slot spreads the cache keys people contend on.
        first = random.randrange(limit)
        with self._guard():
            for offset in range(limit):
                key = f"{scope}:{(first + offset) % limit}"
                if self.cache.add(key, value, max(1, math.ceil(hold_seconds))):
                    return key, None
        return None, None

    def release(self, scope, token, owner):
        value = _int_owner(owner)
        if self._redis is not None:
            name = self.cache.make_and_validate_key(token)
            return bool(self._redis.eval(_RELEASE_IF_OWNER, 1, name, str(value)))
        with _LOCAL:
            if self.cache.get(token) == value:
                self.cache.delete(token)
                return True
        return False

    def held(self, scope, limit):
        return len(self.cache.get_many([f"{scope}:{i}" for i in range(limit)]))

    def count(self, scope, limit, per_seconds, units=1):
        now = time.time()
        window = int(now // per_seconds)
        key = f"{scope}:{window}"
        self.cache.add(key, 0, math.ceil(per_seconds) + 1)
        try:
            count = self.cache.incr(key, units)
        except ValueError:
            return 0.0  # the window's key expired between add and incr: go again
        if count <= limit:
            return None
        # Given back so a refused batch costs nothing; until then a caller racing it may be
        # refused too (this store has no compare-and-add), which only delays that caller.
        with contextlib.suppress(ValueError):
            self.cache.decr(key, units)
        return (window + 1) * per_seconds - now


# --- Redis -------------------------------------------------------------------------------

# Both scripts read the time from the Redis server, so machines whose clocks differ still
# agree on when a lease or a window ends. Times are in milliseconds.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS[1] the scope's sorted set (member = owner, score = expiry); ARGV limit, hold, owner.
# Returns -1 when taken, else the milliseconds until the first lease expires.
_TAKE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local hold = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now + hold, ARGV[3])
    if redis.call('PTTL', KEYS[1]) < hold then
        redis.call('PEXPIRE', KEYS[1], hold)
    end
    return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
"""
)
_HELD = _NOW + "return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')"
# KEYS[1] the scope's hash {w: window index, n: calls in it}; ARGV limit, window length,
# units. Returns -1 when all units were counted, else the milliseconds until the window ends.
_COUNT = (
    _NOW
    + """
local per = tonumber(ARGV[2])
local window = math.floor(now / per)
local state = redis.call('HMGET', KEYS[1], 'w', 'n')
local n = 0
if tonumber(state[1]) == window then
    n = tonumber(state[2])
end
local units = tonumber(ARGV[3])
if n + units <= tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'w', window, 'n', n + units)
    redis.call('PEXPIRE', KEYS[1], per * 2)
    return -1
end
return (window + 1) * per - now
"""
)


def _resp(*parts) -> bytes:
    """A command in Redis's wire form (RESP), ready to send in one write."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Connections:
    """The store's own connections to the cache's Redis server, made from its pool's settings
    (address, password, TLS, database, timeouts) and reused one caller at a time.

    Every command sent on one is answered and read in full before it is given back, and one
    cut off mid-answer is closed (:func:`_on_connection`), so none ever holds an unread
    answer: the pool's check on each checkout (a non-blocking read, three system calls) and
    its bookkeeping found nothing to catch, at a fifth of a count's CPU time. A forked
    process starts with none of its parent's (their sockets are the parent's).
    """

    def __init__(self, pool) -> None:
        self.pool = pool
        self._idle: deque = deque()
        self._pid = os.getpid()

    def get(self):
        if self._pid != os.getpid():
            self._idle = deque()
            self._pid = os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            return self.pool.connection_class(**self.pool.connection_kwargs)

    def put(self, connection) -> None:
        if self._pid == os.getpid():
            self._idle.append(connection)


class _Script:
    """A Lua script run by EVALSHA on one of the store's connections, loaded when the server
    does not know it (a restart, another server).

    redis-py's ``Script`` goes through the client's command layers (a retry wrapper, timing
    and error hooks, response callbacks); for a call this small they cost more CPU than
    the round trip itself, and every NetSuite call and inbound delivery makes one
    (``bench_throttling``, ``bench_inbound``). This sends the command, packed in one piece,
    and reads the answer, as those layers finally do, retrying once on a new connection
    when the old one broke (as redis-py does by default; a retried count may count twice,
    which only ever holds a caller back).
    """

    def __init__(self, connections: _Connections, text: str) -> None:
        self.connections = connections
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, keys: list[str], args: list = ()):
        command = _resp(b"EVALSHA", self.sha, len(keys), *keys, *args)
        return _on_connection(self.connections, self._run, command)

    def _run(self, connection, command: bytes):
        try:
            connection.send_packed_command([command], check_health=False)
            return connection.read_response()
        except redis_errors.NoScriptError:
            connection.send_packed_command([_resp(b"SCRIPT", b"LOAD", self.text)])
            connection.read_response()
            connection.send_packed_command([command], check_health=False)
            return connection.read_response()


def _on_connection(connections: _Connections, run, *args):
    """``run(connection, *args)`` on one of ``connections``, once more on a fresh connection
    if the first broke."""
    connection = connections.get()
    try:
        try:
            return run(connection, *args)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError):
            connection.disconnect()
            return run(connection, *args)
    except redis_errors.ResponseError:
        raise  # answered in full: the connection is fit for the next command
    except BaseException:
        # Cut off mid-answer, whatever the reason: its rest must not be read as the answer
        # to the next command on this connection.
        connection.disconnect()
        raise
    finally:
        connections.put(connection)


def _zrem(connection, key: str, member: str):
    connection.send_packed_command([_resp(b"ZREM", key, member)], check_health=False)
    return connection.read_response()


# Per cache object (Django keeps one per alias and thread): its client and scripts.
_REDIS_SCRIPTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class RedisStore:
    """Leases in a sorted set per scope and a window hash per scope, on the cache's Redis."""

    name = "redis"

    def __init__(self, alias: str = CACHE_ALIAS) -> None:
        self.cache = caches[alias]
        # A store is made per call (and per inbound webhook); building a redis-py client and
        # its scripts each time cost more CPU than the call to Redis itself.
        scripts = _REDIS_SCRIPTS.get(self.cache)
        if scripts is None:
            client = _redis_client(self.cache)
            if client is None:
                raise ImproperlyConfigured(
                    f"NETSUITE_THROTTLE_STORE is redis but the {alias!r} cache is not Redis "
                    "(CACHE_URL=redis://...)."
                )
            own = _Connections(client.connection_pool)
            scripts = (own, {}, *(_Script(own, s) for s in (_TAKE, _HELD, _COUNT)))
            _REDIS_SCRIPTS[self.cache] = scripts
        self._connections, self._keys, self._take, self._held, self._count = scripts

    def _key(self, scope: str) -> str:
        # The cache's KEY_PREFIX keeps deployments (and test runs) sharing a server apart.
        # Kept per scope (a few per subscription): checking a key character by character
        # on every call cost a third as much as the call.
        key = self._keys.get(scope)
        if key is None:
            if len(self._keys) >= 10_000:
                self._keys.clear()
            key = self._keys[scope] = self.cache.make_and_validate_key(f"throttle:{scope}")
        return key

    def take(self, scope, limit, hold_seconds, owner):
        hold = max(1, math.ceil(hold_seconds * 1000))
        answer = int(self._take([self._key(scope)], [limit, hold, owner]))
        if answer < 0:
            return owner, None
        return None, answer / 1000

    def release(self, scope, token, owner):
        return bool(_on_connection(self._connections, _zrem, self._key(scope), owner))

    def held(self, scope, limit):
        return int(self._held([self._key(scope)]))

    def count(self, scope, limit, per_seconds, units=1):
        per = max(1, math.ceil(per_seconds * 1000))
        answer = int(self._count([self._key(f"rate:{scope}")], [limit, per, units]))
        return None if answer < 0 else answer / 1000


# --- database ----------------------------------------------------------------------------


class DatabaseStore:
    """Rows of ``ThrottleLease`` and ``ThrottleWindow``, on SQLite and PostgreSQL alike.

    Every change is one statement whose WHERE clause is the check (a free or expired slot, a
    window not yet full), so two processes can never both win; PostgreSQL re-checks the
    clause on the row it waited for, SQLite runs one writer at a time. Each statement runs in
    autocommit, a transaction of its own, so a take, a release or a count is one round trip
    (a take reads the scope's leases first: two). On PostgreSQL both tables are UNLOGGED
    (migration 0023): a lease needs no durability (after a crash of the database every
    holder's call has failed anyway), so their commits never wait for the disk. The
    statements are plain SQL because they run on every NetSuite call, where building them
    with the ORM cost more than the database's answer. Times are this machine's clock: the
    machines of one deployment are expected to keep theirs (NTP), and leases outlast a call
    by seconds.
    """

    name = "database"

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def _connection(self):
        connection = connections[self.using]
        # Inside a caller's transaction a lease would stay invisible to the other processes
        # until that transaction ended (and on SQLite the caller would be holding the write
        # lock every other process waits for). The test run's own wrapping transaction is
        # the one exception: there every caller is one process.
        if connection.in_atomic_block and any(
            not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
        ):
            logger.warning(
                "A NetSuite call is being made inside a database transaction: its concurrency "
                "slot is invisible to other processes until the transaction ends. Call "
                "NetSuite before opening the transaction."
            )
        return connection

    def _run(self, sql: str, params: list, *, rows: bool = False):
        """``sql`` with the tables' quoted names filled in (every value stays a parameter):
        its rows, or how many rows it changed."""
        connection = self._connection()
        quote = connection.ops.quote_name
        sql = sql.format(
            lease=quote(ThrottleLease._meta.db_table), window=quote(ThrottleWindow._meta.db_table)
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if rows else cursor.rowcount

    def _at(self, moment: dt.datetime):
        return connections[self.using].ops.adapt_datetimefield_value(moment)

    def take(self, scope, limit, hold_seconds, owner):
        now = timezone.now()
        # Every live lease counts, including slots above a limit lowered meanwhile.
        live = {
            slot: _aware(expires_at)
            for slot, expires_at in self._run(
                "SELECT slot, expires_at FROM {lease} WHERE scope = %s AND expires_at > %s",
                [scope, self._at(now)],
                rows=True,
            )
        }
        if len(live) >= limit:
            return None, max((min(live.values()) - now).total_seconds(), 0.0)
        free = [slot for slot in range(limit) if slot not in live]
        random.shuffle(free)  # callers racing for one free slot would all but one lose
        expires_at = self._at(now + dt.timedelta(seconds=hold_seconds))
        for slot in free[:3]:
            # Insert the slot's row, or revive it if its lease has expired: one statement.
            if self._run(
                "INSERT INTO {lease} (scope, slot, owner, expires_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (scope, slot) DO UPDATE "
                "SET owner = excluded.owner, expires_at = excluded.expires_at "
                "WHERE {lease}.expires_at <= %s",
                [scope, slot, owner, expires_at, self._at(now)],
            ):
                return slot, None
        return None, None

    def release(self, scope, token, owner):
        deleted = self._run(
            "DELETE FROM {lease} WHERE scope = %s AND slot = %s AND owner = %s",
            [scope, token, owner],
        )
        return deleted == 1

    def held(self, scope, limit):
        (count,) = self._run(
            "SELECT COUNT(*) FROM {lease} WHERE scope = %s AND expires_at > %s",
            [scope, self._at(timezone.now())],
            rows=True,
        )[0]
        return count

    def count(self, scope, limit, per_seconds, units=1):
        now = time.time()
        window = int(now // per_seconds)
        rest = (window + 1) * per_seconds - now
        if units > limit:
            return rest
        # One statement for every case: the scope's first window, a new window (only one
        # caller can move it on), or places left in the current one. The WHERE is evaluated
        # on the row as it is when this statement holds it, and SET reads the row's old
        # values, so a full window or one started by a machine whose clock is ahead changes
        # nothing and counts none.
        counted = self._run(
            "INSERT INTO {window} (scope, window_index, calls) VALUES (%s, %s, %s) "
            "ON CONFLICT (scope) DO UPDATE SET "
            "calls = CASE WHEN {window}.window_index = excluded.window_index "
            "THEN {window}.calls + excluded.calls ELSE excluded.calls END, "
            "window_index = excluded.window_index "
            "WHERE {window}.window_index < excluded.window_index "
            "OR ({window}.window_index = excluded.window_index "
            "AND {window}.calls + excluded.calls <= %s)",
            [scope, window, units, limit],
        )
        return None if counted == 1 else rest


def _aware(value) -> dt.datetime:
    """A lease's expiry as the driver reads it (SQLite: UTC text, no zone) made aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


# --- choosing a store --------------------------------------------------------------------


def store_name() -> str:
    """``NETSUITE_THROTTLE_STORE``, with ``auto`` resolved: Redis if the cache is Redis."""
    name = getattr(settings, "NETSUITE_THROTTLE_STORE", "auto") or "auto"
    if name == "auto":
        backend = settings.CACHES.get(CACHE_ALIAS, {}).get("BACKEND")
        return "redis" if backend == REDIS_BACKEND else "database"
    if name not in STORES:
        raise ImproperlyConfigured(
            f"NETSUITE_THROTTLE_STORE must be auto, {', '.join(STORES)}; it is {name!r}."
        )
    return name


def store_for(name: str | None = None) -> Store:
    name = name or store_name()
    if name == "redis":
        return RedisStore()
    if name == "database":
        return DatabaseStore()
    if name == "cache":
        return CacheStore()
    raise ImproperlyConfigured(f"Unknown throttle store {name!r}.")


# --- the limiters the netsuite transport calls -------------------------------------------


class ConcurrencyLimiter:
    """At most ``max_in_flight`` requests at once per scope, across every process.

    ``hold_seconds`` has to outlast the longest request (its deadline): a lease that expired
    while its call still ran would let one call too many in.
    """

    def __init__(
        self,
        scope: str,
        max_in_flight: int,
        *,
        hold_seconds: float,
        wait_seconds: float,
        store: Store | None = None,
    ) -> None:
        self.scope = scope
        self.max_in_flight = max(1, int(max_in_flight))
        self.hold_seconds = max(1, math.ceil(hold_seconds))
        self.wait_seconds = wait_seconds
        self.store = store or store_for()

    def __repr__(self) -> str:
        return f"ConcurrencyLimiter({self.scope!r}, {self.max_in_flight}, {self.store.name})"

    def in_flight(self) -> int:
        return self.store.held(self.scope, self.max_in_flight)

    def take(self, owner: str) -> object:
        """A slot's token, waiting up to ``wait_seconds``; :class:`LocalWaitError` if none."""
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.002
        releases = _releases(self.scope)
        while True:
            seen = releases.seen()
            token, expiry = self.store.take(
                self.scope, self.max_in_flight, self.hold_seconds, owner
            )
            if token is not None:
                releases.took()
                return token
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LocalWaitError(
                    f"All {self.max_in_flight} connection slots for this NetSuite account stayed "
                    f"busy for {self.wait_seconds:g} seconds.",
                    code="LOCAL_CONCURRENCY_WAIT",
                    hint="Other work on this account (tests, webhook changes, jobs) holds every "
                    "slot of its Concurrent Connections setting. Try again in a moment, or raise "
                    "Concurrent Connections if NetSuite's governance allows more.",
                )
            # A slot is usually given back long before its lease ends, so look again soon;
            # the lease's end is only an upper bound.
            sleep = pause * random.uniform(0.5, 1.5)
            if expiry is not None:
                sleep = min(sleep, max(expiry, 0.001))
            # A slot given back by this process ends the wait at once; one given back
            # elsewhere is seen at the next look.
            releases.wait(seen, min(sleep, remaining))
            pause = min(pause * 2, MAX_PAUSE)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        owner = new_owner()
        token = self.take(owner)
        try:
            yield
        finally:
            try:
                # Only a slot that is still ours: it may have expired and been retaken.
                self.store.release(self.scope, token, owner)
            finally:
                # Counted as given back here even when the store could not be told: its
                # lease ends on its own.
                _releases(self.scope).signal()


class _Releases:
    """Slots of one scope given back in this process, counted, so that a thread of this
    process waiting for one wakes as soon as one is given back instead of at its next look:
    a job keeps more page threads than slots, and the one waiting starts its call while the
    one whose call ended reads the answer (at a real page time, that reading had delayed
    each slot's next call by 10-40 ms a round)."""

    def __init__(self) -> None:
        self._given = 0
        self._held = 0
        self._changed = threading.Condition()

    def seen(self) -> int:
        return self._given

    def wait(self, seen: int, timeout: float) -> None:
        """Until a slot is given back after ``seen``, or ``timeout`` seconds."""
        with self._changed:
            if self._given == seen:
                self._changed.wait(timeout)

    def took(self) -> None:
        with self._changed:
            self._held += 1
            self._changed.notify_all()

    def signal(self) -> None:
        with self._changed:
            self._given += 1
            self._held -= 1
            self._changed.notify_all()

    def wait_held(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._held >= count, timeout)


def wait_until_busy(scope: str, slots: int, timeout: float) -> bool:
    """Wait until this process holds ``slots`` slots of ``scope`` (each of its calls has
    started), at most ``timeout`` seconds; whether it does. For a thread whose own work can
    wait, so that the interpreter goes to the threads about to call first."""
    return _releases(scope).wait_held(slots, timeout)


_RELEASES: dict[str, _Releases] = {}
_RELEASES_LOCK = threading.Lock()


def _releases(scope: str) -> _Releases:
    # One per scope this process takes slots of: a NetSuite account's, or a subscription's
    # webhook-write turn. A few bytes each, kept for the process's life.
    found = _RELEASES.get(scope)
    if found is None:
        with _RELEASES_LOCK:
            found = _RELEASES.setdefault(scope, _Releases())
    return found


class RateLimiter:
    """At most ``calls`` request starts per ``per_seconds`` window, across every process.

    A fixed window: simple, one atomic step per call in every store, and never more than
    ``calls`` per window (a burst may straddle two windows, which NetSuite's own limits
    tolerate).
    """

    def __init__(
        self,
        scope: str,
        calls: int,
        per_seconds: float,
        *,
        wait_seconds: float,
        store: Store | None = None,
    ) -> None:
        self.scope = scope
        self.calls = max(1, int(calls))
        self.per_seconds = max(1.0, float(per_seconds))
        self.wait_seconds = wait_seconds
        self.store = store or store_for()

    def __repr__(self) -> str:
        return (
            f"RateLimiter({self.scope!r}, {self.calls}/{self.per_seconds:g}s, {self.store.name})"
        )

    def try_take(self, units: int = 1) -> float | None:
        """Count ``units`` calls if the window has room for all of them (``None``); else the
        seconds until it may, having counted none. ``units`` above ``calls`` never fit: the
        caller refuses such a batch itself."""
        if not 1 <= units <= self.calls:
            raise ValueError(f"{units} units never fit a window of {self.calls}.")
        for _ in range(5):
            pause = self.store.count(self.scope, self.calls, self.per_seconds, units)
            if pause is None or pause > 0:
                return pause
        return 0.01  # lost every race: ask again in a moment

    def wait(self) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while (pause := self.try_take()) is not None:
            if time.monotonic() + pause > deadline:
                raise LocalWaitError(
                    f"This subscription's API throttle ({self.calls} calls per "
                    f"{self.per_seconds:g} seconds) is used up for the next {pause:.0f} seconds.",
                    code="LOCAL_API_THROTTLE",
                    hint="Wait a moment and try again, or raise the subscription's API "
                    "Throttle Limit if NetSuite allows more calls.",
                )
            time.sleep(pause + random.uniform(0, 0.05))
