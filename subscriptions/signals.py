"""Auditing of what Django's auth does on its own: logins, logouts and failed logins.

Role changes go through services.users, which audits them with the acting person.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from . import audit
from .actors import Actor


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit.record(actor=user, action="login", target=user, target_type="user")


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit.record(actor=user, action="logout", target=user, target_type="user")


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the username: the password the person typed is never recorded.
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit.record(
            actor=Actor(f"anonymous ({username})" if username else "anonymous"),
            action="login_failed",
            target_type="user",
            target_repr=username,
        )
