"""Auditing of what Django's auth does on its own: logins, logouts and failed logins.

Role changes go through services.users, which audits them with the acting person.

Failed logins come from anyone who can reach the login page, so they are coalesced: the first
failure of each minute per (username, address) is written, the rest only counted in the
cache, and that count goes on record with the pair's next written failure. Writing the first
at once (rather than one event when the minute is over) keeps an attack visible as it starts
and needs no timer; an append-only chain cannot have the count added to that first event
afterwards. axes keeps its own exact counts meanwhile (and locks as they grow).
"""

import hashlib
import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver

from . import audit
from .actors import Actor
from .middleware import current

# Long enough for an attack that pauses, short enough that the cache forgets idle pairs.
UNRECORDED_TTL = 24 * 3600
UNRECORDED = "failed logins not recorded singly since the last recorded one"


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit.record(actor=user, action="login", target=user, target_type="user")


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit.record(actor=user, action="logout", target=user, target_type="user")


def _window() -> int:
    return int(time.time() // settings.AUDIT_LOGIN_FAILURE_WINDOW)


def _pending_count(key: str) -> int:
    """Take the unrecorded count; what other processes add meanwhile stays for next time."""
    pending = cache.get(key) or 0
    if pending:
        try:
            cache.decr(key, pending)
        except ValueError:  # expired between the two calls: nothing left to keep
            pass
    return pending


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    if sender == "subscriptions.second_factor":
        return  # a wrong second-factor code: services/mfa.py records it (user.mfa_failed)
    # Only the username: the password the person typed is never recorded.
    username = str(credentials.get("username", ""))[:150]
    address = current.get().remote_addr
    pair = hashlib.sha256(f"{username}\0{address}".encode()).hexdigest()
    unrecorded_key = f"audit:login_failed:{pair}:unrecorded"
    first_of_window = cache.add(
        f"audit:login_failed:{pair}:{_window()}", 1, settings.AUDIT_LOGIN_FAILURE_WINDOW * 2
    )
    if not first_of_window:
        if not cache.add(unrecorded_key, 1, UNRECORDED_TTL):
            try:
                cache.incr(unrecorded_key)
            except ValueError:  # expired since the add: start again
                cache.add(unrecorded_key, 1, UNRECORDED_TTL)
        return
    unrecorded = _pending_count(unrecorded_key)
    with transaction.atomic():
        audit.record(
            actor=Actor(f"anonymous ({username})" if username else "anonymous"),
            action="login_failed",
            target_type="user",
            target_repr=username,
            changes={UNRECORDED: unrecorded} if unrecorded else {},
        )
