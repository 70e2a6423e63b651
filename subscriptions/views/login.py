"""The login page: why the person is there, and once they are in, what was not saved.

A session that ended mid-work sends the person here with ``expired=1``
(``login_required.py``), so the page says the session expired instead of greeting a first
visitor. A write refused for want of a session was kept in the session it started; after the
login the person is back on the page they were on (``next``) with a message naming what was
dropped, so nobody leaves believing a change was saved. Nothing is replayed: the page may have
changed meanwhile, and the person decides again.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse

from .. import sso
from ..forms.login import PasswordLoginForm
from ..selectors.subscriptions import subscription_name

# The login URL's mark of a session that ended (``login_required.py`` sets it).
EXPIRED_PARAM = "expired"
# The session key of the write refused for want of a session (``login_required.py`` keeps it):
# {"method", "path", "page", "section" (its tab's label), "subscription_id"}.
DROPPED_CHANGE = "dropped_change"


def dropped_change_message(dropped: dict) -> str:
    """"Your last change (on Webhooks of “Acme”) was not saved: …", naming the section and the
    subscription when the page it came from is known."""
    section = dropped.get("section") or ""
    name = subscription_name(dropped.get("subscription_id"))
    if section and name:
        where = f" (on {section} of “{name}”)"
    elif section or name:
        where = f" (on {section})" if section else f" (on “{name}”)"
    else:
        where = ""
    return f"Your last change{where} was not saved: your session had expired. Make it again."


class LoginView(auth_views.LoginView):
    """Django's login view (login_not_required, CSRF, never cached), saying why, see above.

    With single sign-on set up it offers "Sign in with <provider>" (views/sso.py) first; with
    local passwords off its form admits only break-glass users (forms/login.py)."""

    form_class = PasswordLoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        context["session_expired"] = data.get(EXPIRED_PARAM) == "1"
        context["change_dropped"] = DROPPED_CHANGE in self.request.session
        if sso.sso_enabled():
            next_url = context.get("next") or ""
            context["sso_provider"] = sso.provider_name()
            context["sso_url"] = reverse("sso_login") + (
                "?" + urlencode({"next": next_url}) if next_url else ""
            )
        context["local_passwords_on"] = sso.local_passwords_on()
        return context

    def form_valid(self, form):
        response = super().form_valid(form)  # the login keeps the session's data (cycle_key)
        dropped = self.request.session.pop(DROPPED_CHANGE, None)
        if isinstance(dropped, dict):
            messages.warning(self.request, dropped_change_message(dropped))
        return response
