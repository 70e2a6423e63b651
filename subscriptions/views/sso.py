"""Signing in with the identity provider: the way out to it and the way back.

``sso_login`` is mozilla-django-oidc's request view (state, nonce and PKCE kept in the session)
with the authorization endpoint from discovery. ``sso_callback`` replaces the library's
callback so that every way a sign-in can fail ends on the login page with a sentence saying
what to do, and is on the audit trail with its reason (``user.sso_refused``): the provider's
own refusal, a token that fails a check (``sso.SsoBackend``), a person who may not use the
dashboard (``services/sso.py``). A callback that matches no sign-in started in this session
(a reload, a bookmark, a stranger's link) is sent back without a record: nobody could be
named, and anyone could fill the trail with them.

An SSO session lasts ``OIDC_SESSION_SECONDS`` at most from its sign-in, however active (an
absolute expiry on the session), so a person removed from the provider's groups loses access
then at the latest; the next sign-in applies their groups again. The session says
``login_method = "sso"`` (set before Django's login, whose signal receivers leave it alone,
and again after, in case the login started a new session).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from ..services.sso import SsoSignInRefused, sso_refusal_record, sso_sign_in
from ..sso import LOGIN_METHOD, SsoBackend, SsoRefused, discovery, provider_name, sso_enabled
from .login import DROPPED_CHANGE, dropped_change_message

BACKEND = "subscriptions.sso.SsoBackend"
NEXT = "oidc_login_next"


def _not_set_up() -> str:
    return (
        "Single sign-on is not set up on this dashboard: log in with your username and "
        "password, or ask your administrator."
    )


def _to_login(request, message: str, *, log_out: bool = False):
    """Back to the login page with ``message``; after a failed sign-in (``log_out``) nobody
    is logged in, whoever was before. A request that started no sign-in logs nobody out: any
    page could link to it."""
    if log_out and request.user.is_authenticated:
        auth.logout(request)
    messages.error(request, message)
    return redirect("login")


class SsoLoginView(OIDCAuthenticationRequestView):
    """To the provider's authorization endpoint, with a ``next`` kept for the way back."""

    http_method_names = ["get"]

    def __init__(self, *args, **kwargs):
        # The library reads the endpoint here; it comes from discovery, on use.
        View.__init__(self, *args, **kwargs)

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # noqa: N802 (the library's name)
        return discovery()["authorization_endpoint"]

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:  # noqa: N802
        return settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not sso_enabled():
            return _to_login(request, _not_set_up())
        try:
            discovery()
        except SsoRefused as refusal:
            messages.error(request, refusal.message)
            return redirect("login")
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: the code exchanged, the token checked, the person signed in."""

    http_method_names = ["get"]

    def get(self, request):
        if not sso_enabled():
            return _to_login(request, _not_set_up())
        started = self._pop_state(request)
        if started is None:
            return _to_login(
                request,
                f"This sign-in with {provider_name()} was not started here or took too long. "
                "Start it again with the button below.",
            )
        try:
            error = request.GET.get("error")
            if error:
                # RFC 6749 4.1.2.1: a code from a small ASCII set; anything else is dropped.
                code = re.sub(r"[^A-Za-z0-9_.-]", "", error)[:64] or "unknown"
                raise SsoRefused(
                    f"the provider answered {code}",
                    f"{provider_name()} did not sign you in ({code}). Start again; if it "
                    "happens again, tell your administrator.",
                )
            code = request.GET.get("code")
            if not code:
                raise SsoRefused(
                    "no code in the provider's answer",
                    f"{provider_name()} sent no sign-in code back. Start again.",
                )
            claims = SsoBackend().verified_claims(
                request,
                code=code,
                nonce=started.get("nonce"),
                code_verifier=started.get("code_verifier"),
            )
            user = sso_sign_in(claims=claims)
        except SsoRefused as refusal:
            sso_refusal_record(reason=refusal.reason)
            return _to_login(request, refusal.message, log_out=True)
        except SsoSignInRefused as refusal:  # on record already, with who it was
            return _to_login(request, refusal.message, log_out=True)
        return self._signed_in(request, user)

    @staticmethod
    def _pop_state(request) -> dict | None:
        """This sign-in's nonce and PKCE verifier, taken out of the session at once so the
        same answer cannot be used twice (not even by two requests racing)."""
        state = request.GET.get("state", "")
        states = request.session.get("oidc_states")
        if not state or not isinstance(states, dict) or not isinstance(states.get(state), dict):
            return None
        started = states.pop(state)
        request.session["oidc_states"] = states
        request.session.save()
        return started

    @staticmethod
    def _signed_in(request, user):
        next_url = request.session.pop(NEXT, None)
        dropped = request.session.pop(DROPPED_CHANGE, None)
        request.session[LOGIN_METHOD] = "sso"
        auth.login(request, user, backend=BACKEND)
        request.session[LOGIN_METHOD] = "sso"
        request.session.set_expiry(
            timezone.now() + timedelta(seconds=settings.OIDC_SESSION_SECONDS)
        )
        if isinstance(dropped, dict):
            messages.warning(request, dropped_change_message(dropped))
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


sso_login = login_not_required(SsoLoginView.as_view())
sso_callback = login_not_required(SsoCallbackView.as_view())

