"""Dead ends in the browser at 1280 px that had only Django-client tests: where keyboard focus
lands after a section updates in place, the Webhook API Key after creating a subscription and
a reload, the Certificate ID after activating a staged certificate (in the Certificate and the
Overview sections, also through the back button), a connection test left running, a value
NetSuite refused in the Auth Details, the subscription list at 1280 px with a long Certificate
ID, and a failed job's "What to do" as lists."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from netsuite import certificates as nscert
from tests.e2e.conftest import create_in_browser, settled

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
WIDE = {"width": 1280, "height": 800}
SANDBOX_URL = "https://stagingapi.ipaas.com/hookapi/v2/iPaaS1"
REFUSED_URL = "https://hooks.example.com/refused/"

# Where keyboard focus is: "BODY", or the id of the closest element with one, and its text.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {on: "BODY", region: null, text: ""};
  const region = el.closest("[id]");
  return {on: el.tagName, region: region && region.id, text: el.textContent.trim()};
}"""


def focus(page) -> dict:
    return page.evaluate(FOCUS)


def focus_inside(page, selector: str) -> bool:
    return page.evaluate(
        "s => { const r = document.querySelector(s); const a = document.activeElement;"
        " return !!r && !!a && a !== document.body && r.contains(a); }",
        selector,
    )


def tabs(page):
    return page.get_by_role("navigation", name="Subscription sections")


def open_section(page, label: str):
    tabs(page).get_by_role("link", name=label, exact=True).click()
    expect(tabs(page).get_by_role("link", name=label, exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    settled(page)


def overview_certificate_id(page):
    """The Certificate ID the Overview section's facts show."""
    return page.locator("#settings-heading + dl.facts dt:text-is('Certificate ID') + dd")


def stage_and_name(page, sim, subscription) -> str:
    """In the Certificate section: generate an EC certificate, "register" it in the simulator
    (what the person does in NetSuite) and save its Certificate ID; returns that ID."""
    certificates = page.locator("#certificates")
    certificates.get_by_label("Key type").select_option("ec-p256")
    certificates.get_by_role("button", name="Generate certificate").click()
    page.get_by_text("certificate is staged").wait_for()
    settled(page)
    with page.expect_download() as download:
        certificates.get_by_role("link", name="Download certificate").last.click()
    pem = open(download.value.path()).read()
    certificate_id = sim.register_certificate(ACCOUNT, subscription.consumer_id, pem)
    certificates.get_by_label("Certificate ID from NetSuite").fill(certificate_id)
    certificates.get_by_role("button", name="Save Certificate ID").click()
    page.get_by_text("Certificate ID saved").wait_for()
    settled(page)
    return certificate_id


# --- focus after a section updated in place, and the activated Certificate ID -------------


def test_activating_a_staged_certificate_keeps_focus_and_shows_the_new_id_everywhere(
    page, login, admin_user, subscription, sim, axe
):
    """Overview -> Certificate tab; stage, name, test and activate a new certificate. After
    each in-place update the keyboard focus is on the section's message or heading (not on
    the page's body); afterwards the Certificate and the Overview sections, reached by the tab
    or by the back button, show the new Certificate ID without a reload."""
    page.set_viewport_size(WIDE)
    old_id = subscription.certificate_id
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/")
    expect(overview_certificate_id(page)).to_contain_text(old_id)
    page.evaluate("window.__noReload = true")
    open_section(page, "Certificate")

    new_id = stage_and_name(page, sim, subscription)
    # "Save Certificate ID" was replaced with the section: focus is on its message.
    assert focus_inside(page, "#certificates .notice"), focus(page)
    expect(page.locator("#certificates .notice")).to_be_focused()
    expect(page.locator("#certificates .notice")).to_contain_text("Certificate ID saved")
    axe(page, "a Certificate ID saved, focus on its message")

    # The staged test finishing refreshes the section the person was in (its button gone):
    # focus stays in the section.
    page.get_by_role("button", name="Test with the staged certificate").click()
    page.locator("#staged-test").get_by_text("Passed").wait_for()
    activate = page.locator("#certificates").get_by_role("button", name="Activate", exact=True)
    expect(activate).to_be_enabled()
    settled(page)
    assert focus_inside(page, "#certificates"), focus(page)

    activate.click()
    confirm = page.locator("#certificates")
    confirm.get_by_role("heading", name="Activate the staged certificate?").wait_for()
    settled(page)
    # The confirmation step took the button's place: focus is on its heading.
    expect(confirm.get_by_role("heading", name="Activate the staged certificate?")).to_be_focused()
    axe(page, "the activation's confirmation, focus on its heading")

    confirm.get_by_role("button", name="Activate now").click()
    page.get_by_text("certificate is now active").wait_for()
    settled(page)
    assert focus_inside(page, "#certificates"), focus(page)
    expect(page.locator("#certificates .notice")).to_be_focused()
    expect(page.locator("#certificates .notice")).to_contain_text("certificate is now active")
    expect(page.locator("#certificates")).to_contain_text(f"Certificate ID in use: {new_id}")
    axe(page, "activated, focus on the message")
    # A keyboard user goes on from the message (Tab leaves it for the next control).
    page.keyboard.press("Tab")
    assert focus(page)["on"] != "BODY"

    # The Overview through the back button (htmx's copy of it was taken before the change).
    page.go_back()
    expect(tabs(page).get_by_role("link", name="Overview", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    settled(page)
    expect(overview_certificate_id(page)).to_contain_text(new_id)
    page.go_forward()
    settled(page)
    expect(page.locator("#certificates")).to_contain_text(f"Certificate ID in use: {new_id}")
    # And through the tab.
    open_section(page, "Overview")
    expect(overview_certificate_id(page)).to_contain_text(new_id)
    assert new_id != old_id
    assert page.evaluate("window.__noReload") is True, "no reload on the way"
    axe(page, "the Overview after the activation")


def test_focus_is_not_taken_from_where_the_person_moved_it(
    page, login, admin_user, subscription, sim
):
    """A slow answer does not pull the focus back when the person went elsewhere meanwhile."""
    page.set_viewport_size(WIDE)
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    held = []
    page.route("**/certificates/generate/", lambda route: held.append(route))
    certificates = page.locator("#certificates")
    certificates.get_by_label("Key type").select_option("ec-p256")
    certificates.get_by_role("button", name="Generate certificate").click()
    while not held:
        page.wait_for_timeout(50)
    # Meanwhile the person moved on, to a section tab.
    tabs(page).get_by_role("link", name="Webhooks", exact=True).focus()
    with page.expect_response(lambda r: "/certificates/generate/" in r.url):
        held[0].continue_()
    page.get_by_text("certificate is staged").wait_for()
    settled(page)
    expect(tabs(page).get_by_role("link", name="Webhooks", exact=True)).to_be_focused()


# --- the Webhook API Key after creating, and a reload -------------------------------------


def test_after_creating_the_address_is_the_subscription_and_a_reload_shows_no_key(
    page, login, admin_user, sim, axe
):
    from subscriptions.models import Subscription

    page.set_viewport_size(WIDE)
    consumer_id = sim.create_integration(ACCOUNT)
    key_pem, _cert = nscert.generate_key_and_certificate("ec-p256")
    login(page, admin_user)
    page.goto("/subscriptions/new/")
    create_in_browser(
        page, name="Acme Reload", consumer_id=consumer_id, account_id=ACCOUNT,
        key_pem=key_pem, certificate_id="cert-reload-1",
    )

    subscription = Subscription.objects.get(name="Acme Reload")
    key = subscription.webhook_api_key
    expect(page).to_have_url(re.compile(rf"/subscriptions/{subscription.pk}/$"))
    assert "/subscriptions/new/" not in page.url
    panel = page.locator("#webhook-key-panel")
    expect(panel).to_contain_text("shown only this once")
    expect(page.locator("#new-webhook-key")).to_have_text(key)
    axe(page, "the new subscription with its key shown once")

    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    response = page.reload()
    page.get_by_role("heading", name="Acme Reload").wait_for()
    assert response.request.method == "GET"
    assert not [m for m, url in requests if m != "GET"], requests
    assert Subscription.objects.filter(name="Acme Reload").count() == 1
    expect(page).to_have_url(re.compile(rf"/subscriptions/{subscription.pk}/$"))
    expect(page.locator("#new-webhook-key")).to_have_count(0)
    expect(panel).not_to_contain_text("shown only this once")
    expect(panel.locator(".badge")).to_have_text("set")
    assert key not in page.content()
    axe(page, "the subscription reloaded: the key's date, not the key")


# --- a connection test left running -------------------------------------------------------


def test_a_connection_test_left_past_the_bound_shows_interrupted(
    page, login, support_user, subscription, sim, settings, axe
):
    """The page running a test is left (here: its next step is held in the browser's network)
    longer than CONNECTION_TEST_STALE_SECONDS; when the step comes through, or the section is
    opened again, the test shows as interrupted and is not continued."""
    from subscriptions.models import ConnectionTest

    settings.CONNECTION_TEST_STALE_SECONDS = 60
    page.set_viewport_size(WIDE)
    login(page, support_user)
    page.goto(f"/subscriptions/{subscription.pk}/connection-tests/")
    held = []
    page.route("**/connection-test/*/next/", lambda route: held.append(route))
    page.get_by_role("button", name="Test connection").click()
    while not held:
        page.wait_for_timeout(50)
    test = ConnectionTest.objects.get(subscription=subscription)
    assert test.outcome == "running" and test.steps == []
    ConnectionTest.objects.filter(pk=test.pk).update(
        started_at=test.started_at - dt.timedelta(minutes=5)
    )
    sim.reset_stats()

    with page.expect_response(lambda r: "/next/" in r.url):
        held[0].continue_()
    result = page.locator("#connection-test")
    expect(result.locator(".badge").first).to_have_text("Interrupted")
    expect(result).to_contain_text("it will not finish")
    settled(page)
    page.wait_for_timeout(300)
    assert len(held) == 1, "no next step asked for"
    assert sim.stats()["requests"] == 0
    test.refresh_from_db()
    assert (test.outcome, test.steps) == ("running", [])
    axe(page, "an interrupted test where it ran")

    page.unroute("**/connection-test/*/next/")
    page.goto(f"/subscriptions/{subscription.pk}/connection-tests/")
    history = page.locator("#connection-history")
    expect(history.locator("p .badge")).to_have_text("Interrupted")
    expect(history.locator("tbody tr").first.locator(".badge").first).to_have_text("Interrupted")
    axe(page, "the Connection section with an interrupted test")
    page.goto("/subscriptions/")
    row = page.locator("#subscription-results tbody tr", has_text="Acme")
    expect(row.locator("td[data-label='Health']")).to_have_text("Interrupted")


# --- Auth Details: a value NetSuite refused -----------------------------------------------


def test_an_auth_details_value_netsuite_refused_is_not_shown_as_saved(
    page, login, admin_user, subscription, sim, axe
):
    page.set_viewport_size(WIDE)
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/auth-details/")
    sandbox = page.locator("#auth-entry-2")
    facts = sandbox.locator("dl.facts")
    expect(facts).to_contain_text(SANDBOX_URL)
    sim.add_fault(
        kind="record",
        method="PATCH",
        status=400,
        body={"o:errorDetails": [{"detail": "Invalid URL", "o:errorCode": "INVALID_FLD_VALUE"}]},
    )
    sandbox.get_by_label("Webhook URL").fill(REFUSED_URL)
    sandbox.get_by_role("button", name="Save Sandbox").click()
    expect(sandbox).to_contain_text("INVALID_FLD_VALUE")
    settled(page)
    sandbox = page.locator("#auth-entry-2")
    expect(sandbox.locator("dl.facts")).to_contain_text(SANDBOX_URL)
    expect(sandbox.locator("dl.facts")).not_to_contain_text(REFUSED_URL)
    expect(sandbox).not_to_contain_text("NetSuite accepted the change")
    # What was typed stays in the field to correct, not in the saved values.
    expect(sandbox.get_by_label("Webhook URL")).to_have_value(REFUSED_URL)
    assert focus_inside(page, "#auth-entry-2"), focus(page)
    axe(page, "a value NetSuite refused")
    with sim.state.lock:
        record = sim.state.accounts[ACCOUNT].records["customrecord_otg_ipaas_auth_details"]["2"]
        assert record["custrecord_otg_ipaas_webhook"] == SANDBOX_URL

    # The same page again (a reload) still shows NetSuite's value.
    page.reload()
    expect(page.locator("#auth-entry-2 dl.facts")).to_contain_text(SANDBOX_URL)
    expect(page.locator("#auth-entry-2 dl.facts")).not_to_contain_text(REFUSED_URL)

    # Accepted: the message has the focus (the Save button was replaced).
    sandbox = page.locator("#auth-entry-2")
    sandbox.get_by_label("Webhook URL").fill("https://hooks.example.com/accepted/")
    sandbox.get_by_role("button", name="Save Sandbox").click()
    page.get_by_text("Sandbox: NetSuite accepted the change.").wait_for()
    settled(page)
    expect(page.locator("#auth-entry-2 .notice")).to_be_focused()
    expect(page.locator("#auth-entry-2 dl.facts")).to_contain_text(
        "https://hooks.example.com/accepted/"
    )
    axe(page, "an Auth Details change accepted, focus on its message")


# --- the subscription list at 1280 px ------------------------------------------------------


def test_the_subscription_list_fits_1280_px_with_a_long_certificate_id(
    page, login, admin_user, subscription, axe, screenshot
):
    from subscriptions.actors import SYSTEM
    from subscriptions.models import MonitoringNotice, Subscription
    from tests import factories

    long_id = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v"
    assert len(long_id) == 43
    Subscription.objects.filter(pk=subscription.pk).update(certificate_id=long_id)
    # A busier row beside it: a long name, the same credentials, three open notices.
    other, _key = factories.make_subscription(
        SYSTEM,
        name="Acme Europe Warehouse Integration (Sandbox)",
        consumer_id=subscription.consumer_id,
        account_id=ACCOUNT,
        certificate_id=long_id[::-1],
        api_url=factories.api_url(ACCOUNT),
    )
    for kind, level, title in [
        ("certificate_expiry", "warn", "Certificate expires in 12 days"),
        ("connection_failing", "bad", "Connection failing since 2 tests"),
        ("connection_recovered", "ok", "Connection recovered"),
    ]:
        MonitoringNotice.objects.create(
            subscription=other, kind=kind, condition=kind, level=level, title=title,
            message=title,
        )
    page.set_viewport_size(WIDE)
    login(page, admin_user)
    page.goto("/subscriptions/")
    page.locator("#subscription-results table").wait_for()
    screenshot(page, "dead-ends/list-long-certificate-id", full_page=False)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the list is {width} px wide at 1280 px"
    updated = page.get_by_role("columnheader", name="Updated")
    expect(updated).to_be_in_viewport()
    box = updated.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    # The whole ID is still there for who needs it (its title), the cell shows its start.
    acme = page.get_by_role("link", name="Acme", exact=True)
    cell = page.locator("#subscription-results tbody tr", has=acme).locator(
        "td[data-label='Certificate ID'] [title]"
    )
    expect(cell).to_have_attribute("title", long_id)
    axe(page, "the list with a 43-character Certificate ID at 1280 px")


# --- a failed job's "What to do" ------------------------------------------------------------


def test_a_failed_jobs_what_to_do_is_a_list(page, login, admin_user, subscription, axe):
    from django.urls import reverse
    from django.utils import timezone

    from netsuite.errors import token_refusal_hint
    from subscriptions.models import Job
    from subscriptions.problems import Problem

    problem = Problem(
        "NetSuite refused the credentials.", code="invalid_grant", status=400,
        hint=token_refusal_hint(),
    )
    job = Job.objects.create(
        kind=Job.Kind.INITIALIZATION, subscription=subscription, status=Job.Status.FAILED,
        params={"types": ["customer"]}, attempts=1, actor_name=admin_user.username,
        started_at=timezone.now(), finished_at=timezone.now(), error=problem.as_dict(),
    )
    page.set_viewport_size(WIDE)
    login(page, admin_user)
    page.goto(reverse("subscriptions:job_detail", args=[job.pk]))
    alert = page.locator(f"#job-{job.pk}").get_by_role("alert")
    expect(alert).to_contain_text("NetSuite refused the credentials.")
    expect(alert).to_contain_text("invalid_grant")
    hint = alert.locator(".hint")
    expect(hint.locator(".hint-title")).to_have_text("What to do:")
    causes = hint.locator("ol > li")
    assert causes.count() >= 5
    expect(causes.first).to_contain_text("the Certificate ID is wrong")
    assert not any(text.startswith("(") for text in causes.all_inner_texts())
    expect(hint.locator("ul > li", has_text="Likely causes, in order:")).to_have_count(1)
    assert "(1)" not in alert.inner_text()
    expect(page.locator(f"#job-{job.pk}").get_by_role("button", name="Retry")).to_be_visible()
    axe(page, "a failed job's What to do as lists")
