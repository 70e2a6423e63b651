"""Single sign-on's writes: the person behind a verified ID token, their role from their groups
at every sign-in, and every refusal, each on the audit trail.

A person is found by (issuer, subject) (``models/sso.SsoIdentity``), never by email or
username: an address or a name at the provider can pass to someone else, so a first sign-in
whose username belongs to a person here who is not linked to that identity is refused (an
administrator decides, rather than the provider's profile handing over an account). The
provider's groups decide the role every time (``OIDC_ROLE_GROUPS``, the highest mapped role
wins). A known person who is no longer in any mapped group keeps their account but loses
their role (``user.role_changed`` to none, so their open sessions lose every permission at
once) and is refused; a later sign-in from a mapped group gives the role back. One rule of
``services/users.py`` holds here too: the last active administrator is never demoted, so such
a sign-in is refused instead and nothing changes.

These functions run after ``sso.SsoBackend`` checked the token; ``claims`` are trusted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import audit
from ..actors import Actor
from ..locks import ROLES, advisory_lock
from ..models import Role, SsoIdentity
from ..selectors.usernames import username_lookalike
from ..sso import provider_name, role_for_groups
from .errors import NotAllowed

ROLE_LABELS = frozenset(role.label for role in Role)


class SsoSignInRefused(NotAllowed):
    """The sign-in was refused (and put on record); ``reason`` is what the trail says."""

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class _Refusal:
    key: str
    reason: str
    message: str


def _actor() -> Actor:
    return Actor(f"single sign-on ({provider_name()})"[:150])


def sso_refusal_record(
    *, reason: str, username: str = "", subject: str = "", user: AbstractBaseUser | None = None
) -> None:
    """Put a refused sign-in on the audit trail: the reason and who it was, never a token."""
    name = username or (user.get_username() if user is not None else "")
    with transaction.atomic():
        audit.record(
            actor=Actor(f"anonymous ({name})" if name else "anonymous (single sign-on)"),
            action="user.sso_refused",
            target=user,
            target_type="user",
            target_repr="" if user is not None else name,
            changes={"issuer": settings.OIDC_ISSUER, "subject": subject} if subject else {},
            reason=reason,
        )


def _groups(claims: dict) -> list[str] | None:
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [group for group in value if isinstance(group, str)]
    return None


def _username(claims: dict) -> str:
    """``preferred_username`` or else the email address, NFKC-normalised (a fullwidth or
    ligature spelling of a name becomes the name itself)."""
    for name in ("preferred_username", "email"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return unicodedata.normalize("NFKC", value.strip())
    return ""


def _profile(claims: dict) -> dict[str, str]:
    """Email (only one the provider has not marked unverified) and name, as the User keeps
    them."""
    email = claims.get("email") if claims.get("email_verified") is not False else ""
    first = claims.get("given_name") or ""
    last = claims.get("family_name") or ""
    if not (first or last) and isinstance(claims.get("name"), str):
        first = claims["name"]
    return {
        "email": (email if isinstance(email, str) else "")[:254],
        "first_name": (first if isinstance(first, str) else "")[:150],
        "last_name": (last if isinstance(last, str) else "")[:150],
    }


def _role_of(user: AbstractBaseUser) -> str:
    return ", ".join(sorted(g.name for g in user.groups.all() if g.name in ROLE_LABELS))


def _last_active_administrator(user: AbstractBaseUser) -> bool:
    administrators = get_user_model().objects.filter(
        groups__name=Role.ADMINISTRATOR.label, is_active=True
    )
    return (
        user.is_active
        and administrators.filter(pk=user.pk).exists()
        and not administrators.exclude(pk=user.pk).exists()
    )


def _set_role(user: AbstractBaseUser, role: Role | None, *, groups: list[str]) -> None:
    before = _role_of(user)
    after = role.label if role is not None else ""
    if before == after:
        return
    others = [g for g in user.groups.all() if g.name not in ROLE_LABELS]
    user.groups.set(others + ([Group.objects.get(name=after)] if after else []))
    audit.record(
        actor=_actor(),
        action="user.role_changed",
        target=user,
        target_type="user",
        changes={"role": [before or "(none)", after or "(none)"]},
        reason=f"From the person's groups at {provider_name()}: "
        + (", ".join(sorted(g for g in groups if g in settings.OIDC_ROLE_GROUPS)) or "(none)"),
    )


def _refusals() -> dict[str, _Refusal]:
    provider = provider_name()
    ask = "Ask an administrator of this dashboard"
    return {
        "no_groups_claim": _Refusal(
            "no_groups_claim",
            f"no {settings.OIDC_GROUPS_CLAIM!r} claim",
            f"{provider} did not say which groups your account is in (its "
            f"“{settings.OIDC_GROUPS_CLAIM}” claim is missing), so this dashboard cannot give "
            f"you a role. Tell your administrator: {provider} has to send that claim.",
        ),
        "no_mapped_group": _Refusal(
            "no_mapped_group",
            "not in a mapped group",
            f"Your account at {provider} is not in a group that may use this dashboard. "
            f"Ask whoever manages {provider} to add you to its administrator, support or "
            "auditor group, then sign in again.",
        ),
        "no_username": _Refusal(
            "no_username",
            "no preferred_username or email claim",
            f"{provider} sent neither a username nor an email address for your account, so "
            "no one here can be named after it. Tell your administrator.",
        ),
        "bad_username": _Refusal(
            "bad_username",
            "username not usable here",
            f"Your username at {provider} has characters this dashboard does not accept in a "
            "name (letters, digits and @ . + - _ only, at most 150). " + ask + ".",
        ),
        "username_taken": _Refusal(
            "username_taken",
            "username taken by a person not linked to this identity",
            f"Someone here already has your username, and they are not linked to your "
            f"account at {provider}. {ask}: they can rename or deactivate that person.",
        ),
        "deactivated": _Refusal(
            "deactivated",
            "person deactivated here",
            f"Your account on this dashboard is deactivated. {ask} to activate it.",
        ),
        "last_administrator": _Refusal(
            "last_administrator",
            "would demote the last active administrator",
            f"You are the last active administrator here, and your groups at {provider} no "
            "longer make you one. Make someone else an administrator first (a break-glass "
            "administrator can), so the dashboard is never left without one.",
        ),
    }


def sso_sign_in(*, claims: dict) -> AbstractBaseUser:
    """The person the verified ``claims`` stand for, created at their first sign-in and given
    the role their groups map to at every one (``user.sso_created``, ``user.role_changed``,
    ``user.sso_login``). Raises SsoSignInRefused, on record as ``user.sso_refused``."""
    subject = str(claims.get("sub", ""))
    username = _username(claims)
    groups = _groups(claims)
    with transaction.atomic():
        advisory_lock(ROLES)
        identity = (
            SsoIdentity.objects.select_related("user")
            .filter(issuer=settings.OIDC_ISSUER, subject=subject)
            .first()
        )
        user = identity.user if identity is not None else None
        refusal = _decide(user, username=username, groups=groups)
        if refusal is None:
            user, identity = _admit(user, identity, claims, username=username, groups=groups)
        elif refusal.key == "no_mapped_group" and user is not None and user.is_active:
            # Out of every mapped group: the account stays, its role goes (a missing claim
            # says nothing about the groups, so it takes nothing away).
            if not _last_active_administrator(user):
                _set_role(user, None, groups=groups or [])
    if refusal is not None:
        sso_refusal_record(reason=refusal.reason, username=username, subject=subject, user=user)
        raise SsoSignInRefused(refusal.message, reason=refusal.reason)
    return user


def _decide(user, *, username: str, groups: list[str] | None) -> _Refusal | None:
    refusals = _refusals()
    if groups is None:
        return refusals["no_groups_claim"]
    role = role_for_groups(groups)
    if role is None:
        return refusals["no_mapped_group"]
    if user is not None:
        if not user.is_active:
            return refusals["deactivated"]
        if role != Role.ADMINISTRATOR and _last_active_administrator(user):
            return refusals["last_administrator"]
        return None
    User = get_user_model()
    if not username:
        return refusals["no_username"]
    try:
        User.username_validator(username)
    except ValidationError:
        return refusals["bad_username"]
    if len(username) > 150:
        return refusals["bad_username"]
    # A look-alike (Cyrillic а beside admin) is as taken as the name itself.
    if username_lookalike(username) is not None:
        return refusals["username_taken"]
    return None


def _admit(user, identity, claims: dict, *, username: str, groups: list[str]):
    role = role_for_groups(groups)
    profile = _profile(claims)
    subject = str(claims["sub"])
    now = timezone.now()
    changes: dict = {"issuer": settings.OIDC_ISSUER, "subject": subject}
    if user is None:
        user = get_user_model().objects.create_user(username=username, password=None, **profile)
        user.groups.set([Group.objects.get(name=role.label)])
        identity = SsoIdentity.objects.create(
            issuer=settings.OIDC_ISSUER, subject=subject, user=user, last_login_at=now
        )
        audit.record(
            actor=_actor(),
            action="user.sso_created",
            target=user,
            target_type="user",
            changes={
                **changes,
                "username": [None, username],
                "email": [None, profile["email"]],
                "role": [None, role.label],
            },
            reason=f"First sign-in with {provider_name()}, in "
            + ", ".join(sorted(g for g in groups if g in settings.OIDC_ROLE_GROUPS)),
        )
    else:
        _set_role(user, role, groups=groups)
        # What the provider stopped sending is kept (an address a password link may need).
        changed = [
            name for name, value in profile.items() if value and getattr(user, name) != value
        ]
        for name in changed:
            changes[name] = [getattr(user, name), profile[name]]
            setattr(user, name, profile[name])
        if changed:
            user.save(update_fields=changed)
        identity.last_login_at = now
        identity.save(update_fields=["last_login_at"])
    audit.record(
        actor=user,
        action="user.sso_login",
        target=user,
        target_type="user",
        changes={**changes, "role": role.label},
    )
    return user, identity
