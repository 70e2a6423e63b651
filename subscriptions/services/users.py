from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .. import audit
from ..models import Role


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
        before = sorted(g.name for g in user.groups.all() if g.name in role_labels)
        new = Role(role).label
        if before == [new]:
            return user
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
        if user.is_active == active:
            return user
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
