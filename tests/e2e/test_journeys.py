"""Each role's journey through the dashboard in Chromium, against the simulator over HTTP and a
real ``db_worker`` process, with a screenshot of each screen in artifacts/screenshots/journeys/.

- The administrator creates the subscription from the seed's fields (every kind of bad input
  refused first, with nothing saved), rotates the certificate through NetSuite, passes the
  connection test and the setup check, takes Concurrent Connections from NetSuite's
  governance, points an Auth Details entry at this dashboard, initializes every type (the
  progress bar reaching 100 %), turns on inventory polling and invites a support person.
- The support person switches webhooks per module, sees the event NetSuite's user-event script
  sends, runs a manual sync and a connection test (also on a 390 px wide screen), and is
  offered nothing else: no control, and a crafted POST is answered 403.
- The auditor filters the trail to what the support person did, opens a diff, exports the CSV,
  verifies the chain from the page, and is refused every change the same way.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from netsuite import certificates as nscert
from netsuite.bundle import AUTH_DETAILS_RECORD
from subscriptions.actors import SYSTEM
from subscriptions.models import Role
from tests import factories
from tests.e2e.conftest import point_at_dashboard, settled
from tests.factories import pem_body_lines

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
SEED = {
    "name": "Oracle_NetSuite_Integration",
    "version": "v1.0",
    "inventory_search_days": "0",
    "environment": "Production",
}


def csrf_token(page) -> str:
    """The token htmx sends (the page's hx-headers): what a crafted request would use."""
    return page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")


def crafted_post(page, path: str, form: dict | None = None) -> int:
    """A POST the page does not offer, with the session and a valid CSRF token."""
    answer = page.request.post(
        path, form=form or {}, headers={"X-CSRFToken": csrf_token(page)}, max_redirects=0
    )
    return answer.status


def open_section(page, subscription, tab: str) -> None:
    """A section of the subscription's page through its tab, as a person gets there."""
    if f"/subscriptions/{subscription.pk}/" not in page.url:
        page.goto(f"/subscriptions/{subscription.pk}/")
    tabs = page.get_by_role("navigation", name="Subscription sections")
    tabs.get_by_role("link", name=tab, exact=True).click()
    expect(tabs.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")
    settled(page)


def auth_entry(sim, entry_id: str) -> dict:
    """An iPaaS Auth Details entry as the simulated NetSuite holds it."""
    with sim.state.lock:
        return dict(sim.state.accounts[ACCOUNT].records[AUTH_DETAILS_RECORD][entry_id])


def subscription_count() -> int:
    from subscriptions.models import Subscription

    return Subscription.objects.count()


@pytest.fixture
def response_bodies(page):
    """Every response body the browser received: pages, partials, JSON, CSV, files."""
    bodies = []

    def on_response(response):
        try:
            bodies.append(response.body().decode(errors="replace"))
        except Exception:  # noqa: BLE001 (a redirect has no body; one already gone is not kept)
            pass

    page.on("response", on_response)
    return bodies


def assert_no_token_or_webhook_key(bodies, sim, webhook_keys, shown: int = 0) -> None:
    """No access token the simulator issued in any body; each Webhook API Key in ``shown``
    bodies (the page that shows a new key once), no more."""
    with sim.state.lock:
        tokens = list(sim.state.tokens)
    assert tokens, "the journey got no access token to look for"
    text = "\n".join(bodies)
    for token in tokens:
        assert token not in text, "an access token reached the browser"
    for key in webhook_keys:
        assert sum(key in body for body in bodies) == shown, "the Webhook API Key was shown"


# --- the administrator -------------------------------------------------------------------


def fill_seed_form(
    page, *, consumer_id, account_id, key, certificate_id, name=SEED["name"], api_url=""
):
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Versions").select_option(SEED["version"])
    page.get_by_label("Inventory Search Days").fill(SEED["inventory_search_days"])
    page.get_by_label("Environment").select_option(SEED["environment"])
    page.get_by_label("Consumer ID").fill(consumer_id)
    page.get_by_label("Account ID").fill(account_id)
    page.get_by_label("Certificate Private Key").fill(key)
    page.get_by_label("Certificate ID").fill(certificate_id)
    page.get_by_label("API URL").fill(api_url)


def refused(page, message: str, before: int) -> None:
    """The form came back with ``message`` and nothing was saved."""
    page.get_by_role("button", name="Create subscription").click()
    expect(page.locator("main")).to_contain_text(message)
    expect(page.locator("main")).to_contain_text("Nothing was saved")
    assert subscription_count() == before


def test_administrator_journey(
    page, login, admin_user, sim, job_worker, axe, screenshot, mailoutbox, page_html_collector,
    response_bodies,
):
    from subscriptions.models import Subscription

    factories.make_subscription(SYSTEM, name="Acme Production")
    consumer_id = sim.create_integration(ACCOUNT)
    # As the seed's openssl command makes them: an RSA 3072 key and its certificate.
    key_pem, cert_pem = nscert.generate_key_and_certificate("rsa3072")
    certificate_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
    weak_key = factories.key_pem(factories.rsa_key(2048))
    before = subscription_count()

    login(page, admin_user)
    screenshot(page, "journeys/admin-01-subscriptions")
    page.get_by_role("link", name="New subscription").first.click()
    page.get_by_role("heading", name="New subscription").wait_for()

    # -- every kind of bad input is refused, and nothing is saved ---------------------------
    fill_seed_form(
        page,
        consumer_id=consumer_id,
        account_id="1234567 SB1",
        key=key_pem,
        certificate_id=certificate_id,
    )
    refused(page, "That is not a NetSuite Account ID", before)
    screenshot(page, "journeys/admin-02-bad-account-id")
    axe(page, "after a refused Account ID")
    # The key pasted with the refused form is kept, shown only by type and fingerprint.
    expect(page.locator("main")).to_contain_text("The key you pasted (RSA 3072")

    page.get_by_label("Account ID").fill(ACCOUNT)
    page.get_by_label("Certificate Private Key").fill(cert_pem)
    refused(page, "This is a certificate", before)
    page.get_by_label("Certificate Private Key").fill(weak_key)
    refused(page, "shorter than 3072 bits", before)
    screenshot(page, "journeys/admin-03-weak-key")

    page.get_by_label("Certificate Private Key").fill(key_pem)
    page.get_by_label("Name", exact=True).fill("ACME production")
    refused(page, "A subscription named “ACME production” already exists", before)
    page.get_by_label("Name", exact=True).fill(SEED["name"])
    page.get_by_label("API URL").fill(factories.api_url("7654321"))
    refused(page, f"The API URL for Account ID {ACCOUNT} must be", before)
    screenshot(page, "journeys/admin-04-foreign-api-url")

    page.get_by_label("API URL").fill("")
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("heading", name=SEED["name"]).wait_for()
    assert subscription_count() == before + 1
    subscription = Subscription.objects.get(name=SEED["name"])
    assert (
        subscription.version,
        subscription.inventory_search_days,
        subscription.environment,
        subscription.account_id,
        subscription.api_url,
    ) == ("v1.0", 0, "Production", ACCOUNT, factories.api_url(ACCOUNT))
    expect(page.locator("#new-webhook-key")).to_have_text(subscription.webhook_api_key)
    screenshot(page, "journeys/admin-05-created")

    # -- rotate the certificate through NetSuite's endpoint ----------------------------------
    open_section(page, subscription, "Certificate")
    certificates = page.locator("#certificates")
    certificates.get_by_role("link", name="Rotate through NetSuite").click()
    page.get_by_role("heading", name="Rotate the certificate through NetSuite?").wait_for()
    screenshot(page, "journeys/admin-06-rotate-confirm")
    certificates.get_by_label("Key type").select_option("ec-p256")
    certificates.get_by_role("button", name="Rotate now").click()
    page.get_by_text("Rotated through NetSuite").wait_for()
    settled(page)
    expect(page.locator("#rotation-steps > li .badge")).to_have_text(["done"] * 6)
    rotated = Subscription.objects.get(pk=subscription.pk)
    assert rotated.certificate_id != certificate_id
    assert rotated.private_key_fingerprint != subscription.private_key_fingerprint
    screenshot(page, "journeys/admin-07-rotated")

    # -- the connection test and the setup check pass -----------------------------------------
    open_section(page, subscription, "Connection")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("Passed").wait_for()
    settled(page)
    page.get_by_role("button", name="Run the setup check").click()
    expect(page.locator("#setup-check")).to_contain_text("Every prerequisite is in place")
    settled(page)
    axe(page, "after the connection test and the setup check")
    screenshot(page, "journeys/admin-08-connection-and-setup")

    # -- throttling from NetSuite's governance ------------------------------------------------
    sim.set_governance(ACCOUNT, account_limit=10, integration_limits={consumer_id: 4})
    open_section(page, subscription, "Governance")
    page.get_by_role("button", name="Detect from NetSuite").click()
    governance = page.locator("#governance")
    expect(governance).to_contain_text("Proposed Concurrent Connections")
    expect(governance.get_by_label("Concurrent Connections")).to_have_value("4")
    screenshot(page, "journeys/admin-09-governance-detected")
    governance.get_by_role("button", name="Apply").click()
    expect(page.locator("#governance")).to_contain_text("Concurrent Connections is now 4")
    assert Subscription.objects.get(pk=subscription.pk).concurrent_connections == 4

    # -- Auth Details: Production points at this dashboard, confirmed ---------------------------
    open_section(page, subscription, "Auth Details")
    production = page.locator("#auth-entry-1")
    production.get_by_role("button", name="Use this dashboard for Production").click()
    page.get_by_role("heading", name="Point Production at this dashboard?").wait_for()
    inbound = f"{page.url.split('/subscriptions/')[0]}/hooks/netsuite/{subscription.pk}/"
    expect(page.locator("#auth-entry-1 table")).to_contain_text(inbound)
    # Nothing is sent before the confirmation.
    assert auth_entry(sim, "1")["custrecord_otg_ipaas_webhook"] != inbound
    screenshot(page, "journeys/admin-10-use-dashboard-confirm")
    page.get_by_label("Type Production to confirm").fill("Production")
    page.get_by_role("button", name="Overwrite Production").click()
    expect(page.locator("#auth-entry-1")).to_contain_text(
        "Production: NetSuite now sends webhooks to this dashboard"
    )
    entry = auth_entry(sim, "1")
    assert entry["custrecord_otg_ipaas_webhook"] == inbound
    assert entry["custrecord_otg_ipaas_access_token"] == subscription.webhook_api_key

    # -- initialize every type: the progress bar reaches 100 % ----------------------------------
    # NetSuite answers the first page of each type slowly, so the page sees the job running.
    sim.add_fault(kind="suiteql", delay=3.0, count=4)
    open_section(page, subscription, "Jobs")
    page.get_by_role("button", name="Initialize all").click()
    expect(page.locator("#jobs")).to_contain_text("Initialization queued as job")
    page.locator("#jobs table.jobs").get_by_role("link").first.click()
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "running")
    screenshot(page, "journeys/admin-11-initializing")
    progress = page.locator(".job-progress progress")
    expect(progress).to_have_attribute("value", "100", timeout=60_000)
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")
    screenshot(page, "journeys/admin-12-initialized")
    axe(page, "a finished job")

    # -- inventory polling on a schedule, and a first poll now ---------------------------------
    open_section(page, subscription, "Jobs")
    polling = page.locator("#polling")
    polling.get_by_label("Poll inventory on a schedule").check()
    polling.get_by_label("Every (minutes)").fill("15")
    polling.get_by_role("button", name="Save polling settings").click()
    expect(page.locator("#polling")).to_contain_text("Inventory polling is on, every 15 minutes.")
    settled(page)
    stored = Subscription.objects.get(pk=subscription.pk)
    assert (stored.inventory_polling_enabled, stored.inventory_polling_minutes) == (True, 15)
    page.get_by_role("button", name="Poll inventory now").click()
    expect(page.locator("#jobs")).to_contain_text("Inventory poll queued as job")
    settled(page)
    with sim.state.lock:
        items = len(sim.state.accounts[ACCOUNT].records["inventoryitem"])
    # The poll's own page follows it to the end; the section then shows what it read.
    page.locator("#last-poll").get_by_role("link").click()
    expect(page.locator(".job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    open_section(page, subscription, "Jobs")
    last_poll = page.locator("#last-poll")
    expect(last_poll).to_contain_text("Succeeded")
    # One row for the items' names, one for their stock per location.
    expect(last_poll.locator("td[data-label=Part]")).to_have_text(["Items", "Stock levels"])
    expect(last_poll.locator("td[data-label=Read]").first).to_have_text(str(items))
    axe(page, "the Jobs section after a poll")
    screenshot(page, "journeys/admin-13-polling")

    # -- invite a support person ------------------------------------------------------------------
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username").fill("sue-support")
    page.get_by_label("Email address").fill("sue@example.com")
    page.get_by_label("Role").select_option(label="Support")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("main")).to_contain_text("sue-support")
    screenshot(page, "journeys/admin-14-invited")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["sue@example.com"]
    link = re.search(r"https?://\S+/people/set-password/\S+", mailoutbox[0].body).group(0)

    # The invited person sets a password from the link and logs in as Support.
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a long new password 9")
    page.get_by_label("New password confirmation").fill("a long new password 9")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("main")).to_contain_text("Your password is set. Log in with it.")
    page.get_by_label("Username").fill("sue-support")
    page.get_by_label("Password").fill("a long new password 9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/webhooks/")
    expect(page.locator("header")).to_contain_text("Support")

    # -- no secret reached any page ------------------------------------------------------------
    stored = Subscription.objects.get(pk=subscription.pk)
    html = "\n".join(page_html_collector)
    pasted = [key_pem, weak_key, stored.private_key]
    for secret in [line for pem in pasted for line in pem_body_lines(pem)]:
        assert secret not in html
    shown = [body for body in page_html_collector if stored.webhook_api_key in body]
    assert len(shown) == 1
    assert_no_token_or_webhook_key(response_bodies, sim, [stored.webhook_api_key], shown=1)


# --- support ---------------------------------------------------------------------------------


def journey_subscription(sim, live_url):
    """A working subscription whose Production entry points at this dashboard, as the
    administrator's journey leaves it (through the same service)."""
    from tests.subscriptions.conftest import SimHelper

    subscription = SimHelper(sim).subscription("Acme Journeys")
    point_at_dashboard(subscription, live_url)
    return subscription


def toggle(page, label: str) -> None:
    """Switch a webhook flag and wait for NetSuite's confirmation in its row."""
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url):
        page.get_by_label(label).click()
    settled(page)


# Changes a support person may not make: each URL with the form it would post.
def refused_changes(subscription) -> dict[str, dict]:
    pk = subscription.pk
    return {
        f"/subscriptions/{pk}/edit/": {"name": "Taken over"},
        f"/subscriptions/{pk}/delete/": {"confirm_name": subscription.name},
        f"/subscriptions/{pk}/webhook-key/": {},
        f"/subscriptions/{pk}/certificates/generate/": {"key_type": "ec-p256"},
        f"/subscriptions/{pk}/certificates/rotate/": {"key_type": "ec-p256"},
        f"/subscriptions/{pk}/governance/": {},
        f"/subscriptions/{pk}/governance/apply/": {"concurrent_connections": "1"},
        f"/subscriptions/{pk}/auth-details/1/": {"webhook_url": "https://evil.example/"},
        f"/subscriptions/{pk}/auth-details/1/use-dashboard/": {"confirmed": "1"},
        f"/subscriptions/{pk}/initialize/": {"type": "all"},
        "/people/invite/": {
            "username": "mallory",
            "email": "m@example.com",
            "role": Role.ADMINISTRATOR,
        },
    }


def test_support_journey(
    page, login, support_user, sim, live_url, axe, screenshot, response_bodies
):
    from subscriptions.models import AuditEvent, InboundEvent

    subscription = journey_subscription(sim, live_url)
    login(page, support_user)
    # Support lands where the daily work is: the webhooks of every subscription, each
    # linking to its Webhooks section.
    page.wait_for_url("**/webhooks/")
    page.get_by_role("link", name=subscription.name, exact=True).click()
    page.wait_for_url(f"**/subscriptions/{subscription.pk}/webhooks/")
    page.get_by_label("Customer create").wait_for()
    screenshot(page, "journeys/support-01-landing-webhooks")
    axe(page, "the webhook table")

    # -- webhooks per module: single flags, and one module all at once (confirmed) ----------
    toggle(page, "Customer create")
    expect(page.locator("#webhook-customer-245")).to_contain_text(f"set by {support_user.username}")
    toggle(page, "Customer update")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: "/webhooks/all/" in r.url):
        page.get_by_role("button", name="Enable all Location webhooks").click()
    settled(page)
    expect(page.locator("#webhook-table")).to_contain_text("NetSuite confirmed 1 deployment")
    flags = sim.webhook_flags(ACCOUNT)
    assert flags[245] == {"create": True, "update": True, "delete": False}
    assert flags[248] == {"create": True, "update": True, "delete": True}
    expect(page.get_by_label("Location delete")).to_be_checked()
    screenshot(page, "journeys/support-02-webhooks-set")

    # -- NetSuite's user-event script posts an event: it arrives --------------------------
    change = sim.change_record(ACCOUNT, "customer", "created", fields={"companyName": "Zed"})
    assert [d["status"] for d in change["deliveries"]] == [202], change
    customer_id = change["record_id"]
    open_section(page, subscription, "Events")
    row = page.locator("#event-results tbody tr").first
    expect(row).to_contain_text("customer")
    expect(row).to_contain_text(customer_id)
    assert InboundEvent.objects.get(subscription=subscription).external_id == customer_id
    screenshot(page, "journeys/support-03-event-arrived")

    # -- manual sync of that record ---------------------------------------------------------
    page.get_by_label("Module").first.select_option("customer")
    page.get_by_label("NetSuite internal ID").fill(customer_id)
    page.get_by_role("button", name="Fetch from NetSuite").click()
    expect(page.locator("#manual-sync")).to_contain_text(
        f"Customer {customer_id} as NetSuite returned it"
    )
    expect(page.locator("#manual-sync")).to_contain_text("Zed")
    settled(page)
    axe(page, "after a manual sync")
    screenshot(page, "journeys/support-04-manual-sync")

    # -- a connection test -----------------------------------------------------------------
    open_section(page, subscription, "Connection")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("Passed").wait_for()
    settled(page)
    screenshot(page, "journeys/support-05-connection-test")

    # -- the same on a phone: 390 px wide ---------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    open_section(page, subscription, "Webhooks")
    toggle(page, "Sales Order delete")
    assert sim.webhook_flags(ACCOUNT)[250]["delete"] is True
    screenshot(page, "journeys/support-06-phone-webhooks")
    axe(page, "the webhook table at 390 px")
    open_section(page, subscription, "Connection")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("Passed").wait_for()
    settled(page)
    # Nothing wider than the screen: no sideways scrolling of the page itself.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "journeys/support-07-phone-connection-test")
    page.set_viewport_size({"width": 1280, "height": 900})

    # -- everything else is refused: no control offered, and a crafted POST is a 403 ------
    page.goto(f"/subscriptions/{subscription.pk}/")
    main = page.locator("main")
    for name in ("Edit", "Delete", "Regenerate webhook key"):
        expect(main.get_by_role("link", name=name, exact=True)).to_have_count(0)
    nav = page.get_by_role("navigation", name="Subscription sections")
    expect(nav.get_by_role("link", name="Governance")).to_have_count(0)
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)
    for tab, absent in (
        ("Certificate", ["Rotate through NetSuite", "Generate", "Upload", "Activate"]),
        ("Auth Details", ["Use this dashboard", "Save"]),
        ("Jobs", ["Initialize", "Poll inventory now", "Save polling settings"]),
    ):
        open_section(page, subscription, tab)
        if tab == "Auth Details":
            ask = page.get_by_role("button", name="Show the entries from NetSuite")
            if ask.count():
                ask.click()
            page.locator("#auth-entry-1").wait_for()
        # By the start of their names ("Save Production", "Initialize Location", ...).
        for name in absent:
            expect(main.get_by_role("button", name=name)).to_have_count(0)
            expect(main.get_by_role("link", name=name)).to_have_count(0)
    screenshot(page, "journeys/support-08-auth-details-read-only")
    audited = AuditEvent.objects.count()
    for path, form in refused_changes(subscription).items():
        assert crafted_post(page, path, form) == 403, path
    assert AuditEvent.objects.count() == audited
    assert auth_entry(sim, "1")["custrecord_otg_ipaas_webhook"].endswith(
        f"/hooks/netsuite/{subscription.pk}/"
    )
    assert_no_token_or_webhook_key(response_bodies, sim, [subscription.webhook_api_key])


# --- the auditor -----------------------------------------------------------------------------


def support_day(subscription, support_user):
    """What the support journey leaves on the trail, done through the same services."""
    from subscriptions.services.connection import connection_test_run
    from subscriptions.services.webhooks import webhook_set_flag

    for flag in ("create", "update"):
        row = webhook_set_flag(
            subscription=subscription,
            scriptdeploymentid=245,
            flag=flag,
            value=True,
            actor=support_user,
        )
        assert row.problem is None, row.problem
    assert connection_test_run(subscription=subscription, actor=support_user).outcome == "passed"


def test_auditor_journey(
    page, login, auditor_user, support_user, sim, live_url, axe, screenshot, response_bodies
):
    from subscriptions.models import AuditEvent

    subscription = journey_subscription(sim, live_url)
    support_day(subscription, support_user)
    # Beside the set-up by the command line: another subscription, which the filter leaves out.
    factories.make_subscription(SYSTEM, name="Other Co")

    login(page, auditor_user)
    # Auditors land on the trail.
    page.wait_for_url("**/audit/")
    page.get_by_role("heading", name="Audit trail").wait_for()
    screenshot(page, "journeys/auditor-01-trail")

    # -- the trail filtered to the support person's day on that subscription ----------------
    page.get_by_label("Subscription").select_option(label=subscription.name)
    page.get_by_label("Person").fill(support_user.username)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"**person={support_user.username}*")
    rows = page.locator("#audit-results tbody tr")
    expected = AuditEvent.objects.filter(
        subscription_id=subscription.pk, actor_name=support_user.username
    )
    expect(rows).to_have_count(expected.count())
    assert AuditEvent.objects.count() > expected.count()
    for text in rows.all_inner_texts():
        assert support_user.username in text and subscription.name in text
    trail = page.locator("#audit-results").inner_text()
    assert "Webhook changed" in trail and "Connection test passed" in trail
    axe(page, "the filtered trail")
    screenshot(page, "journeys/auditor-02-filtered")

    # -- one change, field by field --------------------------------------------------------
    first_change = expected.filter(action="webhook.set").order_by("id").first()
    rows.filter(has_text="Webhook changed").last.get_by_role("link").click()
    page.get_by_role("heading", name=f"Audit event {first_change.pk}").wait_for()
    diff = page.get_by_label("Changes, field by field")
    expect(diff).to_contain_text("Customer create")
    expect(page.get_by_text("matches the content")).to_be_visible()
    axe(page, "an audit event's diff")
    screenshot(page, "journeys/auditor-03-diff")
    page.get_by_role("link", name="Back to the audit trail").click()
    # The way back keeps the filters.
    page.wait_for_url(f"**person={support_user.username}*")

    # -- the CSV of exactly those events -----------------------------------------------------
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert sorted(int(r["id"]) for r in exported) == sorted(e.pk for e in expected)
    assert {r["actor"] for r in exported} == {support_user.username}
    export = AuditEvent.objects.get(action="audit.exported")
    assert export.actor_name == auditor_user.username
    assert export.changes["filters"]["person"] == support_user.username

    # -- the chain verified from the page ----------------------------------------------------
    page.get_by_role("button", name="Verify the chain").click()
    result = page.locator("#audit-chain-result")
    expect(result).to_contain_text(
        f"The chain is intact: {AuditEvent.objects.count()} events checked"
    )
    settled(page)
    axe(page, "after verifying the chain")
    screenshot(page, "journeys/auditor-04-chain-verified")

    # -- every change refused: no control offered, and a crafted POST is a 403 ---------------
    page.goto(f"/subscriptions/{subscription.pk}/")
    main = page.locator("main")
    for name in ("Edit", "Delete"):
        expect(main.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    open_section(page, subscription, "Webhooks")
    ask = page.get_by_role("button", name="Show the webhook deployments from NetSuite")
    if ask.count():
        ask.click()
    expect(page.get_by_label("Customer create")).to_be_disabled()
    expect(
        main.get_by_role("button", name=re.compile("Enable all|Disable all|Re-apply"))
    ).to_have_count(0)
    open_section(page, subscription, "Connection")
    expect(main.get_by_role("button", name="Test connection")).to_have_count(0)
    expect(main.get_by_role("button", name="Run the setup check")).to_have_count(0)
    screenshot(page, "journeys/auditor-05-read-only")
    audited = AuditEvent.objects.count()
    pk = subscription.pk
    refusals = {
        **refused_changes(subscription),
        f"/subscriptions/{pk}/webhooks/toggle/": {
            "deployment": "245",
            "flag": "delete",
            "delete": "on",
        },
        f"/subscriptions/{pk}/webhooks/all/": {"enabled": "0", "confirmed": "1"},
        f"/subscriptions/{pk}/connection-test/": {},
        f"/subscriptions/{pk}/setup-check/": {},
        f"/subscriptions/{pk}/events/manual-sync/": {"module": "customer", "internal_id": "1"},
    }
    for path, form in refusals.items():
        assert crafted_post(page, path, form) == 403, path
    assert AuditEvent.objects.count() == audited
    assert sim.webhook_flags(ACCOUNT)[245] == {"create": True, "update": True, "delete": False}
    assert_no_token_or_webhook_key(response_bodies, sim, [subscription.webhook_api_key])
