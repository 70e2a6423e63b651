"""The token in an invitation or password link, and what the session keeps of it.

Django's password-reset token signs the password hash and the last login, so it is spent by
the password it sets and expires after PASSWORD_RESET_TIMEOUT. Two gaps the security review
found (issue 18):

- The token also covers whether the person may log in and their latest deactivation (the id
  of their newest ``user.deactivated`` event, append-only, so it only ever grows): a link sent
  before someone was deactivated stays dead after they are activated again.
- Django's view moves the token from the URL into the session, where whoever reads the
  session table could replay it. The session keeps only the token's timestamp and an HMAC of
  it (:func:`seal`); the page checks that seal against the token made again from the
  person's current state (:func:`check_sealed`), which it cannot be turned back into.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int

from .models import AuditEvent

_SEAL_SALT = "subscriptions.password_links.session"


class PasswordLinkTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "subscriptions.password_links.PasswordLinkTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        deactivated = (
            AuditEvent.objects.filter(
                action="user.deactivated", target_type="user", target_id=str(user.pk)
            )
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        return (
            f"{super()._make_hash_value(user, timestamp)}"
            f"|active={user.is_active}|deactivated={deactivated or 0}"
        )

    def seal(self, token: str) -> str:
        """What the session keeps instead of ``token``: its timestamp and an HMAC of it."""
        ts_b36 = token.split("-", 1)[0]
        return f"{ts_b36}-{salted_hmac(_SEAL_SALT, token, algorithm='sha256').hexdigest()}"

    def check_sealed(self, user, sealed: str | None) -> bool:
        """Whether ``sealed`` is the seal of a token still valid for ``user`` now (same rules
        as :meth:`check_token`: unspent, unexpired, the person unchanged)."""
        if not (user and sealed):
            return False
        ts_b36, _, digest = sealed.partition("-")
        try:
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            token = self._make_token_with_timestamp(user, ts, secret)
            if constant_time_compare(self.seal(token), sealed):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.PASSWORD_RESET_TIMEOUT


password_links = PasswordLinkTokenGenerator()
