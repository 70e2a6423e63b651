"""Dates in a real browser: the browser's own zone, one format, UTC on hover.

Chromium is told it is in Tokyo (UTC+09:00, no daylight saving, so the sum is fixed); the
page script puts that zone in the ``tz`` cookie at the login page, and every page after it,
whole or swapped in by htmx, shows each moment as ``YYYY-MM-DD HH:MM JST`` inside a
``<time>`` whose title is the same instant in UTC. No other date shape is left on the page.
"""

import datetime as dt
import re

import pytest

from tests.e2e.conftest import settled

pytestmark = pytest.mark.browser

ZONE = "Asia/Tokyo"
OFFSET = dt.timedelta(hours=9)
SHOWN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d JST$")
TITLE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
# Anything on the page that looks like a date, in any of the shapes pages used to have.
DATE_LIKE = re.compile(
    r"\d{4}-\d\d-\d\d|\b\d+ (?:second|minute|hour|day)s? ago\b|"
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
)

MOMENTS = """() => {
  const main = document.querySelector('main');
  const times = [...main.querySelectorAll('time')];
  // The page's text without its <time> elements: no date may be left outside them.
  const copy = main.cloneNode(true);
  copy.querySelectorAll('time, .visually-hidden').forEach(t => t.remove());
  return {
    times: times.map(t => ({datetime: t.getAttribute('datetime'), title: t.title,
                             text: t.textContent.trim()})),
    rest: copy.textContent,
  };
}"""


def check_moments(page, where: str) -> int:
    found = page.evaluate(MOMENTS)
    assert found["times"], f"no <time> on {where}"
    for moment in found["times"]:
        assert SHOWN.match(moment["text"]), (where, moment)
        assert TITLE.match(moment["title"]), (where, moment)
        instant = dt.datetime.fromisoformat(moment["datetime"])
        assert moment["title"] == f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        local = instant.astimezone(dt.UTC) + OFFSET
        assert moment["text"] == f"{local:%Y-%m-%d %H:%M} JST", (where, moment)
    stray = DATE_LIKE.findall(found["rest"])
    assert not stray, f"dates outside the one format on {where}: {stray}"
    return len(found["times"])


def test_every_moment_is_in_the_browsers_zone_with_utc_on_hover(
    page, login, admin_user, subscription, axe
):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    login(page, admin_user)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("tz") == ZONE

    page.goto(f"/subscriptions/{subscription.pk}/")
    overview = check_moments(page, "the Overview")
    assert overview >= 2  # created, updated (and the key's and the test's moments)
    first = page.locator("main time").first
    first.hover()
    assert TITLE.match(first.get_attribute("title"))

    # A section swapped in by htmx renders the same zone as a whole page.
    page.locator(".section-tabs").get_by_role("link", name="Certificate").click()
    page.get_by_role("heading", name="Certificate", exact=True).first.wait_for()
    settled(page)
    check_moments(page, "the Certificate section (htmx)")
    page.reload()
    check_moments(page, "the Certificate page (whole)")

    page.goto("/audit/")
    check_moments(page, "the audit trail")
    axe(page, "the audit trail in Tokyo time")
