"""The viewer's time zone: every page shows a moment in the zone of the browser looking at it.

Pages showed moments in five formats and in the server's zone only, so a person in Sydney
read the audit trail in UTC and did the sum in their head. The browser knows its zone
(``Intl.DateTimeFormat().resolvedOptions().timeZone``); ``static/js/app.js`` keeps it in the
``tz`` cookie and :class:`ViewerTimeZoneMiddleware` activates it for the request, so whole
pages and htmx partials render the same local times (``templatetags/dates.py``'s ``when``).

The cookie is the browser's word, so it is trusted only as the name of a zone in the tz
database: anything else (a typo, a path, a very long value) leaves the request in UTC, as the
first page a browser ever sees is before the script set the cookie. The server's own
``TIME_ZONE`` and what is stored (UTC) are untouched: exports, logs and the audit trail stay UTC.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from django.utils import timezone

COOKIE = "tz"
# The longest name in the tz database is 32 characters (America/Argentina/ComodRivadavia).
_LONGEST = 64


@cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: str | None) -> dt.tzinfo | None:
    """The zone of that tz database name, or None for anything that is not one."""
    if not name or len(name) > _LONGEST or name not in _known():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class ViewerTimeZoneMiddleware:
    """Activate the zone the ``tz`` cookie names for this request, UTC without a valid one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zone_named(request.COOKIES.get(COOKIE)) or dt.UTC)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
