"""The first run, in a real browser at 1280 and 390 px, with no file from outside: a new
subscription from Name, Account ID and Consumer ID alone, "Set-up not finished" on the list,
its key and certificate generated in the dashboard, the certificate registered in the
simulator (downloaded and uploaded there as an admin does in NetSuite, then its Certificate ID
pasted; or the "Register in the simulator" shortcut), the connection test passed, the setup
check run, and the Overview's checklist reaching complete. axe-core finds nothing in each
state; no console error. At 1280 px the checklist is photographed for the README.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from netsuite.simulator.admin import SimulatorAdmin
from subscriptions.models import Certificate, ConnectionTest, Subscription
from tests.e2e.conftest import settled

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "checklist.png"


@pytest.fixture
def console_errors(page):
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    return seen


def progress_text(page) -> str:
    return page.locator("#setup-progress-text").inner_text()


def open_section(page, name: str) -> None:
    page.locator("#subscription-section nav").get_by_role("link", name=name, exact=True).click()
    page.get_by_role("heading", name=name, exact=True).wait_for()
    settled(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_subscription_set_up_from_nothing_in_the_dashboard(
    page, login, admin_user, sim, axe, console_errors, width
):
    page.set_viewport_size({"width": width, "height": 900})
    # The integration record made in NetSuite (Setup > Integration > Manage Integrations).
    consumer_id = sim.create_integration(ACCOUNT)
    name = f"First run {width}"
    login(page, admin_user)

    page.goto(reverse("subscriptions:create"))
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Account ID").fill(ACCOUNT)
    page.get_by_label("Consumer ID").fill(consumer_id)
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("heading", name=name).wait_for()
    subscription = Subscription.objects.get(name=name)
    assert subscription.private_key_fingerprint == "" and subscription.certificate_id == ""
    expect(page.locator("#setup-progress-text")).to_have_text("1 of 5 done")
    expect(page.locator("#setup-not-ready")).to_contain_text("no key and certificate yet")
    axe(page, "a new subscription's checklist")

    # The list says it is not finished.
    page.goto(reverse("subscriptions:list"))
    row = page.locator("tr", has_text=name)
    expect(row.get_by_text("Set-up not finished")).to_be_visible()
    axe(page, "the list with a subscription not set up")

    # The Connection section refuses to test, saying why.
    page.goto(reverse("subscriptions:connection_tests", args=[subscription.pk]))
    expect(page.get_by_role("button", name="Test connection")).to_be_disabled()
    expect(page.locator("#connection-not-ready")).to_contain_text("Set-up not finished")

    # Step 2: generate the key and certificate here.
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    page.get_by_role("link", name="Generate it in the Certificate section").click()
    page.get_by_role("button", name="Generate certificate").wait_for()
    page.get_by_label("Key type").select_option("ec-p256")
    page.get_by_role("button", name="Generate certificate").click()
    expect(page.locator("#first-certificate")).to_be_visible()
    settled(page)
    cert = Certificate.objects.get(subscription=subscription)
    assert cert.status == Certificate.Status.ACTIVE
    axe(page, "the first certificate waiting for its Certificate ID")

    if width == 1280:
        # As an admin does in NetSuite: download the certificate, upload it there, paste the ID.
        with page.expect_download() as download:
            page.locator("#first-certificate").get_by_role(
                "link", name="Download certificate"
            ).click()
        pem = Path(download.value.path()).read_text()
        with SimulatorAdmin(sim.base_url) as admin:
            certificate_id = admin.register_certificate(ACCOUNT, consumer_id, pem)
        page.get_by_label("Certificate ID from NetSuite").fill(certificate_id)
        page.get_by_role("button", name="Save Certificate ID").click()
    else:
        # The simulator's shortcut for the NetSuite step.
        page.get_by_role("button", name="Register in the simulator").click()
    expect(page.locator("#certificates .msg-success")).to_contain_text("Now test the connection")
    settled(page)
    subscription.refresh_from_db()
    assert subscription.certificate_id
    axe(page, "the Certificate ID saved")

    # Step 4: the connection test passes.
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    expect(page.locator("#setup-progress-text")).to_have_text("3 of 5 done")
    page.get_by_role("link", name="Test it in the Connection section").click()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-test")).to_contain_text("Passed", timeout=30_000)
    settled(page)
    assert ConnectionTest.objects.get(subscription=subscription).outcome == "passed"

    # Step 5: the setup check finds the bundle's pieces.
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    expect(page.locator("#setup-progress-text")).to_have_text("4 of 5 done")
    if width == 1280:
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator("#setup-checklist").screenshot(path=str(README_SCREENSHOT))
    axe(page, "the checklist four steps in")
    page.get_by_role("link", name="Run the setup check").click()
    page.get_by_role("button", name="Run the setup check").click()
    settled(page)

    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    expect(page.locator("#setup-progress-text")).to_have_text("5 of 5 done")
    expect(page.locator("#setup-checklist")).to_have_attribute("data-complete", "true")
    axe(page, "the checklist complete")
    page.goto(reverse("subscriptions:list"))
    expect(page.locator("tr", has_text=name).get_by_text("Healthy")).to_be_visible()
    assert not console_errors, console_errors
