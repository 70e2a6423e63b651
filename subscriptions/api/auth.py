"""Authenticate first, in one place: the token, its rate, the person's role, read-only.

Every operation behind a token names the permission it needs and whether it writes
(``TokenAuth("toggle_webhooks", write=True)``); ninja runs this before it reads a byte of the
body, so a refused caller learns nothing of the input's checks. The permission is asked of
the token's person at each request through ``permissions.has_perm``, so a role taken away or
a person deactivated takes the token's rights with it at once. No session and no CSRF: the
bearer token is the only way in, and a session cookie sent along counts for nothing.

From here on the request's context says ``via="api token <prefix>"``, which ``audit.record``
writes into every event the request causes (the actor stays the person).
"""

from __future__ import annotations

from dataclasses import replace

from ninja.security import HttpBearer

from ..middleware import current
from ..permissions import PERMISSIONS, has_perm, user_role
from ..services.api_tokens import ApiTokenRefused, api_token_authenticate, api_token_throttle
from .errors import ApiError

# What each permission lets a person do, for the 403 message.
DOING = {
    "view_subscription": "see subscriptions",
    "toggle_webhooks": "switch webhooks",
    "run_connection_test": "run connection tests",
    "start_jobs": "start jobs",
    "view_jobs": "see jobs, records and inventory",
    "view_inbound_events": "see inbound events",
    "view_auditevent": "read the audit trail",
}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; ``perm`` is the permission the operation needs."""

    def __init__(self, perm: str, *, write: bool = False) -> None:
        super().__init__()
        self.perm = perm
        self.write = write

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if header and scheme.lower() != "bearer":
            raise ApiTokenRefused(
                "The Authorization header must be “Bearer <token>”.", code="TOKEN_MISSING"
            )
        token = api_token_authenticate(secret=secret.strip() or None)
        current.set(replace(current.get(), via=token.via))
        api_token_throttle(token=token)
        user = token.user
        request.user = user
        if not has_perm(user, self.perm):
            role = user_role(user) or "no role"
            raise ApiError(
                403,
                f"Your role ({role}) may not {DOING.get(self.perm, self.perm)}; an "
                "administrator can change your role on the People page.",
                "PERMISSION_DENIED",
            )
        if self.write and token.read_only:
            raise ApiError(
                403,
                f"This API token ({token.prefix}…) is read-only; make a token without "
                "“Read-only” to change anything.",
                "TOKEN_READ_ONLY",
            )
        return token

    def authenticate(self, request, token):  # pragma: no cover - __call__ does it all
        raise NotImplementedError


def token(perm: str, *, write: bool = False) -> dict:
    """An operation's ``auth`` and the ``description`` that says who may call it."""
    roles = ", ".join(sorted(str(role.label) for role in PERMISSIONS.get(perm, ())))
    text = f"Needs a token of someone who may {DOING.get(perm, perm)} ({roles})."
    if write:
        text += " A change: refused (403) for a read-only token; audited as via api token."
    return {"auth": TokenAuth(perm, write=write), "description": text}
