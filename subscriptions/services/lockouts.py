"""Lifting a login lockout from the People page: an address locked by its own limit (password
spraying from it, or an office whose people mistyped often), or a person locked at one address.

The per-address lock used to be liftable only from a shell (axes' ``axes_reset_ip``), so an
office behind one address waited out the cool-off. Axes' own reset API clears its records, in
the transaction of the ``lockout.lifted`` event that names the address (and the person).
"""

from __future__ import annotations

import ipaddress

from axes.utils import reset as axes_reset
from django.db import transaction

from .. import audit
from ..actors import ActorLike
from .errors import InvalidInput

USERNAME_MAX_LENGTH = 150  # Django's User.username


def lockout_lift(
    *, address: str, actor: ActorLike, username: str = "", reason: str = ""
) -> int:
    """Clear axes' failed logins from ``address`` (of ``username`` alone when given); returns
    how many records were cleared, 0 (and nothing on record) when none were there."""
    address, username = (address or "").strip(), (username or "").strip()
    errors = {}
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        errors["address"] = "Enter the address as the lockout list shows it, like 192.0.2.10."
    if len(username) > USERNAME_MAX_LENGTH:
        errors["username"] = f"A username has at most {USERNAME_MAX_LENGTH} characters."
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        cleared = axes_reset(ip=address, username=username or None)
        if cleared:
            changes: dict = {"address": address}
            if username:
                changes["username"] = username
            changes["failed login records cleared"] = cleared
            audit.record(
                actor=actor,
                action="lockout.lifted",
                target_type="lockout",
                target_id=address,
                target_repr=f"{username} at {address}" if username else address,
                changes=changes,
                reason=reason,
            )
    return cleared
