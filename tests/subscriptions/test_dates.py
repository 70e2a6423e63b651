"""One date format, in the viewer's time zone, with UTC on hover; exports stay UTC.

The filter (``templatetags/dates.py``'s ``when``) in a zone, the middleware that takes the
zone from the ``tz`` cookie and refuses anything that is not a tz database name, a page
rendered with the cookie (local time shown, UTC in the title), and the audit export, which
stays UTC ISO 8601 whatever the viewer's zone.
"""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, Subscription
from subscriptions.templatetags.dates import when
from subscriptions.viewer_zone import zone_named
from tests.factories import append_events, make_subscription
from tests.html import parse
from tests.subscriptions.test_audit_export import EXPORT, rows_of

MOMENT = dt.datetime(2026, 3, 1, 14, 5, 9, tzinfo=dt.UTC)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def test_the_filter_shows_the_moment_in_the_active_zone_with_utc_in_the_title():
    with timezone.override(PARIS):
        assert when(MOMENT) == (
            '<time datetime="2026-03-01T14:05:09Z" title="2026-03-01 14:05:09 UTC">'
            "2026-03-01 15:05 CET</time>"
        )
        summer = MOMENT.replace(month=7)
        assert when(summer).endswith(">2026-07-01 16:05 CEST</time>")
        assert when(MOMENT, "text") == "2026-03-01 15:05 CET"
    with timezone.override(KOLKATA):
        # The same instant from another zone: another day, the same datetime and title.
        late = MOMENT.replace(hour=20)
        assert when(late) == (
            '<time datetime="2026-03-01T20:05:09Z" title="2026-03-01 20:05:09 UTC">'
            "2026-03-02 01:35 IST</time>"
        )
    with timezone.override(dt.UTC):
        assert when(MOMENT, "text") == "2026-03-01 14:05 UTC"


def test_the_filter_reads_stored_iso_text_and_leaves_nothing_empty():
    with timezone.override(PARIS):
        # A job's log line keeps its moment as ISO text.
        assert when("2026-03-01T14:05:09+00:00") == when(MOMENT)
        assert when(None) == "" and when("") == ""
        assert when("not a moment") == "not a moment"
        assert when(dt.date(2026, 3, 1)) == '<time datetime="2026-03-01">2026-03-01</time>'


@pytest.mark.parametrize(
    "value",
    [
        "Mars/Olympus",
        "../../etc/localtime",
        "/usr/share/zoneinfo/UTC",
        "Europe/Paris\n",
        "europe/paris",
        "A" * 200,
        "",
    ],
)
def test_only_a_tz_database_name_is_a_zone(value):
    assert zone_named(value) is None


def test_a_tz_database_name_is_a_zone():
    assert zone_named("Europe/Paris") == PARIS
    assert zone_named("UTC") is not None


@pytest.fixture
def subscription():
    return make_subscription(COMMAND_LINE, name="Acme Zones")[0]


def overview_moments(client, subscription):
    response = client.get(reverse("subscriptions:detail", args=[subscription.pk]))
    assert response.status_code == 200
    return response, parse(response).find_all("time")


def test_a_page_rendered_with_the_tz_cookie_shows_local_time_with_utc_in_the_title(
    admin_client_, subscription
):
    admin_client_.cookies["tz"] = "Asia/Kolkata"
    response, moments = overview_moments(admin_client_, subscription)
    created = Subscription.objects.get(pk=subscription.pk).created_at
    utc = created.astimezone(dt.UTC)
    iso = utc.isoformat(timespec="seconds").replace("+00:00", "Z")
    shown = [m for m in moments if m.get("datetime") == iso]
    assert shown, f"no <time> for the subscription's creation in {moments}"
    local = created.astimezone(KOLKATA)
    assert shown[0].text == f"{local:%Y-%m-%d %H:%M} IST"
    assert shown[0]["title"] == f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    # Every moment on the page is in that one format and zone.
    assert moments and all(m.text.endswith(" IST") for m in moments)
    assert all(m["title"].endswith(" UTC") for m in moments if "T" in m["datetime"])


@pytest.mark.parametrize("cookie", [None, "Mars/Olympus", "../../etc/passwd", "UTC" * 30])
def test_without_a_valid_zone_the_page_says_utc(admin_client_, subscription, cookie):
    if cookie is not None:
        admin_client_.cookies["tz"] = cookie
    response, moments = overview_moments(admin_client_, subscription)
    assert moments
    for moment in moments:
        assert moment.text.endswith(" UTC"), moment.text
        utc_digits = moment["title"].removesuffix(" UTC")[:16]
        assert moment.text.startswith(utc_digits)
    # The zone was only for that request: nothing of it stays in the process.
    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()


def test_a_htmx_partial_renders_the_same_local_times(admin_client_, subscription, htmx_headers):
    admin_client_.cookies["tz"] = "Asia/Kolkata"
    url = reverse("subscriptions:audit_list")
    append_events([{"action": "test.zone", "subscription_id": subscription.pk}])
    page = parse(admin_client_.get(url))
    partial = parse(admin_client_.get(url, **htmx_headers))
    page_times = {(t["datetime"], t.text) for t in page.find_all("time")}
    partial_times = {(t["datetime"], t.text) for t in partial.find_all("time")}
    assert partial_times and partial_times <= page_times
    assert all(text.endswith(" IST") for _, text in partial_times)


def test_the_audit_export_stays_utc_iso_8601_in_any_zone(auditor_client):
    append_events([{"action": f"test.{i}"} for i in range(3)])
    auditor_client.cookies["tz"] = "Asia/Kolkata"
    _, rows = rows_of(auditor_client.post(EXPORT))
    header = rows[0]
    stamps = [row[header.index("created_at")] for row in rows[1:]]
    events = AuditEvent.objects.order_by("id")
    assert stamps == [e.created_at.astimezone(dt.UTC).isoformat() for e in events]
    assert stamps and all(s.endswith("+00:00") for s in stamps)
