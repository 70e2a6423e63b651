"""Personal API tokens: made by a person for themselves, shown once, revoked, checked at each
request of the API.

A token is 256 random bits; only its SHA-256 and its first characters are stored, so the
database cannot give a working token back, and the person keeps the only copy from the
moment it is shown. Making and revoking a token are audited; using one is not (a request of
the API that changes something is audited by the service it calls, with "via api token
<prefix>"), but the token remembers when it was last used, written at most once a minute so
a busy automation does not turn every read into a write.

The check (:func:`api_token_authenticate`) says exactly why a token is refused (missing,
unknown, expired, revoked, its person deactivated), because the caller is a script whose
author reads the message; it never says whose a refused token is.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import audit
from ..actors import ActorLike
from ..models import API_TOKEN_DAYS_LIMITS, API_TOKEN_PREFIX_LENGTH, ApiToken
from ..selectors.api_tokens import api_token_by_secret, api_token_digest
from ..throttling import RateLimiter
from .errors import InvalidInput, NotAllowed, ServiceError

NAME_MAX_LENGTH = 100
# "Last used" is written when the stored value is older than this.
LAST_USED_EVERY = dt.timedelta(minutes=1)
TOKENS_PAGE = "/account/api-tokens/"


class ApiTokenRefused(ServiceError):
    """A request's token that does not let it in: 401, with ``code`` saying which case."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class ApiTokenThrottled(ServiceError):
    """The token used up its requests for this window: 429, ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _check(*, name: str, days) -> tuple[str, int]:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the token a name that says what uses it (e.g. “SIEM pull”)."
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = f"A token's name is at most {NAME_MAX_LENGTH} characters."
    low, high = API_TOKEN_DAYS_LIMITS
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = None
    if days is None or not low <= days <= high:
        errors["days"] = f"A token expires after {low} to {high} days; choose a number in between."
    if errors:
        raise InvalidInput(errors)
    return name, days


def api_token_create(
    *, user, name: str, days: int, read_only: bool, actor: ActorLike
) -> tuple[ApiToken, str]:
    """A new token of ``user``, made by ``user`` themselves; returns it with its secret, the
    only time the secret exists outside the caller's hands."""
    if getattr(actor, "pk", None) != user.pk:
        raise NotAllowed("A person makes API tokens for themselves only.")
    name, days = _check(name=name, days=days)
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:API_TOKEN_PREFIX_LENGTH],
            token_hash=api_token_digest(secret),
            read_only=bool(read_only),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        audit.record(
            actor=actor,
            action="api_token.created",
            target_type="api_token",
            target_id=str(token.pk),
            target_repr=f"{user.get_username()}: {token}",
            changes={
                "name": [None, name],
                "prefix": [None, token.prefix],
                "expires": [None, token.expires_at.date().isoformat()],
                "read_only": [None, token.read_only],
            },
        )
    return token, secret


def api_token_revoke(*, token: ApiToken, actor: ActorLike) -> ApiToken:
    """Revoke ``token`` (its owner only); revoking a revoked token changes nothing."""
    if getattr(actor, "pk", None) != token.user_id:
        raise NotAllowed("Only the person a token belongs to revokes it.")
    with transaction.atomic():
        now = timezone.now()
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        token.refresh_from_db()
        if changed:
            audit.record(
                actor=actor,
                action="api_token.revoked",
                target_type="api_token",
                target_id=str(token.pk),
                target_repr=f"{token.user.get_username()}: {token}",
                changes={"revoked": [None, now.isoformat(timespec="seconds")]},
            )
    return token


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def api_token_authenticate(*, secret: str | None) -> ApiToken:
    """The usable token ``secret`` is, with its person, and its "last used" brought up to
    date; else :class:`ApiTokenRefused` saying why."""
    if not secret:
        raise ApiTokenRefused(
            "No API token: send one as “Authorization: Bearer <token>”. Make one on your "
            f"API tokens page ({TOKENS_PAGE}).",
            code="TOKEN_MISSING",
        )
    token = api_token_by_secret(secret)
    if token is None:
        raise ApiTokenRefused(
            "This API token is not known: check that it was copied whole, or make a new one "
            f"on your API tokens page ({TOKENS_PAGE}).",
            code="TOKEN_UNKNOWN",
        )
    if token.revoked_at is not None:
        raise ApiTokenRefused(
            f"This API token ({token.prefix}…) was revoked on {_when(token.revoked_at)}; "
            f"make a new one on your API tokens page ({TOKENS_PAGE}).",
            code="TOKEN_REVOKED",
        )
    if token.is_expired:
        raise ApiTokenRefused(
            f"This API token ({token.prefix}…) expired on {_when(token.expires_at)}; make a "
            f"new one on your API tokens page ({TOKENS_PAGE}).",
            code="TOKEN_EXPIRED",
        )
    if not token.user.is_active:
        raise ApiTokenRefused(
            f"The person this API token ({token.prefix}…) belongs to is deactivated; an "
            "administrator can activate them again on the People page.",
            code="TOKEN_OWNER_INACTIVE",
        )
    api_token_mark_used(token=token)
    return token


def api_token_mark_used(*, token: ApiToken) -> None:
    """Bring "last used" up to date, at most one write a minute per token (one conditional
    UPDATE: concurrent requests of one token write it once)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    updated = ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY), pk=token.pk
    ).update(last_used_at=now)
    if updated:
        token.last_used_at = now


def api_token_rate() -> tuple[int, int]:
    """``API_TOKEN_RATE`` ("120/60": requests per seconds) as numbers."""
    text = str(getattr(settings, "API_TOKEN_RATE", "120/60"))
    try:
        calls, seconds = (int(part) for part in text.split("/"))
    except ValueError:
        raise ImproperlyConfigured(
            f"API_TOKEN_RATE must be <requests>/<seconds>, e.g. 120/60; it is {text!r}."
        ) from None
    if calls < 1 or seconds < 1:
        raise ImproperlyConfigured(f"API_TOKEN_RATE must be positive numbers; it is {text!r}.")
    return calls, seconds


def api_token_throttle(*, token: ApiToken) -> None:
    """Count one request of ``token``; :class:`ApiTokenThrottled` when its window is full.

    Never waits: the caller retries after ``Retry-After``. The window lives in the throttle
    store every process shares (``throttling.store_for``)."""
    calls, seconds = api_token_rate()
    limiter = RateLimiter(f"api-token:{token.pk}", calls, seconds, wait_seconds=0)
    pause = limiter.try_take()
    if pause is not None:
        retry_after = max(1, math.ceil(pause))
        raise ApiTokenThrottled(
            f"This API token made more than {calls} requests in {seconds} seconds; retry in "
            f"{retry_after} seconds.",
            retry_after=retry_after,
        )
