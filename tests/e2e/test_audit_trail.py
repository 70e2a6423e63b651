"""The auditor's page in a real browser: HTMX filters and pager without reloads, CSV download."""

import csv
import io

import pytest
from playwright.sync_api import expect

from subscriptions.models import AuditEvent
from tests.factories import append_events

pytestmark = pytest.mark.browser


def test_auditor_filters_pages_and_exports_without_a_full_reload(page, login, auditor_user):
    append_events(
        [{"action": "test.rare", "actor_name": "rita"} for _ in range(3)]
        + [{"action": "test.common", "actor_name": "carl"} for _ in range(70)]
    )
    login(page, auditor_user)  # an auditor's page after login is the trail
    page.wait_for_url("**/audit/")
    page.get_by_role("heading", name="Audit trail").wait_for()
    # A marker on the window survives HTMX swaps and disappears on a real navigation.
    page.evaluate("window.__noReload = true")

    rows = page.locator("#audit-results tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Older →").click()
    page.wait_for_url("**before=*")
    # 73 test events, the auditor's creation and login: 75, of which 50 were on page one.
    expect(rows).to_have_count(25)

    page.get_by_label("Action").select_option("test.rare")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**action=test.rare*")
    expect(rows).to_have_count(3)
    assert all("rita" in text for text in rows.all_inner_texts())
    assert page.evaluate("window.__noReload") is True

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    exported = download_info.value
    with open(exported.path(), encoding="utf-8") as handle:
        records = list(csv.DictReader(io.StringIO(handle.read())))
    assert [r["action"] for r in records] == ["test.rare"] * 3
    # The export form posted the applied filter, and the export is on record with it.
    exported_event = AuditEvent.objects.get(action="audit.exported")
    assert exported_event.changes == {"filters": {"action": "test.rare"}}
