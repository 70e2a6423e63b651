"""Jobs and inbound events in Chromium, with a real ``db_worker`` process on the live server's
database and the simulator over HTTP.

- An administrator initializes every type: the job's progress bar updates itself (htmx polls
  it) up to 100 %, the polling stops when the job ends, and the records page lists and
  searches what was stored.
- A running job is cancelled and stops; a failed one (NetSuite refused a page) is retried once
  the cause is gone and ends from its checkpoint.
- NetSuite posts a webhook event (real HTTP, the subscription's Webhook API Key): the Events
  section lists and filters it, and the webhook table shows when the module's last event came.
  The simulator playing the bundle's user-event script delivers one after a webhook is
  switched on, and Manual sync shows what NetSuite returns for that record.

axe-core checks each state on the way.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.urls import reverse
from playwright.sync_api import expect

from netsuite.alternate_ids import ALTERNATE_ID_TYPES
from subscriptions.models import Job, Record
from tests.e2e.conftest import point_at_dashboard, settled
from tests.subscriptions.conftest import SimHelper

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
COUNTS = {"customercategory": 2500, "location": 1500, "paymentmethod": 1200, "shipitem": 1100}


def jobs_section(subscription) -> str:
    return reverse("subscriptions:subscription_jobs", args=[subscription.pk])


def slow_subscription(sim, name: str, *, latency: float):
    """A subscription whose job is slow enough to watch: one connection, slow answers."""
    sim.state.record_counts.update(COUNTS)
    subscription = SimHelper(sim).subscription(name, concurrent_connections=1)
    sim.state.latency = latency
    return subscription


def start_initialization(page, subscription) -> Job:
    page.goto(jobs_section(subscription))
    page.get_by_role("button", name="Initialize all").click()
    expect(page.locator("#jobs")).to_contain_text("Initialization queued as job")
    settled(page)
    return Job.objects.filter(subscription=subscription).latest("created_at")


def job_requests(page, job) -> list[str]:
    """Every request the page makes for the job from now on."""
    seen: list[str] = []
    path = reverse("subscriptions:job_detail", args=[job.pk])
    page.on("request", lambda request: seen.append(request.url) if path in request.url else None)
    return seen


def test_initialize_all_progress_updates_itself_to_100_then_stops_polling(
    page, login, admin_user, sim, job_worker, axe
):
    subscription = slow_subscription(sim, "Acme Initialization", latency=0.6)
    login(page, admin_user)
    job = start_initialization(page, subscription)
    polls = job_requests(page, job)
    progress = page.locator(f"#job-{job.pk}-progress")
    bar = progress.locator("progress")

    # Part way: the page asked again by itself and the bar moved, with no reload.
    expect(bar).to_have_attribute("value", re.compile(r"^[1-9][0-9]?$"), timeout=30_000)
    expect(progress).to_have_attribute("data-status", "running")
    assert polls, "the bar moved without the page asking for the job's progress"
    axe(page, "a running initialization")

    expect(bar).to_have_attribute("value", "100", timeout=90_000)
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(progress).to_contain_text(f"{sum(COUNTS.values()) + len(ALTERNATE_ID_TYPES)} records")
    # The finished job's answer carries no trigger: nothing asks again.
    expect(progress).not_to_have_attribute("hx-trigger", re.compile(".*"))
    asked = len(polls)
    page.wait_for_timeout(3000)
    assert len(polls) == asked, polls[asked:]
    axe(page, "a finished initialization")

    # The records it stored, listed and searched.
    page.locator("#jobs table.data-types").get_by_role("link", name="Location").click()
    records = page.locator("#records")
    expect(page.locator("main")).to_contain_text(f"{COUNTS['location']} records.")
    page.get_by_label("Name or internal ID").fill("Location 1499")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("main")).to_contain_text("1 record matching “Location 1499”.")
    expect(records.locator("tbody tr")).to_have_count(1)
    expect(records.locator("tbody tr").first).to_contain_text("Location 1499")
    assert (
        Record.objects.filter(subscription=subscription, record_type="location").count()
        == (COUNTS["location"])
    )
    axe(page, "records searched")


def test_a_running_job_is_cancelled_and_a_failed_one_retried(
    page, login, admin_user, sim, job_worker, axe
):
    subscription = slow_subscription(sim, "Acme Cancel", latency=0.8)
    login(page, admin_user)
    job = start_initialization(page, subscription)
    page.goto(reverse("subscriptions:job_detail", args=[job.pk]))
    card = page.locator(f"#job-{job.pk}")
    expect(card.locator(".job-progress")).to_have_attribute(
        "data-status", "running", timeout=30_000
    )
    card.get_by_role("button", name="Cancel").click()
    expect(card).to_contain_text(f"Job {job.pk} cancelled.")
    expect(card.locator(".job-progress")).to_have_attribute("data-status", "cancelled")
    settled(page)
    axe(page, "a cancelled job")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # The worker stops at its next checkpoint: it writes nothing more to the job.
    stored = sum(len(t.get("pages") or []) for t in job.checkpoint.get("types", {}).values())
    page.wait_for_timeout(2500)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert sum(len(t.get("pages") or []) for t in job.checkpoint.get("types", {}).values()) == (
        stored
    )

    # A failed job: NetSuite refuses every page until the cause is gone.
    sim.state.latency = 0.05
    sim.add_fault(
        kind="suiteql",
        status=400,
        count=1000,
        body={
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "title": "Bad Request",
            "status": 400,
            "o:errorDetails": [
                {
                    "detail": "Search error occurred: simulated refusal.",
                    "o:errorCode": "INVALID_PARAMETER",
                }
            ],
        },
    )
    card.get_by_role("button", name="Retry").click()
    expect(card).to_contain_text(f"Job {job.pk} queued again.")
    expect(card.locator(".job-progress")).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(card.get_by_role("alert")).to_contain_text("What to do")
    axe(page, "a failed job")
    sim.clear_faults()
    card.get_by_role("button", name="Retry").click()
    expect(card.locator(".job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    expect(card.locator(".job-progress progress")).to_have_attribute("value", "100")
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 3
    for record_type, count in COUNTS.items():
        assert (
            Record.objects.filter(subscription=subscription, record_type=record_type).count()
            == count
        )
        assert job.counts[record_type]["created"] == count  # resumed, nothing twice
    axe(page, "a retried job that succeeded")


def post_event(live_url, subscription, key, scope, external_id) -> requests.Response:
    """What NetSuite's script does: a POST with the key as bearer token, no session."""
    with requests.Session() as session:
        session.trust_env = False
        return session.post(
            f"{live_url}/hooks/netsuite/{subscription.pk}/",
            json={"notifications": [{"scope": scope, "external_id": external_id}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
            allow_redirects=False,
        )


def last_event(page, module: str, event: str):
    """The webhook table's "last event received" of a module for one event."""
    return page.locator(f"[id^='webhook-{module}-'] .last-event[data-event='{event}']")


def test_webhook_events_arrive_are_filtered_and_show_in_the_webhook_table(
    page, login, support_user, sim, live_url, axe
):
    subscription = SimHelper(sim).subscription("Acme Events")
    key = subscription.webhook_api_key
    # A wrong key is refused before anything is read; the right one is accepted.
    refused = post_event(live_url, subscription, "not-the-key", "customer/updated", "1")
    assert refused.status_code == 401
    answer = post_event(live_url, subscription, key, "location/updated", "17")
    assert answer.status_code == 202 and answer.json() == {"accepted": 1}
    assert post_event(live_url, subscription, key, "customer/updated", "107").status_code == 202

    login(page, support_user)
    page.goto(reverse("subscriptions:events", args=[subscription.pk]))
    rows = page.locator("#event-results tbody tr")
    expect(rows).to_have_count(2)
    axe(page, "the events section")
    results = page.locator("#event-results")
    results.get_by_label("Module").select_option("location")
    results.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("17")
    expect(rows.first).to_contain_text("location/updated")
    assert "module=location" in page.url  # the filter is in the address, to share or reload
    axe(page, "the events filtered")

    # The webhook table: when each module's events last came, linked to them.
    page.goto(reverse("subscriptions:webhooks", args=[subscription.pk]))
    location_updated = last_event(page, "location", "updated")
    # The one date format (templatetags/dates.py), in the browser's zone.
    expect(location_updated.locator("time")).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \S+$")
    )
    expect(last_event(page, "location", "created")).to_contain_text("none yet")
    axe(page, "the webhook table with last events")
    location_updated.get_by_role("link").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#event-results").get_by_label("Event", exact=True)).to_have_value(
        "updated"
    )

    # NetSuite's user-event script: once Customer create is on, a new customer posts here.
    point_at_dashboard(subscription, live_url)
    page.goto(reverse("subscriptions:webhooks", args=[subscription.pk]))
    silent = sim.change_record(ACCOUNT, "customer", "created", fields={"companyName": "Before"})
    assert silent["enabled"] is False and silent["deliveries"] == []
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url):
        page.get_by_label("Customer create").click()
    settled(page)
    expect(page.get_by_label("Customer create")).to_be_checked()
    change = sim.change_record(ACCOUNT, "customer", "created", fields={"companyName": "Zed Co"})
    assert [d["status"] for d in change["deliveries"]] == [202], change
    customer_id = change["record_id"]
    page.reload()
    customer_created = last_event(page, "customer", "created")
    expect(customer_created.locator("time")).to_be_visible()
    customer_created.get_by_role("link").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(customer_id)
    expect(rows.first).to_contain_text("customer/created")
    axe(page, "an event the user-event script delivered")

    # Manual sync reads the record as NetSuite has it now, changed since the event came.
    sim.change_record(
        ACCOUNT,
        "customer",
        "updated",
        record_id=customer_id,
        fields={"companyName": "Zed Co Renamed"},
    )
    synced = manual_sync(page, "customer", customer_id)
    expect(synced.locator("h3")).to_have_text(f"Customer {customer_id} as NetSuite returned it")
    name_row = synced.locator("tr", has=page.locator("code", has_text="companyName"))
    expect(name_row.locator("td")).to_have_text("Zed Co Renamed")
    axe(page, "after a manual sync")


def manual_sync(page, module: str, internal_id: str):
    """Fetch one record through the Events section's Manual sync; the record it shows."""
    form = page.locator("#manual-sync")
    form.get_by_label("Module").select_option(module)
    form.get_by_label("NetSuite internal ID").fill(internal_id)
    form.get_by_role("button", name="Fetch from NetSuite").click()
    settled(page)
    return page.locator("#manual-sync .synced-record")
