"""The dashboard's own caps on calls to NetSuite, shared by every process of a deployment.

Concurrent Connections caps the requests in flight per NetSuite account; API Throttle Limit
per API Throttle Seconds caps the rate per subscription. Both live in Django's cache
framework, so they are shared across processes (and machines) exactly as far as the cache
backend is: with Redis, by the whole deployment. A slot is given back atomically (a Lua
compare-and-delete on Redis; under a process-wide lock with the local-memory cache, which is
only shared by one process's threads anyway).
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
import threading
import time
from collections.abc import Iterator

from django.core.cache import caches

from netsuite.errors import ConcurrencyLimitError

CACHE_ALIAS = "default"


class LocalWaitError(ConcurrencyLimitError):
    """This dashboard held the call back (its own cap or throttle); NetSuite saw nothing."""


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


class _CacheLimiter:
    """What both limiters share: a key scope, how long a caller may wait, the cache."""

    def __init__(self, scope: str, *, wait_seconds: float, alias: str = CACHE_ALIAS) -> None:
        self.scope = scope
        self.wait_seconds = wait_seconds
        self.cache = caches[alias]


class CacheConcurrencyLimiter(_CacheLimiter):
    """At most ``max_in_flight`` requests at once per scope, across every process.

    Each slot is one cache key taken with ``cache.add`` (atomic in every backend). A slot
    expires on its own after ``hold_seconds``, so a process killed mid-request cannot keep it
    forever; ``hold_seconds`` therefore has to outlast the longest request (the timeouts).
    """

    def __init__(
        self,
        scope: str,
        max_in_flight: int,
        *,
        hold_seconds: float,
        wait_seconds: float,
        alias: str = CACHE_ALIAS,
    ) -> None:
        super().__init__(scope, wait_seconds=wait_seconds, alias=alias)
        self.max_in_flight = max(1, int(max_in_flight))
        self.hold_seconds = max(1, math.ceil(hold_seconds))
        self._redis = _redis_client(self.cache)

    def __repr__(self) -> str:
        return f"CacheConcurrencyLimiter({self.scope!r}, {self.max_in_flight})"

    def _try_take(self, owner: int) -> str | None:
        # A random starting slot spreads the cache keys people contend on.
        first = random.randrange(self.max_in_flight)
        with self._guard():
            for offset in range(self.max_in_flight):
                key = f"{self.scope}:{(first + offset) % self.max_in_flight}"
                if self.cache.add(key, owner, self.hold_seconds):
                    return key
        return None

    def _guard(self):
        return contextlib.nullcontext() if self._redis is not None else _LOCAL

    def _release(self, key: str, owner: int) -> bool:
        """Delete the slot if it still holds ``owner``; whether it did."""
        if self._redis is not None:
            # Django's Redis backend stores an int as its plain decimal form, not pickled,
            # so the script can compare it.
            name = self.cache.make_and_validate_key(key)
            return bool(self._redis.eval(_RELEASE_IF_OWNER, 1, name, str(owner)))
        with _LOCAL:
            if self.cache.get(key) == owner:
                self.cache.delete(key)
                return True
        return False

    def in_flight(self) -> int:
        keys = [f"{self.scope}:{i}" for i in range(self.max_in_flight)]
        return len(self.cache.get_many(keys))

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        owner = secrets.randbits(62) + 1
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.005
        while (key := self._try_take(owner)) is None:
            if time.monotonic() + pause > deadline:
                raise LocalWaitError(
                    f"All {self.max_in_flight} connection slots for this NetSuite account stayed "
                    f"busy for {self.wait_seconds:g} seconds.",
                    code="LOCAL_CONCURRENCY_WAIT",
                    hint="Other work on this account (tests, webhook changes, jobs) holds every "
                    "slot of its Concurrent Connections setting. Try again in a moment, or raise "
                    "Concurrent Connections if NetSuite's governance allows more.",
                )
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            # Only a slot that is still ours: it may have expired and been retaken.
            self._release(key, owner)


class CacheRateLimiter(_CacheLimiter):
    """At most ``calls`` request starts per ``per_seconds`` window, across every process.

    A fixed window counted with ``cache.incr``: simple, shared, and never more than ``calls``
    per window (a burst may straddle two windows, which NetSuite's own limits tolerate).
    """

    def __init__(
        self,
        scope: str,
        calls: int,
        per_seconds: float,
        *,
        wait_seconds: float,
        alias: str = CACHE_ALIAS,
    ) -> None:
        super().__init__(scope, wait_seconds=wait_seconds, alias=alias)
        self.calls = max(1, int(calls))
        self.per_seconds = max(1.0, float(per_seconds))

    def __repr__(self) -> str:
        return f"CacheRateLimiter({self.scope!r}, {self.calls}/{self.per_seconds:g}s)"

    def try_take(self) -> float | None:
        """Count one call if the window has room (``None``); else the seconds until it has."""
        while True:
            now = time.time()
            window = int(now // self.per_seconds)
            key = f"{self.scope}:{window}"
            self.cache.add(key, 0, math.ceil(self.per_seconds) + 1)
            try:
                count = self.cache.incr(key)
            except ValueError:
                continue  # the window's key expired between add and incr
            if count <= self.calls:
                return None
            return (window + 1) * self.per_seconds - now

    def wait(self) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            now = time.time()
            window = int(now // self.per_seconds)
            key = f"{self.scope}:{window}"
            self.cache.add(key, 0, math.ceil(self.per_seconds) + 1)
            try:
                count = self.cache.incr(key)
            except ValueError:
                continue  # the window's key expired between add and incr
            if count <= self.calls:
                return
            pause = (window + 1) * self.per_seconds - now
            if time.monotonic() + pause > deadline:
                raise LocalWaitError(
                    f"This subscription's API throttle ({self.calls} calls per "
                    f"{self.per_seconds:g} seconds) is used up for the next {pause:.0f} seconds.",
                    code="LOCAL_API_THROTTLE",
                    hint="Wait a moment and try again, or raise the subscription's API "
                    "Throttle Limit if NetSuite allows more calls.",
                )
            time.sleep(pause + random.uniform(0, 0.05))


