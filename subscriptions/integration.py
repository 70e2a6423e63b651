"""How the Django side builds a ``netsuite`` client: credentials, token cache, caps, settings.

The plain client gets everything passed in. The token cache lives in Django's cache framework
so that every process (and, with a shared cache backend such as Redis or the database cache,
every machine) of a deployment shares one token per credential set; the caps come from
``throttling``, in the store every process shares (Redis or the database).
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches

from netsuite.accounts import normalize_account_id
from netsuite.auth import Credentials
from netsuite.client import NetSuiteClient
from netsuite.transport import RetryPolicy, default_deadline

from . import compiled, fields, metrics
from .models import Certificate, Subscription
from .selectors.certificates import active_certificate
from .throttling import CACHE_ALIAS, ConcurrencyLimiter, RateLimiter, store_for


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


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.NETSUITE_RETRY_MAX_ATTEMPTS,
        base_delay=settings.NETSUITE_RETRY_BASE_DELAY,
        max_total=settings.NETSUITE_RETRY_MAX_TOTAL,
    )


def timeouts() -> tuple[float, float]:
    return (settings.NETSUITE_TIMEOUT_CONNECT, settings.NETSUITE_TIMEOUT_READ)


def credentials_for(subscription: Subscription) -> Credentials:
    """The subscription's own credentials (its key, its Certificate ID).

    The certificate goes along when the active Certificate row belongs to the stored key, so
    the client refuses an expired or mismatched one before calling NetSuite. A key typed into
    the form without a certificate uploaded here goes without one.
    """
    if hasattr(subscription, "sealed_private_key"):  # read with ``with_credentials()``
        sealed = subscription.sealed_private_key
        return _credentials(
            subscription,
            subscription.certificate_id,
            fields.decrypt(sealed) if sealed else sealed,
            subscription.active_certificate_pem or None,
        )
    cert = active_certificate(subscription)
    certificate_pem = None
    if cert is not None and cert.public_key_fingerprint == subscription.private_key_fingerprint:
        certificate_pem = cert.certificate_pem
    return _credentials(
        subscription, subscription.certificate_id, subscription.private_key, certificate_pem
    )


def _with_credentials(pk: int):
    return Subscription.objects.with_credentials().filter(pk=pk)


def subscription_with_credentials(pk: int) -> Subscription:
    """The subscription (its secrets left unread) with what :func:`credentials_for` needs, in
    one query compiled once (``compiled``): a connection test's first read."""
    return compiled.instance(_with_credentials, pk)


def credentials_for_staged(certificate: Certificate) -> Credentials:
    """The staged pair's credentials: its key, its Certificate ID, its certificate."""
    return _credentials(
        certificate.subscription,
        certificate.certificate_id,
        certificate.private_key,
        certificate.certificate_pem,
    )


def _credentials(
    subscription: Subscription, certificate_id: str, key_pem: str, certificate_pem: str | None
) -> Credentials:
    return Credentials(
        account_id=subscription.account_id,
        consumer_id=subscription.consumer_id,
        certificate_id=certificate_id,
        private_key_pem=key_pem,
        certificate_pem=certificate_pem,
        # Every stored key passed the full check when it was stored (services.subscriptions,
        # services.certificates); loading it again skips the slow RSA consistency check.
        key_validated=True,
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
    deadline = default_deadline((connect, read))
    # One store for both caps, the one every process of the deployment shares
    # (NETSUITE_THROTTLE_STORE): web actions and jobs count against the same leases.
    store = store_for()
    limiter = ConcurrencyLimiter(
        account_scope(credentials.account_id, base_url),
        subscription.concurrent_connections,
        # A slot expires on its own only after the longest a call may take (its deadline):
        # sooner, and a slow call would run on after its slot was given to another.
        hold_seconds=deadline + 5,
        wait_seconds=settings.NETSUITE_SLOT_WAIT,
        store=store,
    )
    rate_limiter = RateLimiter(
        f"netsuite-rate:{subscription.pk}",
        subscription.api_throttle_limit,
        subscription.api_throttle_seconds,
        wait_seconds=settings.NETSUITE_THROTTLE_WAIT,
        store=store,
    )
    return NetSuiteClient(
        credentials,
        base_url=base_url,
        token_cache=DjangoTokenCache(),
        # Metrics (subscriptions/metrics.py): the slots this subscription holds, and each call.
        limiter=metrics.counted_slots(limiter, subscription.pk),
        rate_limiter=rate_limiter,
        retry=retry_policy(),
        timeout=(connect, read),
        deadline=deadline,
        user_agent="ipaas-admin",
        observer=metrics.netsuite_observer(subscription.pk),
    )
