from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from .. import audit
from ..models import Role

_ROLE_LOCK = 0x1A0D18


class LastAdministratorError(ValueError):
    """The change would leave the dashboard without an active administrator."""


def _lock_roles():
    # Two administrators demoting each other at once must not both succeed: changes to roles
    # and activation take turns (SQLite's IMMEDIATE transactions already serialise writers).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLE_LOCK])


def _refuse_if_last_administrator(user):
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


def user_create(*, username: str, password: str, role: str, actor=None, email: str = ""):
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        user.groups.set([_group(role)])
        audit.record(
            actor=actor,
            actor_name=None if actor else "system (command line)",
            action="user.created",
            target=user,
            target_type="user",
            changes={"username": [None, username], "role": [None, Role(role).label]},
        )
    return user


def user_set_role(*, user, role: str, actor, reason: str = ""):
    role_labels = {r.label for r in Role}
    with transaction.atomic():
        _lock_roles()
        before = sorted(g.name for g in user.groups.all() if g.name in role_labels)
        new = Role(role).label
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


def user_set_active(*, user, active: bool, actor, reason: str = ""):
    with transaction.atomic():
        _lock_roles()
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
