"""Pages that stay true (issue 16, point 3), in Chromium against the simulator over HTTP.

An answer that changed a state other parts of the page show says so in ``HX-Trigger``
(views/htmx.py: jobs-changed, connection-tested, webhooks-changed, certificate-changed) and
those parts ask for themselves again, with no reload:

- Initialize all: when the job ends (its progress poll says jobs-changed) the Jobs section's
  buttons are enabled again, the counts and the recent jobs show the finished job, and focus
  stays where the person left it.
- A failed then a passing connection test: the history table and the health line follow
  each result (at 1280 and 390 px).
- A webhook toggle and a certificate activation: the answer names its event, and every place
  showing the flags or the Certificate ID (the Overview's facts and NetSuite summary, the
  Certificate section, support's webhooks page) shows the new state.

axe-core at zero violations in each state; the page fixture fails on any console error.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from netsuite.alternate_ids import ALTERNATE_ID_TYPES
from subscriptions.models import ConnectionTest, Job, Subscription, WebhookState
from tests.e2e.conftest import settled
from tests.subscriptions.conftest import SimHelper

pytestmark = pytest.mark.browser

COUNTS = {"customercategory": 30, "location": 20, "paymentmethod": 10, "shipitem": 10}


def mark_page(page) -> None:
    """A mark that a reload would wipe: the checks below prove the page was never reloaded."""
    page.evaluate("window.__stayedTrue = true")


def not_reloaded(page) -> None:
    assert page.evaluate("window.__stayedTrue === true"), "the page was reloaded"


def event_of(response) -> dict:
    return json.loads(response.headers.get("hx-trigger") or "{}")


def open_section(page, label: str) -> None:
    tabs = page.get_by_role("navigation", name="Subscription sections")
    tabs.get_by_role("link", name=label, exact=True).click()
    expect(tabs.get_by_role("link", name=label, exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    settled(page)


def test_initialize_all_the_section_shows_the_finished_job_without_reload(
    page, login, admin_user, sim, job_worker, axe
):
    sim.state.record_counts.update(COUNTS)
    sim.state.latency = 0.3
    subscription = SimHelper(sim).subscription("Acme Stays True", concurrent_connections=1)
    login(page, admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("subscriptions:subscription_jobs", args=[subscription.pk]))
    mark_page(page)
    jobs = page.locator("#jobs")
    initialize_all = jobs.get_by_role("button", name="Initialize all")

    initialize_all.click()
    expect(jobs).to_contain_text("Initialization queued as job")
    job = Job.objects.filter(subscription=subscription).latest("created_at")
    expect(initialize_all).to_be_disabled()
    expect(jobs.locator("#jobs-initialize")).to_contain_text(f"Job {job.pk} is")
    settled(page)
    # The person moves on inside the section: the refresh must not take the focus away.
    every_job = jobs.get_by_role("link", name="Every subscription's jobs")
    every_job.focus()

    with page.expect_response(
        lambda r: r.url.endswith(
            reverse("subscriptions:subscription_jobs", args=[subscription.pk])
        ) and r.request.method == "GET",
        timeout=90_000,
    ):
        pass
    settled(page)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    # Buttons, counts and the recent jobs follow the ended job, with no reload.
    expect(initialize_all).to_be_enabled()
    expect(jobs.get_by_role("button", name="Initialize Location")).to_be_enabled()
    expect(jobs.locator("#jobs-initialize")).not_to_contain_text(f"Job {job.pk} is")
    expect(jobs.locator('tr[data-type="location"] td').nth(1)).to_have_text(
        str(COUNTS["location"])
    )
    expect(jobs.locator(f"#job-{job.pk}-progress")).to_have_attribute("data-status", "succeeded")
    expect(jobs.locator("#jobs-announce")).to_have_text(f"Initialization job {job.pk}: succeeded.")
    expect(jobs.locator(f"#job-{job.pk}-progress")).to_contain_text(
        f"{sum(COUNTS.values()) + len(ALTERNATE_ID_TYPES)} records"
    )
    not_reloaded(page)
    assert page.evaluate("document.activeElement.textContent") == "Every subscription's jobs"
    axe(page, "the Jobs section after the job ended")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_failed_then_a_passing_test_update_the_history_and_the_health_line(
    page, login, admin_user, subscription, sim, axe, width
):
    login(page, admin_user)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(reverse("subscriptions:connection_tests", args=[subscription.pk]))
    mark_page(page)
    history = page.locator("#connection-history")
    expect(history).to_contain_text("No connection test yet.")
    expect(history).to_contain_text("Not tested")

    # NetSuite refuses the token: the test fails, and the history and health say so.
    sim.add_fault(kind="token", status=400, count=50,
                  body={"error": "invalid_client", "error_description": "simulated refusal"})
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-test")).to_contain_text("Failed")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr").first).to_contain_text("Failed")
    expect(history).not_to_contain_text("No connection test yet.")
    expect(history.locator("p").first).to_contain_text("Failing")
    settled(page)
    axe(page, f"a failed connection test at {width} px")

    # The cause is gone: a passing test, and the same places follow it.
    sim.clear_faults()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-test")).to_contain_text("Passed")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").first).to_contain_text("Passed")
    expect(history.locator("p").first).to_contain_text("Healthy")
    settled(page)
    not_reloaded(page)
    outcomes = list(
        ConnectionTest.objects.filter(subscription=subscription)
        .order_by("started_at").values_list("outcome", flat=True)
    )
    assert outcomes == [ConnectionTest.Outcome.FAILED, ConnectionTest.Outcome.PASSED]
    axe(page, f"a passing connection test after a failed one at {width} px")


def test_a_webhook_toggle_shows_everywhere_the_flags_are_shown(
    page, login, admin_user, subscription, axe
):
    login(page, admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    summary = page.locator('#netsuite-actions [data-fact="webhooks"]')
    expect(summary).to_contain_text("no flag set from here yet")

    open_section(page, "Webhooks")
    box = page.get_by_label("Customer create")
    box.wait_for()
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url) as answer:
        box.click()
    assert "webhooks-changed" in event_of(answer.value)
    settled(page)
    expect(page.get_by_label("Customer create")).to_be_checked()
    state = WebhookState.objects.get(subscription=subscription, create_enabled=True)

    # Back to the Overview (htmx's copy was dropped by the change): the summary is new.
    page.go_back()
    expect(summary).to_contain_text("1 flag on, on 1 deployment set from here")
    axe(page, "the Overview after a webhook toggle")
    # Support's page of every subscription's flags shows it too.
    page.goto(reverse("subscriptions:webhooks_overview"))
    row = page.locator("tr", has=page.locator(f"code:text-is('{state.scriptid}')"))
    expect(row.locator('td[data-label="Create"]')).to_have_text("On")


def test_activation_shows_the_new_certificate_id_everywhere(
    page, login, admin_user, subscription, axe
):
    old_id = subscription.certificate_id
    login(page, admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    facts = page.locator("#subscription-facts")
    expect(facts).to_contain_text(old_id)

    open_section(page, "Certificate")
    certificates = page.locator("#certificates")
    certificates.get_by_label("Key type").select_option("ec-p256")
    certificates.get_by_role("button", name="Generate certificate").click()
    expect(certificates).to_contain_text("is staged")
    settled(page)
    certificates.get_by_role("button", name="Register in the simulator").click()
    staged_test = certificates.get_by_role("button", name="Test with the staged certificate")
    expect(staged_test).to_be_visible()
    settled(page)
    staged_test.click()
    expect(page.locator("#staged-test")).to_contain_text("Passed")
    activate = page.locator("#certificates").get_by_role("button", name="Activate", exact=True)
    expect(activate).to_be_enabled()
    settled(page)
    activate.click()
    page.locator("#certificates").get_by_role("button", name="Activate now").wait_for()
    with page.expect_response(lambda r: "/activate/" in r.url) as answer:
        page.locator("#certificates").get_by_role("button", name="Activate now").click()
    assert "certificate-changed" in event_of(answer.value)
    expect(page.get_by_text("certificate is now active")).to_be_visible()
    settled(page)

    new_id = Subscription.objects.get(pk=subscription.pk).certificate_id
    assert new_id and new_id != old_id
    in_use = page.locator("#certificates").get_by_text("Certificate ID in use:")
    expect(in_use).to_contain_text(new_id)
    axe(page, "the Certificate section after the activation")

    # The Overview, by Back and by its tab: the facts and the NetSuite summary show the new one.
    page.go_back()
    expect(facts).to_contain_text(new_id)
    expect(facts).not_to_contain_text(old_id)
    open_section(page, "Certificate")
    open_section(page, "Overview")
    expect(page.locator("#subscription-facts")).to_contain_text(new_id)
    axe(page, "the Overview after the activation")
