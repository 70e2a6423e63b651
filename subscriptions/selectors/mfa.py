"""Reads about the second factor: whether a person enrolled an authenticator app, how many
recovery codes they have left, who on the People page has one.

"Enrolled" means a confirmed authenticator app (django-otp's ``TOTPDevice``); the recovery
codes (a ``StaticDevice``) are made with it and never exist alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import Role

__all__ = [
    "MfaStatus",
    "mfa_enrolled",
    "mfa_enrolled_user_ids",
    "mfa_required_by_role",
    "mfa_status",
]


@dataclass(frozen=True)
class MfaStatus:
    enrolled: bool
    enrolled_at: datetime | None
    recovery_codes_left: int
    required: bool


def mfa_enrolled(user) -> bool:
    """Whether ``user`` has a confirmed authenticator app: one query."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def mfa_required_by_role(user) -> bool:
    """Whether ``user``'s role is one of REQUIRE_MFA_FOR: no query when nobody's is."""
    roles = settings.REQUIRE_MFA_FOR
    if not roles or not user.is_authenticated:
        return False
    labels = [Role(role).label for role in roles]
    return user.groups.filter(name__in=labels).exists()


def mfa_status(user) -> MfaStatus:
    device = (
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=True)
        .order_by("-id")
        .values_list("id", "created_at")
        .first()
    )
    codes = StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()
    return MfaStatus(
        enrolled=device is not None,
        enrolled_at=device[1] if device else None,
        recovery_codes_left=codes,
        required=mfa_required_by_role(user),
    )


def mfa_enrolled_user_ids() -> set[int]:
    """The ids of everyone with an authenticator app, for the People page: one query."""
    return set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True).distinct()
    )
