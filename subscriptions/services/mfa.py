"""The second factor: enrol an authenticator app, check a code, make new recovery codes, and
an administrator's reset of another person's.

django-otp keeps the devices: a ``TOTPDevice`` (the app, RFC 6238, 30-second steps, one step
of tolerance either way, a code never accepted twice) and a ``StaticDevice`` holding the ten
single-use recovery codes, each deleted as it is used. Its throttling stays on: every wrong
code doubles the wait before the device checks the next one, and only a right code resets it,
so a password holder cannot try codes without end between the login lockouts (the lockout,
django-axes, counts the failures too: the view sends Django's ``user_login_failed``).

A code, a recovery code or the app's key never reaches the audit trail or a log; the codes
are returned once to be shown once.
"""

from __future__ import annotations

import time
from binascii import unhexlify

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .. import audit
from ..actors import ActorLike, actor_id
from ..selectors.mfa import mfa_enrolled
from .errors import InvalidInput, NotAllowed, ServiceError

RECOVERY_CODES = 10
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# One step either way: a phone whose clock is up to 30 seconds off still works.
TOLERANCE = 1


class CodeRefusedError(ServiceError):
    """A wrong, spent or throttled code: the person's session stays unverified."""


def mfa_new_key() -> str:
    """A fresh authenticator key (20 random bytes, hex), for the enrolment page to show."""
    return random_hex(20)


def normalise_code(code: str) -> str:
    """What people type: spaces and hyphens dropped, letters lower-cased."""
    return "".join(ch for ch in str(code) if ch not in " -\t").lower()


def _matching_step(key: str, code: str) -> int | None:
    """The time step ``code`` belongs to for ``key``, or None when it matches none near now."""
    if not (code.isdigit() and len(code) == 6):
        return None
    try:
        totp = TOTP(unhexlify(key.encode()), step=30, t0=0, digits=6, drift=0)
    except (ValueError, TypeError):
        return None
    totp.time = time.time()
    if not totp.verify(int(code), tolerance=TOLERANCE):
        return None
    return totp.t()


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the person's recovery codes with ten new ones (inside the caller's transaction)."""
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return sorted(codes)


def _locked(user: AbstractBaseUser) -> AbstractBaseUser:
    """The person's row, locked: two enrolments or resets of one person take turns."""
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def mfa_enrol(
    *, user: AbstractBaseUser, key: str, code: str, actor: ActorLike
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator app set up with ``key`` by a code it shows now; returns the
    new device and ten recovery codes (shown once). A wrong code changes nothing."""
    step = _matching_step(key, normalise_code(code))
    if step is None:
        raise InvalidInput(
            {
                "code": "That code does not match. Type the 6 digits the app shows now; if it "
                "still fails, check that the phone's clock is set automatically."
            }
        )
    with transaction.atomic():
        _locked(user)
        if mfa_enrolled(user):
            raise NotAllowed(
                "You already have a second factor. To replace it, ask another administrator "
                "to reset it on the People page, then log in again."
            )
        TOTPDevice.objects.filter(user_id=user.pk).delete()  # unconfirmed leftovers
        device = TOTPDevice.objects.create(
            user=user, name=APP_NAME, key=key, confirmed=True, tolerance=TOLERANCE, last_t=step
        )
        codes = _new_recovery_codes(user)
        audit.record(
            actor=actor,
            action="user.mfa_enrolled",
            target=user,
            target_type="user",
            changes={"second factor": ["(none)", APP_NAME], "recovery codes": RECOVERY_CODES},
        )
    return device, codes


def mfa_verify(*, user: AbstractBaseUser, code: str):
    """The device that accepts ``code`` (the app's 6 digits, or a recovery code, which is then
    spent); a refusal is put on record (``user.mfa_failed``) and raised."""
    code = normalise_code(code)
    recovery = not code.isdigit()
    model = StaticDevice if recovery else TOTPDevice
    kind = "recovery code" if recovery else "authenticator code"
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user_id=user.pk, confirmed=True)
            .order_by("id")
            .first()
        )
        allowed, info = device.verify_is_allowed() if device else (True, None)
        verified = bool(code) and allowed and device is not None and device.verify_token(code)
        if verified and recovery:
            left = StaticToken.objects.filter(device=device).count()
            audit.record(
                actor=user,
                action="user.mfa_recovery_code_used",
                target=user,
                target_type="user",
                changes={"recovery codes left": left},
            )
        if not verified:
            audit.record(
                actor=user,
                action="user.mfa_failed",
                target=user,
                target_type="user",
                changes={"code": f"wrong {kind}" if allowed else f"{kind} while throttled"},
            )
    if verified:
        return device
    if not allowed:
        wait = ""
        until = (info or {}).get("locked_until")
        if until is not None:
            wait = f" {max(1, int((until - timezone.now()).total_seconds()) + 1)} seconds"
        raise CodeRefusedError(
            f"Too many wrong codes: wait{wait or ' a moment'} before the next try. Each wrong "
            "code makes the wait longer.",
            field="code",
        )
    if recovery:
        raise CodeRefusedError(
            "That recovery code is not one of yours, or it was used already: each works once. "
            "Try another, or the 6 digits of your authenticator app.",
            field="code",
        )
    raise CodeRefusedError(
        "That code does not match, or it was used already. Type the 6 digits your "
        "authenticator app shows now.",
        field="code",
    )


def mfa_recovery_codes_regenerate(*, user: AbstractBaseUser, actor: ActorLike) -> list[str]:
    """Ten new recovery codes for the person (the old ones stop working); shown once."""
    with transaction.atomic():
        _locked(user)
        if not mfa_enrolled(user):
            raise NotAllowed(
                "You have no second factor yet, so there are no recovery codes to replace: "
                "set up an authenticator app first."
            )
        codes = _new_recovery_codes(user)
        audit.record(
            actor=actor,
            action="user.mfa_recovery_codes_regenerated",
            target=user,
            target_type="user",
            changes={"recovery codes": ["(replaced)", RECOVERY_CODES]},
        )
    return codes


def mfa_reset(*, user: AbstractBaseUser, actor: ActorLike, reason: str = "") -> int:
    """Remove the person's authenticator app and recovery codes: they set up a new app at
    their next login (or visit, if their role requires one). Returns how many devices went;
    0, and nothing on record, when they had none. Nobody resets their own."""
    if actor_id(actor) == user.pk:
        raise NotAllowed(
            "You cannot reset your own second factor: another administrator has to, so a "
            "stolen session cannot switch it off."
        )
    with transaction.atomic():
        _locked(user)
        removed = TOTPDevice.objects.filter(user_id=user.pk).delete()[1].get(
            TOTPDevice._meta.label, 0
        )
        removed += StaticDevice.objects.filter(user_id=user.pk).delete()[1].get(
            StaticDevice._meta.label, 0
        )
        if removed:
            audit.record(
                actor=actor,
                action="user.mfa_reset",
                target=user,
                target_type="user",
                changes={"second factor": [APP_NAME, "(none)"]},
                reason=reason,
            )
    return removed
