"""Roles and what each may do: the one table the migration, the views and the tests share."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from .models import Role

P = "subscriptions."

# codename -> roles that hold it. Administrators hold everything.
PERMISSIONS = {
    "view_subscription": {Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR},
    "add_subscription": {Role.ADMINISTRATOR},
    "change_subscription": {Role.ADMINISTRATOR},
    "delete_subscription": {Role.ADMINISTRATOR},
    "view_secrets_metadata": {Role.ADMINISTRATOR},
    "manage_certificates": {Role.ADMINISTRATOR},
    "toggle_webhooks": {Role.ADMINISTRATOR, Role.SUPPORT},
    "run_connection_test": {Role.ADMINISTRATOR, Role.SUPPORT},
    "edit_auth_details": {Role.ADMINISTRATOR},
    "start_jobs": {Role.ADMINISTRATOR},
    "view_jobs": {Role.ADMINISTRATOR, Role.SUPPORT},
    "view_inbound_events": {Role.ADMINISTRATOR, Role.SUPPORT},
    "view_auditevent": {Role.ADMINISTRATOR, Role.AUDITOR},
    "export_auditevent": {Role.ADMINISTRATOR, Role.AUDITOR},
}

# Django's own auth permissions an Administrator needs to manage people.
AUTH_PERMISSIONS = {
    "auth.view_user": {Role.ADMINISTRATOR},
    "auth.change_user": {Role.ADMINISTRATOR},
}


def role_permissions(role: str) -> list[str]:
    """Dotted permission names ("app.codename") held by a role."""
    names = [P + codename for codename, roles in PERMISSIONS.items() if role in roles]
    names += [name for name, roles in AUTH_PERMISSIONS.items() if role in roles]
    return names


def least_privileged_role() -> Role:
    """The role that holds the fewest permissions (Auditor): what an invitation offers unless
    the administrator picks another."""
    return min(Role, key=lambda role: len(role_permissions(role)))


def user_role(user) -> str | None:
    """The role label of a user (the first of their role groups), for display."""
    if not user.is_authenticated:
        return None
    labels = {r.label: r for r in Role}
    for group in user.groups.all():
        if group.name in labels:
            return group.name
    return "Superuser" if user.is_superuser else None


def _dotted(perm: str) -> str:
    return perm if "." in perm else P + perm


def has_perm(user, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` (a codename of this app, or "app.codename")."""
    return user.has_perm(_dotted(perm))


def require(*perms):
    """View decorator: 403 unless the user holds every permission (login is checked globally)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perms([_dotted(p) for p in perms]):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def ensure_role_groups():
    """Create or repair the three role groups from the table above.

    The migration creates them; this puts them back after a database flush (transactional
    tests) and lets a test compare the migration's frozen copy with the live table.
    """
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.label)
        wanted = []
        for dotted in role_permissions(role):
            app_label, codename = dotted.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
