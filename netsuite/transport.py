"""HTTP transport: one session, timeouts, retries with backoff, concurrency cap, rate limit.

NetSuite gives each account one concurrency pool shared by every integration (5 for a standard
account). Going over it costs a 429 (REST) or a 400 ``SSS_REQUEST_LIMIT_EXCEEDED`` (RESTlets),
with no ``Retry-After``. A good client therefore

- never has more requests in flight than its share: :class:`ConcurrencyLimiter`, supplied by
  the caller so every process and machine of a deployment can share one cap;
- respects the subscription's "N calls per S seconds": :class:`RateLimiter`, likewise;
- retries 429, ``SSS_REQUEST_LIMIT_EXCEEDED``, 5xx and connection errors with exponential
  backoff and full jitter, bounded both in attempts and in total time, and sleeps *outside* its
  concurrency slot so a waiting retry does not block others;
- never repeats a write that may already have been done (below).

Read timeouts are not retried: NetSuite may still be working on the request (and counting it
against the pool), so repeating it would only add load. An answer that breaks off midway is not
retried either, for the same reason. Network failures and unreadable answers leave as a
``NetSuiteError``, never as a ``requests`` exception.

**Writes are never doubled.** Each request is *idempotent* or not: by default every method but
POST is (GET reads; NetSuite's PATCH and PUT set the given values and DELETE removes, so doing
one twice ends as doing it once); a caller marks a POST idempotent when repeating it is
harmless: the token request (each one mints a token, nothing is stored), a SuiteQL query (a
read sent as POST) and the Webhook Manager's POST (it sets all three flags to given values). A
request that is not idempotent (a record create, a certificate upload, a revoke) is retried only
when NetSuite provably did not do it:

- the connection was never made (refused, name not resolved, connect timeout): nothing was sent;
- NetSuite answered 429 or ``SSS_REQUEST_LIMIT_EXCEEDED``: refused for concurrency, not done.

A 5xx answer is returned at once (NetSuite may have stored the record and failed afterwards),
and a connection that breaks after the request went out raises
:class:`~netsuite.errors.OutcomeUnknownError`; the caller looks whether it took effect (the
certificate upload lists NetSuite's certificates) instead of sending it again.

A read timeout bounds each wait for the next bytes, not the whole answer: a server that sends a
byte every second never trips it. Every call therefore also has a total ``deadline`` (retries
and pauses included), and an answer is read in small pieces so the deadline and the maximum
response size (``max_response_bytes``) are checked as it arrives rather than after it was all
buffered. The deadline is checked between pieces, so it can be overrun by at most one read
timeout while the server is silent.

**Observing calls.** An ``observer`` (a callable the caller passes in) gets one
:class:`CallReport` per logical call, answered or not: its kind (:func:`request_kind`, from the
URL's path: token, record, metadata, suiteql, governance, restlet, certificates), method,
last status or error, seconds, retries and throttled answers. It carries no URL, header or
body, so nothing secret or unbounded reaches it; the dashboard turns it into metrics, which
this package knows nothing of. An observer that fails is logged and the call goes on.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from .accounts import (
    CLIENTS_PATH,
    GOVERNANCE_PATH,
    METADATA_PATH,
    RECORD_PATH,
    RESTLET_PATH,
    SUITEQL_PATH,
    TOKEN_PATH,
)
from .errors import (
    RESTLET_LIMIT_CODE,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
    OutcomeUnknownError,
    ResponseTooLargeError,
    UnexpectedResponseError,
)

logger = logging.getLogger("netsuite")

DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# Small enough that a dripping answer is looked at often, large enough for few syscalls.
_READ_PIECE = 64 * 1024


def default_deadline(timeout: tuple[float, float] | float) -> float:
    """Connect, wait for the answer, and as long again to read it: generous for NetSuite's
    slowest real answers, finite for one that never ends."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return float(connect) + 2 * float(read)


@runtime_checkable
class ConcurrencyLimiter(Protocol):
    def slot(self) -> contextlib.AbstractContextManager:
        """Hold one in-flight slot for the duration of the ``with`` block (may block)."""


@runtime_checkable
class RateLimiter(Protocol):
    def wait(self) -> None:
        """Block until one more call may start."""


class LocalConcurrencyLimiter:
    """At most ``max_in_flight`` requests at once within this process."""

    def __init__(self, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1.")
        self.max_in_flight = max_in_flight
        self._semaphore = threading.BoundedSemaphore(max_in_flight)

    def __repr__(self) -> str:
        return f"LocalConcurrencyLimiter({self.max_in_flight})"

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        self._semaphore.acquire()
        try:
            yield
        finally:
            self._semaphore.release()


class LocalRateLimiter:
    """At most ``calls`` starts in any sliding window of ``per_seconds`` seconds."""

    def __init__(
        self,
        calls: int,
        per_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls < 1 or per_seconds <= 0:
            raise ValueError("calls must be at least 1 and per_seconds positive.")
        self.calls = calls
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalRateLimiter({self.calls}, {self.per_seconds})"

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.per_seconds:
                    self._starts.popleft()
                if len(self._starts) < self.calls:
                    self._starts.append(now)
                    return
                pause = self.per_seconds - (now - self._starts[0])
            self._sleep(max(pause, 0.001))


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time."""

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_total: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Pause before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return (rng or random).uniform(0, ceiling)


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


def is_idempotent_method(method: str) -> bool:
    """Whether a request of this method may be repeated when its outcome is unknown."""
    return method.upper() in IDEMPOTENT_METHODS


def never_sent(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed (refused, no such host, connect timeout), so
    not a byte of the request reached NetSuite."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    # urllib3 wraps a failed connection in MaxRetryError; a reset or a close after sending
    # arrives as a ProtocolError instead.
    cause = getattr(cause, "reason", cause)
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)


def is_throttled_response(response: requests.Response) -> bool:
    """NetSuite refused the call for concurrency: a 429, or a RESTlet's 400 with
    ``SSS_REQUEST_LIMIT_EXCEEDED``."""
    status = response.status_code
    # A RESTlet reports NetSuite's concurrency limit as a 400 with this code.
    return status == 429 or (
        status == 400 and RESTLET_LIMIT_CODE.encode() in (response.content or b"")
    )


def is_retryable_response(response: requests.Response) -> bool:
    return response.status_code >= 500 or is_throttled_response(response)


# The path of each kind of call, most specific first (the metadata catalog is under records).
_KINDS = (
    ("token", TOKEN_PATH),
    ("metadata", METADATA_PATH),
    ("record", RECORD_PATH),
    ("suiteql", SUITEQL_PATH),
    ("governance", GOVERNANCE_PATH),
    ("restlet", RESTLET_PATH),
    ("certificates", CLIENTS_PATH),
)
REQUEST_KINDS = (*(kind for kind, _ in _KINDS), "other")


def request_kind(url: str) -> str:
    """What a call to ``url`` is, by its path alone: one of :data:`REQUEST_KINDS`."""
    path = urlsplit(url).path
    for kind, prefix in _KINDS:
        if path == prefix or path.startswith(prefix + "/"):
            return kind
    return "other"


@dataclass(frozen=True)
class CallReport:
    """One logical call as an observer sees it: never its URL, headers or body."""

    kind: str  # request_kind(url)
    method: str
    status: int | None  # the last answer's HTTP status; None when none came
    error: str  # the class name of the error the call raised, "" when it returned
    seconds: float  # the whole call: every attempt and pause
    retries: int
    throttled: int  # answers refused for concurrency (is_throttled_response)


CallObserver = Callable[[CallReport], None]


@dataclass
class _Tally:
    retries: int = 0
    throttled: int = 0
    status: int | None = None


class TransportStats:
    """Counters for tests, benchmarks and the dashboard's diagnostics."""

    FIELDS = (
        "requests_sent",
        "responses",
        "retries",
        "retryable_responses",
        "connection_errors",
        "timeouts",
        "token_requests",
        "token_renewals_after_401",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.FIELDS, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def __getattr__(self, name: str) -> int:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)

    def __repr__(self) -> str:
        return f"TransportStats({self.as_dict()})"


def new_session(user_agent: str, pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    # Retries are ours (with backoff and a budget); urllib3's own would bypass them.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Where requests go is decided by AccountUrls alone: no proxy or .netrc from the
    # environment, and (below) no redirects, which would re-send a body holding the signed
    # assertion or a webhook key to whatever host a Location header names.
    session.trust_env = False
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def _describe(url: str) -> str:
    """Path only: query strings may be long and are never needed in a log line."""
    return urlsplit(url).path


class Transport:
    """Sends one logical request, retrying within the policy; the caller maps HTTP errors."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        limiter: ConcurrencyLimiter | None = None,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        user_agent: str = "ipaas-admin",
        stats: TransportStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        observer: CallObserver | None = None,
    ) -> None:
        """``deadline`` bounds a whole call in seconds (default :func:`default_deadline` of the
        timeouts); ``max_response_bytes`` refuses larger answers (default 10 MB);
        ``observer`` gets a :class:`CallReport` after each call (see the module's docstring)."""
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive.")
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be at least 1.")
        self.deadline = float(deadline) if deadline is not None else default_deadline(timeout)
        self.max_response_bytes = int(max_response_bytes)
        self.session = session or new_session(user_agent)
        self.limiter = limiter
        self.rate_limiter = rate_limiter
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.stats = stats or TransportStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.observer = observer

    def close(self) -> None:
        self.session.close()

    def _slot(self) -> contextlib.AbstractContextManager:
        return self.limiter.slot() if self.limiter is not None else contextlib.nullcontext()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Callable[[], dict[str, str]] | dict[str, str] | None = None,
        governed: bool = True,
        idempotent: bool | None = None,
        **kwargs,
    ) -> requests.Response:
        """Send with retries; returns the last response, raises only for network failures.

        ``headers`` may be a callable so each attempt carries the then-current access token.
        ``governed=False`` (the token endpoint) skips the limiters: NetSuite does not count
        token requests against the concurrency pool. ``idempotent`` (default: every method
        but POST) says whether repeating the request after a 5xx or a connection that broke
        after sending is harmless; when not, only a request that provably was not done is
        repeated (see the module's docstring).
        """
        tally = _Tally()
        if self.observer is None:
            return self._send(method, url, headers, governed, idempotent, tally, kwargs)
        started = time.monotonic()
        error = ""
        try:
            return self._send(method, url, headers, governed, idempotent, tally, kwargs)
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            self._report(
                CallReport(
                    kind=request_kind(url),
                    method=method.upper(),
                    status=tally.status,
                    error=error,
                    seconds=time.monotonic() - started,
                    retries=tally.retries,
                    throttled=tally.throttled,
                )
            )

    def _report(self, report: CallReport) -> None:
        try:
            self.observer(report)
        except Exception:
            # Watching a call must never fail it: the answer is already here.
            logger.exception("netsuite call observer failed")

    def _send(
        self,
        method: str,
        url: str,
        headers: Callable[[], dict[str, str]] | dict[str, str] | None,
        governed: bool,
        idempotent: bool | None,
        tally: _Tally,
        kwargs: dict,
    ) -> requests.Response:
        if idempotent is None:
            idempotent = is_idempotent_method(method)
        policy = self.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if governed and self.rate_limiter is not None:
                self.rate_limiter.wait()
            call_headers = headers() if callable(headers) else (headers or {})
            error: Exception | None = None
            response: requests.Response | None = None
            slot = self._slot() if governed else contextlib.nullcontext()
            with slot:
                self.stats.add("requests_sent")
                sent = time.monotonic()
                try:
                    response = self.session.request(
                        method,
                        url,
                        headers=call_headers,
                        timeout=self._attempt_timeout(started),
                        allow_redirects=False,
                        stream=True,
                        **kwargs,
                    )
                    # Read the body inside the slot: the server counts us until then.
                    self._read_body(response, started, method, url)
                except requests.exceptions.ConnectTimeout as exc:
                    error = exc
                except (requests.exceptions.Timeout, ReadTimeoutError):
                    self.stats.add("timeouts")
                    logger.warning(
                        "netsuite %s %s timed out after %.1fs",
                        method, _describe(url), time.monotonic() - sent,
                    )
                    raise NetSuiteTimeoutError(
                        f"NetSuite did not answer within {self._read_timeout():g} seconds."
                    ) from None
                except requests.exceptions.ConnectionError as exc:
                    if not idempotent and not never_sent(exc):
                        self.stats.add("connection_errors")
                        logger.warning(
                            "netsuite %s %s connection broke after sending; not repeated",
                            method, _describe(url),
                        )
                        raise OutcomeUnknownError(
                            "The connection to NetSuite broke after the request was sent, "
                            "before NetSuite answered."
                        ) from None
                    error = exc
                except (requests.exceptions.ChunkedEncodingError, ProtocolError):
                    # The answer broke off after it began: like a read timeout, NetSuite may
                    # have acted on the request, so it is not repeated.
                    self.stats.add("connection_errors")
                    logger.warning("netsuite %s %s answer broke off", method, _describe(url))
                    raise NetSuiteUnavailableError(
                        "The connection to NetSuite broke while its answer was being read."
                    ) from None
                except (requests.exceptions.ContentDecodingError, DecodeError):
                    logger.warning("netsuite %s %s answer undecodable", method, _describe(url))
                    raise UnexpectedResponseError(
                        "NetSuite's answer could not be decompressed."
                    ) from None
            elapsed = time.monotonic() - sent
            if response is not None:
                self.stats.add("responses")
                tally.status = response.status_code
                tally.throttled += is_throttled_response(response)
                logger.debug(
                    "netsuite %s %s -> %s in %.3fs (attempt %d)",
                    method, _describe(url), response.status_code, elapsed, attempt,
                )
                if not is_retryable_response(response):
                    return response
                self.stats.add("retryable_responses")
                if not idempotent and response.status_code >= 500:
                    # NetSuite may have stored it before failing: the caller looks, never us.
                    return response
            else:
                self.stats.add("connection_errors")
                logger.info(
                    "netsuite %s %s connection failed (attempt %d): %s",
                    method, _describe(url), attempt, type(error).__name__,
                )
            pause = policy.delay(attempt, self._rng)
            spent = time.monotonic() - started + pause
            out_of_time = spent > policy.max_total or spent > self.deadline
            if attempt >= policy.max_attempts or out_of_time:
                if response is not None:
                    return response
                raise NetSuiteUnavailableError(
                    "NetSuite could not be reached"
                    f" ({type(error).__name__}, {attempt} attempt{'s' if attempt > 1 else ''})."
                ) from None
            self.stats.add("retries")
            tally.retries += 1
            if response is not None:
                logger.info(
                    "netsuite %s %s -> %s, retrying in %.2fs (attempt %d of %d)",
                    method, _describe(url), response.status_code, pause, attempt,
                    policy.max_attempts,
                )
            self._sleep(pause)

    def _remaining(self, started: float) -> float:
        return self.deadline - (time.monotonic() - started)

    def _attempt_timeout(self, started: float) -> tuple[float, float]:
        """The configured timeouts, shortened so no single wait outlives the deadline."""
        connect, read = (
            self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        )
        left = self._remaining(started)
        if left <= 0:
            raise self._deadline_error()
        return (min(float(connect), left), min(float(read), left))

    def _deadline_error(self) -> NetSuiteTimeoutError:
        self.stats.add("timeouts")
        return NetSuiteTimeoutError(
            f"NetSuite's answer did not complete within the {self.deadline:g}-second deadline.",
            hint="The answer arrived too slowly (or never ended) and was cut off; NetSuite may "
            "still have acted on the request. Try again later; if it persists, check the "
            "network path (proxy) or raise the deadline.",
        )

    def _read_body(
        self, response: requests.Response, started: float, method: str, url: str
    ) -> None:
        """Read the answer piece by piece within the deadline and the size limit."""
        limit = self.max_response_bytes
        try:
            announced = int(response.headers.get("Content-Length", ""))
        except ValueError:
            announced = None
        if announced is not None and announced > limit:
            response.close()
            raise self._too_large(method, url, f"announced {announced:,} bytes")
        pieces: list[bytes] = []
        size = 0
        while True:
            if self._remaining(started) <= 0:
                response.close()
                logger.warning(
                    "netsuite %s %s cut at the %.1fs deadline after %d bytes",
                    method, _describe(url), self.deadline, size,
                )
                raise self._deadline_error()
            piece = response.raw.read1(_READ_PIECE, decode_content=True)
            if not piece:
                break
            size += len(piece)
            if size > limit:
                response.close()
                raise self._too_large(method, url, f"more than {limit:,} bytes")
            pieces.append(piece)
        # What requests itself does once a streamed body is read: .content, .text and .json()
        # then work as for an unstreamed answer, and the connection returns to the pool.
        response._content = b"".join(pieces)
        response._content_consumed = True
        response.close()

    def _too_large(self, method: str, url: str, what: str) -> ResponseTooLargeError:
        logger.warning("netsuite %s %s answer refused: %s", method, _describe(url), what)
        return ResponseTooLargeError(
            f"NetSuite's answer ({what}) exceeds the client's limit of "
            f"{self.max_response_bytes:,} bytes; it was not read."
        )

    def _read_timeout(self) -> float:
        if isinstance(self.timeout, tuple):
            return self.timeout[1]
        return float(self.timeout)
