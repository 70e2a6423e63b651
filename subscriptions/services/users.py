"""People: create or invite them, give them a role, let them log in or not, send a link to set
a password, lift a login lockout.

Two rules hold whoever asks (a page, a command, a job): nobody removes their own
Administrator role or deactivates themselves, and the dashboard is never left without an
active administrator. Role changes and activation take turns on one lock, so two
administrators demoting each other at once cannot both succeed.
"""

from __future__ import annotations

import unicodedata

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .. import audit
from ..actors import ActorLike, actor_id
from ..locks import ROLES, advisory_lock
from ..models import Role
from ..password_links import password_links
from ..selectors.usernames import lookalike_message, username_lookalike
from ..sso import local_password_allowed, provider_name
from .errors import InvalidInput, NotAllowed, ServiceError


class LastAdministratorError(NotAllowed):
    """The change would leave the dashboard without an active administrator."""


class SelfChangeError(NotAllowed):
    """Nobody removes their own Administrator role or deactivates themselves."""


def _refuse_if_last_administrator(user: AbstractBaseUser) -> None:
    User = get_user_model()
    others = (
        User.objects.filter(groups__name=Role.ADMINISTRATOR.label, is_active=True)
        .exclude(pk=user.pk)
        .exists()
    )
    is_admin = user.is_active and user.groups.filter(name=Role.ADMINISTRATOR.label).exists()
    if is_admin and not others:
        raise LastAdministratorError(
            f"{user.get_username()} is the last active administrator; make someone else an "
            "administrator first, so the dashboard is never left without one."
        )


def _group(role: str) -> Group:
    return Group.objects.get(name=Role(role).label)


def user_create(
    *, username: str, password: str, role: str, actor: ActorLike, email: str = ""
) -> AbstractBaseUser:
    changes = {"username": [None, username], "role": [None, Role(role).label]}
    return _create(username=username, password=password, email=email, role=role, actor=actor,
                   action="user.created", changes=changes)


def _create(
    *, username: str, password: str | None, email: str, role: str, actor: ActorLike,
    action: str, changes: dict, reason: str = "",
) -> AbstractBaseUser:
    """A person with a role, put on record in the same transaction. A name that reads as an
    existing one is refused, whoever asks (a page, create_user, a script)."""
    if problem := _lookalike_problem(username):
        raise InvalidInput({"username": problem})
    try:
        user = _create_in_transaction(
            username=username, password=password, email=email, role=role, actor=actor,
            action=action, changes=changes, reason=reason,
        )
    except IntegrityError:
        # Someone took the name (as Django stores it, NFKC) between the check and the insert.
        raise InvalidInput(
            {"username": f"Someone named {username} already exists; choose another username."}
        ) from None
    return user


def _create_in_transaction(
    *, username: str, password: str | None, email: str, role: str, actor: ActorLike,
    action: str, changes: dict, reason: str,
) -> AbstractBaseUser:
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, password=password, email=email
        )
        user.groups.set([_group(role)])
        audit.record(
            actor=actor, action=action, target=user, target_type="user", changes=changes,
            reason=reason,
        )
    return user


def user_set_role(
    *, user: AbstractBaseUser, role: str, actor: ActorLike, reason: str = ""
) -> AbstractBaseUser:
    role_labels = {r.label for r in Role}
    new = Role(role).label
    if actor_id(actor) == user.pk and role != Role.ADMINISTRATOR:
        raise SelfChangeError(
            "You cannot remove your own Administrator role: another administrator has to do "
            "it, so the dashboard is never left without one."
        )
    with transaction.atomic():
        advisory_lock(ROLES)
        before = sorted(g.name for g in user.groups.all() if g.name in role_labels)
        if before == [new]:
            return user
        if new != Role.ADMINISTRATOR.label:
            _refuse_if_last_administrator(user)
        others = [g for g in user.groups.all() if g.name not in role_labels]
        user.groups.set(others + [_group(role)])
        audit.record(
            actor=actor,
            action="user.role_changed",
            target=user,
            target_type="user",
            changes={"role": [", ".join(before) or "(none)", new]},
            reason=reason,
        )
    return user


def user_set_active(
    *, user: AbstractBaseUser, active: bool, actor: ActorLike, reason: str = ""
) -> AbstractBaseUser:
    if actor_id(actor) == user.pk and not active:
        raise SelfChangeError(
            "You cannot deactivate yourself: another administrator has to do it, so the "
            "dashboard is never left without one."
        )
    with transaction.atomic():
        advisory_lock(ROLES)
        user.refresh_from_db(fields=["is_active"])
        if user.is_active == active:
            return user
        if not active:
            _refuse_if_last_administrator(user)
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="user.activated" if active else "user.deactivated",
            target=user,
            target_type="user",
            changes={"active": [not active, active]},
            reason=reason,
        )
    return user


def user_unlock(*, user: AbstractBaseUser, actor: ActorLike, reason: str = "") -> int:
    """Clear the person's failed logins (axes' records, from every address); returns how many
    records were cleared, 0 (and nothing on record) when there were none.

    An address locked by its own, higher limit stays locked: that lock is about the address
    (password spraying), not about this person.
    """
    with transaction.atomic():
        cleared = axes_reset(username=user.get_username())
        if cleared:
            audit.record(
                actor=actor,
                action="user.unlocked",
                target=user,
                target_type="user",
                changes={"failed login records cleared": cleared},
                reason=reason,
            )
    return cleared


class NoEmailAddressError(ServiceError):
    """A password link goes by email, and the person has no address on record."""


def _password_link(user: AbstractBaseUser, site_url: str) -> str:
    """Django's password-reset token (``password_links``): it signs the password hash, the
    last login, the person's access and latest deactivation, so the link works once (setting
    a password changes the hash), dies with a deactivation, and expires after
    PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "subscriptions:password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": password_links.make_token(user),
        },
    )
    return site_url.rstrip("/") + path


def _send_password_link(user: AbstractBaseUser, *, site_url: str, invitation: bool) -> None:
    context = {
        "user": user,
        "link": _password_link(user, site_url),
        "invitation": invitation,
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = "Your iPaaS admin account" if invitation else "Set a new password"
    send_mail(
        subject,
        render_to_string("people/email/password_link.txt", context),
        None,
        [user.email],
    )


def _check_new_person(username: str, email: str) -> dict[str, str]:
    User = get_user_model()
    errors: dict[str, str] = {}
    try:
        User.username_validator(username)
    except ValidationError as exc:
        errors["username"] = " ".join(exc.messages)
    if not username:
        errors["username"] = "Enter a username."
    elif problem := _lookalike_problem(username):
        errors["username"] = problem
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid email address: the invitation goes there."
    if len(email) > EMAIL_MAX_LENGTH:
        errors["email"] = f"An email address has at most {EMAIL_MAX_LENGTH} characters."
    return errors


# The User model's column, and the longest address SMTP carries (RFC 5321).
EMAIL_MAX_LENGTH = 254


def _lookalike_problem(username: str) -> str:
    """Why ``username`` cannot be taken: it reads as someone's who exists (in another case,
    or with look-alike letters, ``selectors/usernames.py``); "" when it can."""
    existing = username_lookalike(unicodedata.normalize("NFKC", username))
    return lookalike_message(username, existing) if existing is not None else ""


def _refuse_password_unless_allowed(username: str, *, field: str | None = None) -> None:
    """With LOCAL_PASSWORDS=off only break-glass users get a password (an invitation, a link,
    setting one from a link sent before the switch): everyone else is created at their first
    sign-in with single sign-on, with the role their groups give."""
    if not local_password_allowed(username):
        raise NotAllowed(
            f"Passwords are switched off here (LOCAL_PASSWORDS=off): {username} signs in with "
            f"{provider_name()}, and is created at their first sign-in with the role their "
            "groups there give. Only break-glass administrators (BREAK_GLASS_USERS) get a "
            "password.",
            field=field,
        )


def user_invite(
    *, username: str, email: str, role: str, actor: ActorLike, site_url: str, reason: str = ""
) -> AbstractBaseUser:
    """Create a person without a usable password and email them a one-time link to set one.

    The mail is sent after the commit: a person whose creation was rolled back never gets a
    link, and a mail server that fails leaves the person on record (a new link can be sent).
    """
    username, email = username.strip(), email.strip()
    _refuse_password_unless_allowed(username, field="username")
    errors = _check_new_person(username, email)
    if errors:
        raise InvalidInput(errors)
    changes = {
        "username": [None, username],
        "email": [None, email],
        "role": [None, Role(role).label],
    }
    user = _create(username=username, password=None, email=email, role=role, actor=actor,
                   action="user.invited", changes=changes, reason=reason)
    _send_password_link(user, site_url=site_url, invitation=True)
    return user


def user_send_password_link(
    *, user: AbstractBaseUser, actor: ActorLike, site_url: str, reason: str = ""
) -> AbstractBaseUser:
    """Email the person a one-time link to set a new password. The current password keeps
    working until the link is used: a reset nobody asked for locks nobody out."""
    if not user.email:
        raise NoEmailAddressError(
            f"{user.get_username()} has no email address on record, so no link can be sent. "
            "Set one with `python manage.py create_user` or the Django shell first."
        )
    if not user.is_active:
        raise NotAllowed(f"{user.get_username()} is deactivated: activate them first.")
    _refuse_password_unless_allowed(user.get_username())
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="user.password_link_sent",
            target=user,
            target_type="user",
            changes={"email": user.email},
            reason=reason,
        )
    _send_password_link(user, site_url=site_url, invitation=False)
    return user


def user_set_password(
    *, user: AbstractBaseUser, password: str, actor: ActorLike
) -> AbstractBaseUser:
    """Set the person's password (from a set-password link); never records the password."""
    _refuse_password_unless_allowed(user.get_username())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"new_password1": exc.messages}) from None
    had_password = user.has_usable_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            actor=actor,
            action="user.password_set",
            target=user,
            target_type="user",
            changes={"password": audit.censor_secret(had_password, True)},
        )
    return user
