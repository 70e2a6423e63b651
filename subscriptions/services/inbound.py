"""Inbound webhooks: check the key, hold back a sender over its rate, store each event once.

The endpoint (``views/inbound.py``) calls these in this order, and reads the body only after
:func:`inbound_authenticate` said yes. Nothing here talks to NetSuite.

Throttling counts notifications, not requests: API Throttle Limit (to iPaaS) is how many
changes a sender may hand over per API Throttle Seconds, and one request could otherwise carry
a thousand. So the body is read and parsed before the count (both bounded: 1 MB and
``MAX_NOTIFICATIONS``), and its N notifications are taken from the window at once or not at
all (429 with Retry-After, nothing counted). A refused body costs one, so a sender with the
key cannot make the server parse bad bodies without limit; a body of more notifications than
the whole limit could never pass and is refused as too large (413) instead of "retry later".

Deduplication: the body carries no identity of the change, only scope and external ID (the
bundle's script may add one; an ``event_id`` or ``timestamp`` is used when present). Without
it, the key is the scope and external ID within a :data:`DEDUP_WINDOW_SECONDS` bucket: the
script posts from ``afterSubmit``, so a retried or repeated delivery of one save arrives within
seconds and is stored once, while a later change of the same record is a new event. Two saves
of one record in the same minute become one event, which loses nothing: an event says "read
record X again", not what changed. A duplicate straddling a bucket edge is stored twice, the
price of a key that needs no lookup before the insert.

Not audited: an event is not a change made by a person, and one audit row per delivery would
serialise every webhook on the audit chain's lock. Each row keeps its own origin instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time

from django.utils import timezone

from netsuite.inbound import (
    InvalidNotification,
    Notification,
    TooManyNotifications,
    parse_body,
)

from .. import metrics
from ..bulk_sql import insert_rows
from ..models import InboundEvent
from ..selectors.events import InboundTarget, inbound_target
from ..throttling import RateLimiter
from .errors import ServiceError

MAX_BODY_BYTES = 1024 * 1024
DEDUP_WINDOW_SECONDS = 60
# Compared against when the subscription is unknown or has no key, so that answer takes as
# long as a wrong key and says nothing about which subscriptions exist.
_NO_DIGEST = "0" * 64


# A subscription's key digest and rates, kept by each process for this long after a key
# matched: the lookup was a third of a delivery's cost. A new key works at once (a digest
# that does not match the kept one is looked up); a key replaced in another process stops
# working here within these seconds, at once in the process that replaced it
# (:func:`inbound_forget`). Only matches are kept, so a wrong key is always looked up.
TARGET_SECONDS = 2.0
_targets: dict[int, tuple[float, InboundTarget]] = {}


class InboundRefused(ServiceError):
    """A body the endpoint refuses with 400; ``message`` is the reason sent back."""


class InboundTooLarge(InboundRefused):
    """A body with more notifications than one body (or one throttle window) holds: 413."""


class InboundThrottled(ServiceError):
    """The body's notifications do not fit the sender's window now: 429, ``retry_after``
    seconds (none of them counted)."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def inbound_forget(*, subscription_id: int) -> None:
    """Drop what this process kept of the subscription (its key or its rates changed)."""
    _targets.pop(subscription_id, None)


def inbound_authenticate(*, subscription_id: int, key: str) -> InboundTarget | None:
    """The subscription when ``key`` is its Webhook API Key, else ``None`` (a 401).

    The key's SHA-256 is compared with the stored digest in constant time; the encrypted key
    itself is never loaded.
    """
    offered = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    kept = _targets.get(subscription_id)
    if kept is not None and kept[0] > time.monotonic() and key:
        if hmac.compare_digest(offered, kept[1].key_digest):
            return kept[1]
    target = inbound_target(subscription_id)
    stored = target.key_digest if target is not None and target.key_digest else _NO_DIGEST
    if not hmac.compare_digest(offered, stored) or stored == _NO_DIGEST or not key:
        return None
    _targets[subscription_id] = (time.monotonic() + TARGET_SECONDS, target)
    return target


def inbound_throttle(*, target: InboundTarget, notifications: int = 1) -> float | None:
    """Count ``notifications`` at once against API Throttle Limit (to iPaaS) per API Throttle
    Seconds (to iPaaS): ``None`` when they may pass, else the seconds until they may
    (``Retry-After``), none of them counted. At most ``target.throttle_limit``.

    Never waits: a sender held here retries later, a web worker is not kept asleep. The
    window lives in the throttle store every process shares (``throttling.store_for``).
    """
    limiter = RateLimiter(
        f"ipaas-inbound:{target.id}",
        target.throttle_limit,
        target.throttle_seconds,
        wait_seconds=0,
    )
    return limiter.try_take(notifications)


def _charge(*, target: InboundTarget, notifications: int) -> None:
    retry_after = inbound_throttle(target=target, notifications=notifications)
    if retry_after is not None:
        seconds = max(1, math.ceil(retry_after))
        raise InboundThrottled(
            f"Too many webhook notifications for this subscription's API Throttle Limit "
            f"(to iPaaS): this body's {notifications} do not fit; retry in {seconds} seconds.",
            retry_after=seconds,
        )


def inbound_parse(*, body: bytes) -> list[Notification]:
    """The notifications of a body, or :class:`InboundRefused` with the reason."""
    if not body.strip():
        raise InboundRefused("The body is empty.")
    try:
        # UTF-8 only (RFC 8259 for JSON between systems); json.loads would guess UTF-16/32.
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InboundRefused("The body is not UTF-8.") from None
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise InboundRefused(
            "The body is nested too deeply to be a list of notifications."
        ) from None
    except ValueError as exc:
        raise InboundRefused(f"The body is not JSON: {exc}.") from None
    # Only a \u escape can spell a NUL or a lone surrogate: json.loads refuses a raw control
    # character in a string, and the UTF-8 decoding above one encoded surrogate. Without
    # one, nothing needs the walk.
    reason = _unstorable(data) if "\\u" in text else None
    if reason:
        raise InboundRefused(reason)
    try:
        return parse_body(data)
    except TooManyNotifications as exc:
        raise InboundTooLarge(str(exc)) from None
    except InvalidNotification as exc:
        raise InboundRefused(str(exc)) from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _unstorable(data) -> str | None:
    """Why the decoded body cannot be stored as it came, or None.

    JSON's escapes can spell what is no text (a lone surrogate, ``\\ud800``) and what
    PostgreSQL refuses in text and jsonb (NUL, ``\\u0000``); the body is refused for it rather
    than stored changed. Walked without recursion, so a deeply nested body costs no stack.
    """
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "The body holds a NUL character (\\u0000), which cannot be stored."
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "The body holds a lone surrogate (such as \\ud800), which is not text."
    return None


def dedup_key(notification: Notification, *, bucket: int) -> str:
    """The event's identity within its subscription (see the module's docstring)."""
    when = f"id:{notification.event_id}" if notification.event_id else f"bucket:{bucket}"
    text = f"{notification.scope}\n{notification.external_id}\n{when}"
    return hashlib.sha256(text.encode()).hexdigest()


def inbound_receive(
    *,
    target: InboundTarget,
    body: bytes,
    remote_addr: str = "",
    request_id: str = "",
    user_agent: str = "",
) -> int:
    """Parse ``body``, count its notifications against the sender's throttle and store each
    once; returns how many distinct notifications it held. Stores nothing when it raises
    :class:`InboundRefused` (400), :class:`InboundTooLarge` (413) or
    :class:`InboundThrottled` (429)."""
    try:
        notifications = inbound_parse(body=body)
    except InboundRefused:
        _charge(target=target, notifications=1)
        raise
    limit = max(1, int(target.throttle_limit))  # as RateLimiter reads it
    if len(notifications) > limit:
        _charge(target=target, notifications=1)
        raise InboundTooLarge(
            f"The body holds {len(notifications)} notifications, more than this "
            f"subscription's API Throttle Limit (to iPaaS) of {limit} per "
            f"{target.throttle_seconds:g} seconds. Send at most {limit} in one body."
        )
    _charge(target=target, notifications=len(notifications))
    received_at = timezone.now()
    bucket = int(received_at.timestamp() // DEDUP_WINDOW_SECONDS)
    rows: dict[str, tuple] = {}
    for notification in notifications:
        key = dedup_key(notification, bucket=bucket)
        if key in rows:
            continue
        rows[key] = (
            target.id,
            notification.module,
            notification.event,
            notification.scope,
            notification.external_id,
            notification.event_id,
            key,
            received_at,
            InboundEvent.Source.WEBHOOK,
            remote_addr[:64],
            request_id[:32],
            user_agent[:200],
            notification.raw,
        )
    # One INSERT ... ON CONFLICT DO NOTHING for the body, built once per shape (compiling it
    # through the ORM for every delivery was a third of the endpoint's CPU time): a delivery
    # already stored (a retry, a concurrent duplicate) is skipped by the unique constraint
    # instead of failing the whole body.
    insert_rows(InboundEvent, _COLUMNS, rows.values())
    metrics.inbound_accepted(subscription_id=target.id, notifications=len(rows))
    return len(rows)


_COLUMNS = (
    "subscription_id",
    "module",
    "event",
    "scope",
    "external_id",
    "event_id",
    "dedup_key",
    "received_at",
    "source",
    "remote_addr",
    "request_id",
    "user_agent",
    "payload",
)
