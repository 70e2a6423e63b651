"""Login lockout limits for django-axes: one for a person at an address, a higher one for the
address alone; and who is locked out now (people and addresses), for the People page.

Axes counts failures per parameter set (AXES_LOCKOUT_PARAMETERS) but compares the largest
count with a single AXES_FAILURE_LIMIT, which may be a callable. With one limit either a
shared office address would be locked after a handful of typos by different people, or a
password sprayer would get as many tries per address as one person gets per account. This
callable gives each its own: the person's limit once that person has reached it from this
address, the address's higher limit otherwise.
"""

import datetime
from dataclasses import dataclass

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone


def recent_attempts(request=None) -> QuerySet:
    """Axes' failure records that still count (within the cool-off time)."""
    attempts = AccessAttempt.objects.all()
    cool_off = get_cool_off(request)
    if cool_off is not None:
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    return attempts


def failure_limit(request, credentials=None) -> int:
    per_person = settings.LOGIN_FAILURE_LIMIT
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    failures = (
        recent_attempts(request)
        .filter(username=get_client_username(request, credentials), ip_address=address)
        .aggregate(total=Sum("failures_since_start"))["total"]
        or 0
    )
    # Axes locks when its largest count (the address's, which includes this person's) reaches
    # the limit returned here.
    return per_person if failures >= per_person else settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS


def locked_usernames() -> set[str]:
    """Usernames locked out from at least one address by the per-person limit: one query."""
    rows = (
        recent_attempts()
        .exclude(username=None)
        .values("username", "ip_address")
        .annotate(total=Sum("failures_since_start"))
        .filter(total__gte=settings.LOGIN_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )
    return set(rows)


@dataclass(frozen=True)
class Lockout:
    """One lockout in force: an address locked for every username (``username`` None) by its
    own limit, or a person locked at one address by theirs."""

    address: str
    username: str | None
    failures: int
    last_at: datetime.datetime

    @property
    def until(self) -> datetime.datetime | None:
        cool_off = get_cool_off()
        return self.last_at + cool_off if cool_off is not None else None


def current_lockouts() -> list[Lockout]:
    """Every lockout in force now, addresses first, from axes' records (AccessAttempt: the
    database handler, settings' default): two queries."""
    attempts = recent_attempts().exclude(ip_address=None)
    addresses = (
        attempts.values("ip_address")
        .annotate(total=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(total__gte=settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)
        .order_by("ip_address")
    )
    found = [Lockout(row["ip_address"], None, row["total"], row["last"]) for row in addresses]
    locked = {lockout.address for lockout in found}
    people = (
        attempts.exclude(username=None)
        .values("username", "ip_address")
        .annotate(total=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(total__gte=settings.LOGIN_FAILURE_LIMIT)
        .order_by("ip_address", "username")
    )
    found += [
        Lockout(row["ip_address"], row["username"], row["total"], row["last"])
        for row in people
        # Already locked for everyone there: lifting the address lifts them too.
        if row["ip_address"] not in locked
    ]
    return found
