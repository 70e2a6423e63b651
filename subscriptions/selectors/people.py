"""Read queries for the people page: every user with their role."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from ..models import Role


@dataclass
class Person:
    user: object
    role: str  # Role value, or "" when the user holds none
    role_label: str


def people() -> list[Person]:
    """Every user with their role: two queries whatever the number of people."""
    labels = {r.label: r for r in Role}
    result = []
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    for user in users:
        role = next((labels[g.name] for g in user.groups.all() if g.name in labels), None)
        result.append(
            Person(user, role.value if role else "", role.label if role else "(no role)")
        )
    return result
