"""Single sign-on with OpenID Connect: the provider's discovery document, the ID token's checks
and the configuration everything else asks about.

The operator names the issuer, not its endpoints: the authorization, token, userinfo and JWKS
endpoints come from ``<issuer>/.well-known/openid-configuration``, fetched once and kept in
the cache for ``DISCOVERY_SECONDS`` (a failed fetch is not kept, so the next sign-in tries
again). mozilla-django-oidc does the protocol (state, nonce, PKCE, the code exchange, the
JWKS key matching); :class:`SsoBackend` tightens what it leaves open. The library checks the
signature and the nonce but not the audience or the issuer, and would take an HS256 token
signed with the client secret: here an ID token must be RS256 or ES256 (``OIDC_SIGN_ALGO``)
under a key of the issuer's JWKS, for this client, from this issuer, unexpired and with a
subject. Every refusal is an :class:`SsoRefused` with a short ``reason`` for the audit trail
and a sentence for the person; neither ever holds a token.

Who the person is and which role they get is ``services/sso.py``'s (the only code that writes);
the views in ``views/sso.py`` drive the flow. This module writes nothing.
"""

from __future__ import annotations

import hashlib
import unicodedata

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify

from .models import Role

# How long the discovery document is reused; the JWKS is read at every sign-in (key rollover
# at the provider needs nothing here).
DISCOVERY_SECONDS = 3600
# Clock difference tolerated between the provider and this server, in seconds.
LEEWAY_SECONDS = 60
# Highest first: a person in several mapped groups gets the highest of their roles.
ROLE_ORDER = (Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR)
# The session's record of how the person logged in ("password" or "sso"), shared with the
# second factor's middleware.
LOGIN_METHOD = "login_method"


class SsoRefused(Exception):
    """A sign-in refused before anyone was looked up: ``reason`` for the audit trail (never a
    token), ``message`` for the person (what happened and what to do)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(reason)


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def local_passwords_on() -> bool:
    return settings.LOCAL_PASSWORDS != "off"


def is_break_glass(username: str) -> bool:
    """Whether ``username`` is one of ``BREAK_GLASS_USERS`` (compared case-insensitively, as
    the dashboard compares names of people)."""
    wanted = unicodedata.normalize("NFKC", username or "").casefold()
    return any(
        wanted == unicodedata.normalize("NFKC", name).casefold()
        for name in settings.BREAK_GLASS_USERS
        if name
    )


def local_password_allowed(username: str) -> bool:
    """Whether ``username`` may log in with (or be sent a link to set) a password here."""
    return local_passwords_on() or is_break_glass(username)


def local_passwords_off_message() -> str:
    return (
        f"Passwords are switched off on this dashboard: sign in with {provider_name()}. "
        "Only break-glass administrators log in with a password."
    )


def role_for_groups(groups) -> Role | None:
    """The highest role any of ``groups`` maps to (``OIDC_ROLE_GROUPS``), or None."""
    mapping = settings.OIDC_ROLE_GROUPS
    roles = {Role(mapping[group]) for group in groups if group in mapping}
    return next((role for role in ROLE_ORDER if role in roles), None)


def unavailable(what: str) -> SsoRefused:
    return SsoRefused(
        f"provider unreachable: {what}",
        f"{provider_name()} could not be reached, so nobody can sign in with it right now. "
        "Try again in a few minutes; if it lasts, tell your administrator.",
    )


def discovery() -> dict:
    """The issuer's discovery document (authorization, token, userinfo, JWKS endpoints)."""
    issuer = settings.OIDC_ISSUER
    key = "sso:discovery:" + hashlib.sha256(issuer.encode()).hexdigest()[:32]
    document = cache.get(key)
    if document is not None:
        return document
    try:
        response = requests.get(
            issuer + "/.well-known/openid-configuration",
            timeout=settings.OIDC_TIMEOUT,
            allow_redirects=False,
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise unavailable(f"discovery document: {type(exc).__name__}") from None
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        # OpenID Connect Discovery 1.0, section 4.3: the document names its own issuer.
        raise unavailable("the discovery document names another issuer")
    missing = [
        name
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(name), str)
    ]
    if missing:
        raise unavailable("the discovery document lacks " + ", ".join(missing))
    cache.set(key, document, DISCOVERY_SECONDS)
    return document


def untrusted(reason: str) -> SsoRefused:
    return SsoRefused(
        reason,
        f"Signing in with {provider_name()} did not work: its answer could not be trusted "
        f"({reason}). Start again; if it happens again, tell your administrator (the refusal "
        "is on the audit trail).",
    )


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with its endpoints from discovery and the ID token's
    checks completed (see the module's docstring).

    ``authenticate`` takes no part in password logins (it answers None at once, and reaches no
    provider): the callback view calls :meth:`verified_claims` itself, so every refusal is put
    on record with its reason. Django still needs the backend listed to restore an SSO
    session's person (``get_user``), which an inactive person no longer gets.
    """

    def __init__(self, *args, **kwargs):
        # The library reads every endpoint here, at each instantiation (Django makes one per
        # request): this backend reads them on use, from the cached discovery document.
        self.UserModel = get_user_model()
        self.OIDC_RP_IDP_SIGN_KEY = None

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802 (the library's name)
        return discovery()["token_endpoint"]

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:  # noqa: N802
        return discovery()["jwks_uri"]

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str | None:  # noqa: N802
        return discovery().get("userinfo_endpoint")

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:  # noqa: N802
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:  # noqa: N802
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:  # noqa: N802
        return settings.OIDC_RP_SIGN_ALGO

    def authenticate(self, request, **kwargs):
        return None

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)

    def verified_claims(self, request, *, code: str, nonce: str, code_verifier: str | None):
        """Exchange the authorization code and return the checked ID token's claims (with the
        userinfo endpoint's answer for the claims the token lacks); raises SsoRefused."""
        self.request = request
        payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": absolutify(request, reverse(settings.OIDC_AUTHENTICATION_CALLBACK_URL)),
        }
        if code_verifier is not None:
            payload["code_verifier"] = code_verifier
        try:
            tokens = self.get_token(payload)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise untrusted(f"the token endpoint refused the code (HTTP {status})") from None
        except (requests.RequestException, ValueError) as exc:
            raise unavailable(f"token endpoint: {type(exc).__name__}") from None
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise untrusted("no ID token in the token endpoint's answer")
        try:
            claims = self.verify_token(id_token, nonce=nonce)
        except SuspiciousOperation as exc:
            raise untrusted(_library_reason(str(exc))) from None
        except requests.RequestException as exc:
            raise unavailable(f"JWKS: {type(exc).__name__}") from None
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise untrusted(f"unreadable ID token ({type(exc).__name__})") from None
        return self._with_userinfo(claims, tokens.get("access_token"))

    def _with_userinfo(self, claims: dict, access_token) -> dict:
        """Some providers send the groups, email or name only from the userinfo endpoint."""
        wanted = (settings.OIDC_GROUPS_CLAIM, "email", "preferred_username", "name")
        endpoint = self.OIDC_OP_USER_ENDPOINT
        if all(name in claims for name in wanted) or not endpoint or not access_token:
            return claims
        try:
            info = self.get_userinfo(access_token, None, claims)
        except (requests.RequestException, ValueError, SuspiciousOperation):
            return claims  # the ID token decides; a missing group claim is refused later
        # OpenID Connect Core 1.0, 5.3.2: a userinfo answer for another subject is discarded.
        if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
            return claims
        return {**{k: v for k, v in info.items() if k in wanted}, **claims}

    def _verify_jws(self, payload, key):
        """The signature under ``key`` with the one configured algorithm, and the claims the
        library leaves unchecked: audience (and ``azp`` beside other audiences), issuer,
        expiry, issue time, subject."""
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.PyJWTError:
            raise untrusted("unreadable ID token") from None
        algorithm = self.OIDC_RP_SIGN_ALGO
        if header.get("alg") != algorithm:
            raise untrusted(f"ID token signed with {header.get('alg')!r}, not {algorithm}")
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise untrusted("the ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise untrusted("the ID token is for another client (audience)") from None
        except jwt.InvalidIssuerError:
            raise untrusted("the ID token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise untrusted("the ID token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise untrusted(f"the ID token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise untrusted(f"the ID token was refused ({type(exc).__name__})") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise untrusted("the ID token was issued to another client (azp)")
        return claims


def _library_reason(message: str) -> str:
    """mozilla-django-oidc's refusal, as the audit trail says it."""
    if "Nonce" in message:
        return "the ID token's nonce is not this sign-in's"
    if "JWKS" in message:
        return "the ID token's key is not in the provider's JWKS"
    return message.rstrip(".")
