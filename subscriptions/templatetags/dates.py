"""One way a page shows a moment: ``{{ value|when }}``.

Pages had five formats (with and without seconds or zone, Django's default, "3 minutes ago")
and none in the viewer's zone. Every date a template shows goes through this filter: the
moment in the viewer's zone (activated by ``viewer_zone.ViewerTimeZoneMiddleware``) as
``YYYY-MM-DD HH:MM`` and the zone's abbreviation, inside a ``<time>`` whose ``datetime`` is
the ISO 8601 UTC instant and whose ``title`` (shown on hover) is the same in UTC::

    <time datetime="2026-03-01T14:05:09Z" title="2026-03-01 14:05:09 UTC">
      2026-03-01 15:05 CET</time>    (on one line)

``{{ value|when:"text" }}`` is the visible part alone, for an attribute or a sentence that
cannot hold markup. Nothing (None, "") renders as "", so ``|default:"never"`` still applies.
A stored ISO string (a job's log line) is read as the moment it names. Registered as a
template builtin (settings.TEMPLATES), so no template has to load it.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

SHOWN = "%Y-%m-%d %H:%M"
IN_UTC = "%Y-%m-%d %H:%M:%S UTC"


def _moment(value) -> dt.datetime | dt.date | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        # Stored moments are aware (USE_TZ); a naive one can only be UTC.
        return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return value
    return None


def shown(value) -> str:
    """The visible text: ``YYYY-MM-DD HH:MM <zone>`` in the active zone (a date alone: the day)."""
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    if not isinstance(moment, dt.datetime):
        return moment.isoformat()
    local = timezone.localtime(moment)
    return f"{local:{SHOWN}} {local.tzname()}"


@register.filter
def when(value, arg: str = ""):
    """``<time>`` with the moment in the viewer's zone, the UTC instant in its title."""
    if arg == "text":
        return shown(value)
    moment = _moment(value)
    if moment is None:
        return shown(value)
    if not isinstance(moment, dt.datetime):
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), shown(moment))
    utc = moment.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.isoformat(timespec="seconds").replace("+00:00", "Z"),
        f"{utc:{IN_UTC}}",
        shown(moment),
    )
