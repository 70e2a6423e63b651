"""Read queries for the people page: every user with their role and whether axes locks them out."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from ..lockout import locked_usernames
from ..models import Role
from .mfa import mfa_enrolled_user_ids


@dataclass
class Person:
    user: object
    role: str  # Role value, or "" when the user holds none
    role_label: str
    locked_out: bool = False
    mfa_enrolled: bool = False  # has an authenticator app (the second factor)


def people() -> list[Person]:
    """Every user with their role, lockout and second factor: four queries whatever the
    number of people."""
    labels = {r.label: r for r in Role}
    locked = locked_usernames()
    enrolled = mfa_enrolled_user_ids()
    result = []
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    for user in users:
        role = next((labels[g.name] for g in user.groups.all() if g.name in labels), None)
        result.append(
            Person(
                user,
                role.value if role else "",
                role.label if role else "(no role)",
                locked_out=user.get_username() in locked,
                mfa_enrolled=user.pk in enrolled,
            )
        )
    return result
