"""Who did it: a person, the command line or a background worker, in one notion.

Services take ``actor`` as a logged-in user or one of the system actors below, and the audit
trail, certificates and tests freeze ``actor.name`` as the string they keep: a person's
username, or a label that says which part of the system acted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """Not a person: ``user_id`` is ``None`` and ``name`` is what the records keep."""

    name: str
    user_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def pk(self) -> None:
        return None


SYSTEM = Actor("system")
COMMAND_LINE = Actor("system (command line)")
WORKER = Actor("system (worker)")
SCHEDULER = Actor("system (scheduler)")

# A person or the system; ``None`` stands for the system.
ActorLike = Union["AbstractBaseUser", Actor, None]


def actor_name(actor: ActorLike) -> str:
    """The name the records keep for ``actor``."""
    if isinstance(actor, Actor):
        return actor.name
    if actor is not None and actor.is_authenticated:
        return actor.get_username()
    return SYSTEM.name


def actor_id(actor: ActorLike) -> int | None:
    """The person's id, or ``None`` for the system."""
    if isinstance(actor, Actor) or actor is None or not actor.is_authenticated:
        return None
    return actor.pk
