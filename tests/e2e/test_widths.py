"""The Certificate section fits a phone (390 px) and a desktop window (1,280 px).

After a rotation through NetSuite (the steps name long Certificate IDs) the section reached
526-557 px on a phone, and after "Show the certificates NetSuite holds" 541 px, while that
table was 1,360 px wide at 1,280. In both states, at both widths: the page never scrolls
sideways (the document is no wider than the window) and every table of the section is no
wider than the box it sits in; axe-core finds nothing. Against the simulator over HTTP.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import settled

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)

# The document's width beside the window's, and each table of the section beside its box
# (the element it sits in), named by the nearest id.
MEASURE = """() => ({
  window: window.innerWidth,
  document: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll('#certificates table')].map(t => ({
    name: t.closest('[id]').id + ' ' + (t.querySelector('caption') || {}).textContent,
    width: Math.round(t.getBoundingClientRect().width),
    box: t.parentElement.clientWidth,
  })),
})"""


def assert_fits(page, axe, state: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        measured = page.evaluate(MEASURE)
        where = f"{state} at {width} px: {measured}"
        assert measured["window"] == width
        assert measured["document"] <= width, where
        for table in measured["tables"]:
            assert table["width"] <= table["box"], where
        axe(page, f"{state} at {width} px")


def test_the_certificate_section_fits_390_and_1280_px(page, login, admin_user, subscription, axe):
    from subscriptions.models import Certificate

    login(page, admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    page.locator("#certificates").get_by_role("link", name="Rotate through NetSuite").click()
    page.get_by_role("button", name="Rotate now").click()
    page.get_by_text("Rotated through NetSuite").wait_for()
    settled(page)
    expect(page.locator("#rotation-steps > li .badge-ok")).to_have_count(6)
    assert Certificate.objects.filter(subscription=subscription, status="retired").count() == 1
    assert_fits(page, axe, "after a rotation through NetSuite")

    page.get_by_role("button", name="Show the certificates NetSuite holds").click()
    table = page.locator("#netsuite-certificates table")
    table.wait_for()
    settled(page)
    expect(table.locator("tbody tr")).to_have_count(2)
    # Six columns: the ID, NetSuite's facts, the dates, ours, the drift, the action.
    expect(table.locator("thead th")).to_have_count(6)
    assert_fits(page, axe, 'after "Show the certificates NetSuite holds"')

    # A phone draws each row as a card: the cells stack, each named by its column.
    page.set_viewport_size({"width": 390, "height": 844})
    first = table.locator("tbody tr").first
    assert first.evaluate("r => getComputedStyle(r).display") == "flex"
    labels = first.locator("td").evaluate_all(
        "cells => cells.map(c => c.dataset.label).filter(Boolean)"
    )
    assert labels[:5] == ["Certificate ID", "In NetSuite", "Valid", "Here", "Differences"]
