"""Who owes a second factor, and the one gate that holds them to it.

A password alone should not open the dashboard for the roles in ``REQUIRE_MFA_FOR``, nor for
anyone who chose to enrol an authenticator app. After the password, such a person's session
is not verified (django-otp's ``request.user.is_verified()``); until it is, every page sends
them to enrolment (no app yet) or to the code step, and nothing else answers: a plain
request gets a redirect, an HTMX request ``HX-Redirect`` (a card must not fill with the code
page). Left open: logout, the pages that need no login (the login page, the emailed
password link, the inbound webhook, the icon), the static files and ``/api/`` (API tokens are
made by people who passed the second factor; a token is its own proof).

An SSO login counts as verified only when the operator says the identity provider enforces a
second factor (``OIDC_IDP_ENFORCES_MFA``); ``login_method`` in the session tells the two
kinds of login apart: "sso" set by the SSO login, "password" here on every other login.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp import DEVICE_ID_SESSION_KEY

from .selectors.mfa import mfa_enrolled, mfa_required_by_role

LOGIN_METHOD = "login_method"
PASSWORD, SSO = "password", "sso"
# The sender of ``user_login_failed`` for a wrong code (signals.py leaves its audit to the
# service, which writes ``user.mfa_failed``).
MFA_SENDER = "subscriptions.second_factor"
# Paths never held back: token-authenticated API calls (they carry no session).
OPEN_PREFIXES = ("/api/",)
ENROL, VERIFY = "subscriptions:mfa_enrol", "subscriptions:mfa_verify"
# The backends that check a password (settings.AUTHENTICATION_BACKENDS).
PASSWORD_BACKENDS = frozenset(
    {"axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"}
)


def second_factor_page(view):
    """Mark a view as one of the second factor's own pages (enrol, code step)."""
    view.second_factor_page = True
    return view


@receiver(user_logged_in)
def _remember_login_method(sender, request, user, **kwargs):
    # The SSO login sets "sso" itself; every other login is a password login. A password
    # backend's login always says "password", so an "sso" left in the session by an SSO
    # attempt that never completed cannot pass for the identity provider's second factor.
    if request is None or not hasattr(request, "session"):
        return
    password = getattr(user, "backend", "") in PASSWORD_BACKENDS
    if password or request.session.get(LOGIN_METHOD) != SSO:
        request.session[LOGIN_METHOD] = PASSWORD


def session_verified(request) -> bool:
    """Whether this session passed a second factor (or a trusted SSO login)."""
    if request.session.get(DEVICE_ID_SESSION_KEY) and request.user.is_verified():
        return True
    return settings.OIDC_IDP_ENFORCES_MFA and request.session.get(LOGIN_METHOD) == SSO


def owed_step(request) -> str | None:
    """The URL name of the step this person must take first, or None when they may go on."""
    user = request.user
    if not user.is_authenticated or session_verified(request):
        return None
    if mfa_enrolled(user):
        return VERIFY
    if mfa_required_by_role(user):
        return ENROL
    return None


def _next(request) -> str:
    if request.headers.get("HX-Request") == "true":
        return request.headers.get("HX-Current-URL", "")
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return ""


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            not getattr(view_func, "login_required", True)
            or getattr(view_func, "second_factor_page", False)
            or request.path_info.startswith(OPEN_PREFIXES)
            or request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/"))
            or (request.resolver_match and request.resolver_match.url_name == "logout")
        ):
            return None
        step = owed_step(request)
        if step is None:
            return None
        location = reverse(step)
        target = _next(request)
        if target:
            location += "?" + urlencode({"next": target})
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(location)
        return HttpResponseRedirect(location)
