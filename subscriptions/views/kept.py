"""Secrets a page needs across one redirect or one refused form, kept in the server-side session.

Never in a URL, a cookie or the page: the session row lives on the server, and what is put in
it is encrypted with :mod:`subscriptions.fields` (the same keys as the secrets at rest), so
the session table holds no plaintext secret either.

- **Shown once** (:func:`show_once`, :func:`pop_shown_once`): a new Webhook API Key after a
  create or a regenerate, for the one page view the POST redirects to (Post/Redirect/Get).
  The first view of that subscription's page pops it, so a reload no longer shows it.
- **Kept keys** (:func:`keep_key`, :func:`kept_key`, :func:`drop_key`): a private key pasted
  into a subscription form that was refused for another reason, bound to that form (a random
  token in a hidden field plus the form's identity) and used on its next valid submit.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest

from .. import fields
from ..forms.subscription import KeptKey

SHOWN_ONCE = "shown_once"
KEPT_KEYS = "kept_private_keys"
MAX_KEPT_KEYS = 5  # forms abandoned with a key kept: the oldest are dropped beyond this


def show_once(request: HttpRequest, *, subscription_pk: int, webhook_key: str, created: bool):
    store = dict(request.session.get(SHOWN_ONCE, {}))
    store[str(subscription_pk)] = {"key": fields.encrypt(webhook_key), "created": created}
    request.session[SHOWN_ONCE] = store


def pop_shown_once(request: HttpRequest, subscription_pk: int) -> tuple[str | None, bool]:
    """The key to show once on this subscription's page and whether it was just created."""
    store = dict(request.session.get(SHOWN_ONCE, {}))
    entry = store.pop(str(subscription_pk), None)
    if entry is None:
        return None, False
    request.session[SHOWN_ONCE] = store
    try:
        return fields.decrypt(entry["key"]), bool(entry.get("created"))
    except (fields.DecryptionError, KeyError, TypeError):
        return None, False


def kept_key(request: HttpRequest, *, token: str, form_id: str) -> KeptKey | None:
    entry = request.session.get(KEPT_KEYS, {}).get(token or "")
    if not entry or entry.get("form") != form_id:
        return None
    try:
        pem = fields.decrypt(entry["pem"])
    except (fields.DecryptionError, KeyError, TypeError):
        return None
    return KeptKey(pem=pem, label=entry["label"], fingerprint=entry["fingerprint"])


def keep_key(request: HttpRequest, *, token: str, form_id: str, key: KeptKey) -> str:
    """Keep ``key`` for this form; returns the token the form's next submit must carry."""
    store = dict(request.session.get(KEPT_KEYS, {}))
    if token not in store:
        token = secrets.token_urlsafe(16)
    store.pop(token, None)
    store[token] = {
        "form": form_id,
        "pem": fields.encrypt(key.pem),
        "label": key.label,
        "fingerprint": key.fingerprint,
    }
    while len(store) > MAX_KEPT_KEYS:
        store.pop(next(iter(store)))
    request.session[KEPT_KEYS] = store
    return token


def drop_key(request: HttpRequest, token: str) -> None:
    store = dict(request.session.get(KEPT_KEYS, {}))
    if store.pop(token or "", None) is not None:
        request.session[KEPT_KEYS] = store


NEW_API_TOKEN = "new_api_token"


def show_token_once(request: HttpRequest, *, token_pk: int, secret: str) -> None:
    """A new API token, for the one view of the tokens page its POST redirects to."""
    request.session[NEW_API_TOKEN] = {"pk": token_pk, "secret": fields.encrypt(secret)}


def pop_token_shown_once(request: HttpRequest) -> tuple[int | None, str | None]:
    """The new token's id and secret to show once, then gone from the session."""
    entry = request.session.pop(NEW_API_TOKEN, None)
    if not isinstance(entry, dict):
        return None, None
    try:
        return int(entry["pk"]), fields.decrypt(entry["secret"])
    except (fields.DecryptionError, KeyError, TypeError, ValueError):
        return None, None
