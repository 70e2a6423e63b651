"""People: create them, give them a role, let them log in or not, lift a login lockout.

Two rules hold whoever asks (a page, a command, a job): nobody removes their own
Administrator role or deactivates themselves, and the dashboard is never left without an
active administrator. Role changes and activation take turns on one lock, so two
administrators demoting each other at once cannot both succeed.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from .. import audit
from ..actors import ActorLike, actor_id
from ..locks import ROLES, advisory_lock
from ..models import Role
from .errors import NotAllowed


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
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        user.groups.set([_group(role)])
        audit.record(
            actor=actor,
            action="user.created",
            target=user,
            target_type="user",
            changes={"username": [None, username], "role": [None, Role(role).label]},
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
