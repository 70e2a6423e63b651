"""Django-backed pieces the plain ``netsuite`` client is given: token cache, limiters, client.

Everything here lives in Django's cache framework so that every process (and, with a shared
cache backend such as Redis or the database cache, every machine) of a deployment shares one
token per credential set, one concurrency cap per NetSuite account and one API throttle per
subscription.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import random
import time
import uuid
from collections.abc import Iterator

import requests
from django.conf import settings
from django.core.cache import caches

from netsuite.accounts import normalize_account_id
from netsuite.auth import Credentials
from netsuite.client import NetSuiteClient
from netsuite.errors import ConcurrencyLimitError, NetSuiteError
from netsuite.transport import RetryPolicy

from . import fields
from .models import Subscription
from .models_netsuite import Certificate

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"


class LocalWaitError(ConcurrencyLimitError):
    """This dashboard held the call back (its own cap or throttle); NetSuite saw nothing."""


class DjangoTokenCache:
    """:class:`netsuite.auth.TokenCache` on the cache framework.

    The token is stored encrypted with the field keys: a shared cache is not a secret store,
    and a bearer token is as good as the private key for an hour.
    """

    def __init__(self, alias: str = CACHE_ALIAS) -> None:
        self.cache = caches[alias]

    def get(self, key: str) -> tuple[str, float] | None:
        item = self.cache.get(key)
        if not isinstance(item, tuple) or len(item) != 2:
            return None
        stored, expires_at = item
        if expires_at <= time.time():
            return None
        try:
            return fields.decrypt(stored), float(expires_at)
        except fields.DecryptionError:
            # Encrypted under a key since removed: act as if there were no token.
            return None

    def set(self, key: str, token: str, expires_at: float) -> None:
        timeout = max(1, math.ceil(expires_at - time.time()))
        self.cache.set(key, (fields.encrypt(token), float(expires_at)), timeout)

    def delete(self, key: str) -> None:
        self.cache.delete(key)


class CacheConcurrencyLimiter:
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
        self.scope = scope
        self.max_in_flight = max(1, int(max_in_flight))
        self.hold_seconds = max(1, math.ceil(hold_seconds))
        self.wait_seconds = wait_seconds
        self.cache = caches[alias]

    def __repr__(self) -> str:
        return f"CacheConcurrencyLimiter({self.scope!r}, {self.max_in_flight})"

    def _try_take(self, owner: str) -> str | None:
        # A random starting slot spreads the cache keys people contend on.
        first = random.randrange(self.max_in_flight)
        for offset in range(self.max_in_flight):
            key = f"{self.scope}:{(first + offset) % self.max_in_flight}"
            if self.cache.add(key, owner, self.hold_seconds):
                return key
        return None

    def in_flight(self) -> int:
        keys = [f"{self.scope}:{i}" for i in range(self.max_in_flight)]
        return len(self.cache.get_many(keys))

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        owner = uuid.uuid4().hex
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
            # Only release a slot that is still ours (it may have expired and been retaken).
            if self.cache.get(key) == owner:
                self.cache.delete(key)


class CacheRateLimiter:
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
        self.scope = scope
        self.calls = max(1, int(calls))
        self.per_seconds = max(1.0, float(per_seconds))
        self.wait_seconds = wait_seconds
        self.cache = caches[alias]

    def __repr__(self) -> str:
        return f"CacheRateLimiter({self.scope!r}, {self.calls}/{self.per_seconds:g}s)"

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


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.NETSUITE_RETRY_MAX_ATTEMPTS,
        base_delay=settings.NETSUITE_RETRY_BASE_DELAY,
        max_total=settings.NETSUITE_RETRY_MAX_TOTAL,
    )


def timeouts() -> tuple[float, float]:
    return (settings.NETSUITE_TIMEOUT_CONNECT, settings.NETSUITE_TIMEOUT_READ)


def active_certificate(subscription: Subscription) -> Certificate | None:
    return subscription.certificates.filter(status=Certificate.Status.ACTIVE).first()


def credentials_for(subscription: Subscription) -> Credentials:
    """The subscription's own credentials (its key, its Certificate ID).

    The certificate goes along when the active Certificate row belongs to the stored key, so
    the client refuses an expired or mismatched one before calling NetSuite. A key typed into
    the form without a certificate uploaded here goes without one.
    """
    cert = active_certificate(subscription)
    certificate_pem = None
    if cert is not None and cert.public_key_fingerprint == subscription.private_key_fingerprint:
        certificate_pem = cert.certificate_pem
    return Credentials(
        account_id=subscription.account_id,
        consumer_id=subscription.consumer_id,
        certificate_id=subscription.certificate_id,
        private_key_pem=subscription.private_key,
        certificate_pem=certificate_pem,
    )


def credentials_for_staged(certificate: Certificate) -> Credentials:
    subscription = certificate.subscription
    return Credentials(
        account_id=subscription.account_id,
        consumer_id=subscription.consumer_id,
        certificate_id=certificate.certificate_id,
        private_key_pem=certificate.private_key,
        certificate_pem=certificate.certificate_pem,
    )


def account_scope(account_id: str, base_url: str | None) -> str:
    """One concurrency pool per NetSuite account (and per simulator, which is another one)."""
    raw = f"{base_url or ''}|{normalize_account_id(account_id)}"
    return "netsuite-slot:" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def client_for(
    subscription: Subscription, *, credentials: Credentials | None = None
) -> NetSuiteClient:
    """A client for the subscription, wired to the shared cache, caps and settings.

    Raises :class:`netsuite.errors.ConfigurationError` for an unusable account ID or missing
    settings, :class:`subscriptions.fields.DecryptionError` for an unreadable stored key.
    """
    credentials = credentials or credentials_for(subscription)
    base_url = settings.NETSUITE_BASE_URL
    connect, read = timeouts()
    limiter = CacheConcurrencyLimiter(
        account_scope(credentials.account_id, base_url),
        subscription.concurrent_connections,
        hold_seconds=connect + read + 5,
        wait_seconds=settings.NETSUITE_SLOT_WAIT,
    )
    rate_limiter = CacheRateLimiter(
        f"netsuite-rate:{subscription.pk}",
        subscription.api_throttle_limit,
        subscription.api_throttle_seconds,
        wait_seconds=settings.NETSUITE_THROTTLE_WAIT,
    )
    return NetSuiteClient(
        credentials,
        base_url=base_url,
        token_cache=DjangoTokenCache(),
        limiter=limiter,
        rate_limiter=rate_limiter,
        retry=retry_policy(),
        timeout=(connect, read),
        user_agent="ipaas-admin",
    )


# What a remote action may raise besides a programming error: every one becomes a message.
REMOTE_ERRORS = (NetSuiteError, requests.RequestException, fields.DecryptionError, ValueError)


def error_info(exc: BaseException) -> dict:
    """A JSON-friendly description of a failure for pages, history and the audit trail.

    Never the exception's arguments wholesale: only NetSuite's code and (already redacted)
    detail, the status and the hint.
    """
    if isinstance(exc, NetSuiteError):
        return {
            "message": exc.message,
            "code": exc.code or "",
            "detail": exc.detail or "",
            "status": exc.status,
            "hint": exc.hint or "",
        }
    if isinstance(exc, fields.DecryptionError):
        return {
            "message": "The stored private key cannot be decrypted.",
            "code": "DECRYPTION_FAILED",
            "detail": "",
            "status": None,
            "hint": str(exc),
        }
    if isinstance(exc, requests.RequestException):
        return {
            "message": f"The request to NetSuite failed ({type(exc).__name__}).",
            "code": "",
            "detail": "",
            "status": None,
            "hint": "Check that this server can reach NetSuite (or the simulator) and try again.",
        }
    return {
        "message": "NetSuite's answer could not be used.",
        "code": type(exc).__name__,
        "detail": "",
        "status": None,
        "hint": "Try again; if it keeps failing, check the iPaaS bundle version in NetSuite.",
    }


def error_text(info: dict) -> str:
    """One line for Django's messages framework (pages without JavaScript)."""
    meta = ", ".join(
        p for p in (f"HTTP {info['status']}" if info.get("status") else "", info.get("code")) if p
    )
    text = info["message"]
    if meta:
        text += f" [{meta}]"
    if info.get("detail"):
        text += f" NetSuite said: {info['detail']}"
    if info.get("hint"):
        text += f" What to do: {info['hint']}"
    return text


def audit_answer(info: dict | None) -> dict:
    """The remote answer as recorded in the audit trail: status and code, never a secret."""
    if info is None:
        return {"NetSuite answer": [None, "OK"]}
    answer = {"NetSuite answer": [None, info["message"]]}
    if info.get("status"):
        answer["HTTP status"] = [None, info["status"]]
    if info.get("code"):
        answer["NetSuite code"] = [None, info["code"]]
    return answer
