"""Browser tests: Playwright's Python API driving Debian's Chromium against a live server.

Never a downloaded browser: the executable is the `chromium` found on PATH. Without it the
tests skip, naming the package; under CI=true a missing Chromium fails the run instead.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        message = (
            "Debian's Chromium is not installed: apt-get install chromium "
            "(browser tests use it through Playwright)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_url(live_server):
    return live_server.url


def settled(page) -> None:
    """Wait until htmx has no request, swap or settle in progress on the page."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def create_in_browser(page, *, name, consumer_id, account_id, key_pem, certificate_id):
    """Fill the new-subscription form's required fields, submit it and wait for the new
    subscription's page (the form is already open)."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Consumer ID").fill(consumer_id)
    page.get_by_label("Account ID").fill(account_id)
    page.get_by_label("Certificate Private Key").fill(key_pem)
    page.get_by_label("Certificate ID").fill(certificate_id)
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("heading", name=name).wait_for()


def point_at_dashboard(subscription, live_url: str):
    """Point the subscription's Production Auth Details entry at this live server, as an
    administrator's "Use this dashboard" does (through the same service)."""
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.services.auth_details import auth_details_use_dashboard

    return auth_details_use_dashboard(
        subscription=subscription,
        entry_id="1",
        confirm_name="Production",
        allow_http=True,
        inbound_url=f"{live_url}/hooks/netsuite/{subscription.pk}/",
        actor=COMMAND_LINE,
    )


def axe_violations(page) -> list[str]:
    """axe-core (bundled by axe-playwright-python, nothing fetched) on the page as it is now:
    one line per violated rule with the elements it found."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


def assert_accessible(page, state: str = "") -> None:
    """Fail on any axe-core violation of the page in its current state."""
    found = axe_violations(page)
    assert not found, f"axe-core on {page.url} {state}:\n" + "\n".join(found)


def assert_described_by_exists(page) -> None:
    """Every id an aria-describedby (or aria-labelledby, aria-controls) names is on the page."""
    missing = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby],[aria-labelledby]')]
            .flatMap(el => ['aria-describedby', 'aria-labelledby']
              .flatMap(a => (el.getAttribute(a) || '').split(/\\s+/).filter(Boolean))
              .filter(id => !document.getElementById(id))
              .map(id => (el.id || el.name || el.tagName) + ' -> ' + id))"""
    )
    assert not missing, f"ids named but absent on {page.url}: {missing}"


@pytest.fixture
def axe():
    """``axe(page, "after a failed post")``: no axe-core violation and no dangling
    aria-describedby in that state."""

    def check(page, state: str = "") -> None:
        assert_accessible(page, state)
        assert_described_by_exists(page)

    return check


@pytest.fixture
def page(browser, live_url):
    context = browser.new_context(base_url=live_url, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    # Every browser test ends with axe-core on the page it left: each page and state the
    # tests reach is checked at least there (tests call axe() on the states in between).
    final = []
    if page.url.startswith(live_url) and "text/html" in (
        page.evaluate("document.contentType") or ""
    ):
        final = axe_violations(page)
    context.close()
    # A CSP violation or a script error is a real defect of the page, not noise.
    assert not errors, f"browser reported errors: {errors}"
    assert not final, f"axe-core on {page.url} at the end of the test:\n" + "\n".join(final)


@pytest.fixture
def login():
    from tests.factories import PASSWORD

    def do_login(page, user):
        page.context.clear_cookies()
        page.goto("/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # Each role lands on its own page (views/landing.py): wait for leaving the login page.
        page.wait_for_url(lambda url: "/login/" not in url)

    return do_login


@pytest.fixture
def page_html_collector(page):
    """Every HTML body the browser received, to check that no secret reached a page."""
    bodies = []

    def on_response(response):
        if "text/html" in (response.headers.get("content-type") or ""):
            try:
                bodies.append(response.text())
            except Exception:  # noqa: BLE001 (a body already gone is simply not collected)
                pass

    page.on("response", on_response)
    return bodies


@pytest.fixture
def sim(settings):
    """A NetSuite simulator the live server talks to, in simulator mode (read timeout long
    enough for a loaded machine)."""
    from django.core.cache import cache

    from netsuite.simulator import Simulator
    from tests.factories import point_at_simulator

    simulator = Simulator(port=0).start()
    point_at_simulator(settings, simulator, NETSUITE_TIMEOUT_READ=5.0)
    cache.clear()
    yield simulator
    simulator.stop()
    cache.clear()


@pytest.fixture
def subscription(sim):
    """A subscription "Acme" on account 1234567, its EC certificate registered in ``sim``
    (every NetSuite action works), with the active Certificate row an upload here leaves."""
    from netsuite import certificates as nscert
    from subscriptions.actors import SYSTEM
    from tests import factories

    key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
    account = "1234567"
    consumer_id = sim.create_integration(account)
    certificate_id = sim.register_certificate(account, consumer_id, cert_pem)
    subscription, _key = factories.make_subscription(
        SYSTEM,
        name="Acme",
        consumer_id=consumer_id,
        account_id=account,
        certificate_id=certificate_id,
        api_url=factories.api_url(account),
        api_throttle_limit=1000,
        private_key=key_pem,
    )
    factories.active_certificate(subscription, cert_pem, certificate_id)
    return subscription


@pytest.fixture
def job_worker(live_server, sim, tmp_path):
    """A real ``manage.py db_worker`` process on the live server's database, talking to the
    ``sim`` simulator, for pages that start jobs; stopped (with its process group) after the
    test. Its caps and the live server's meet in the database store, the default."""
    from tests.processes import ProcessGroup, db_worker, django_env

    group = ProcessGroup(tmp_path / "worker-logs")
    env = django_env(
        NETSUITE_BASE_URL=sim.base_url,
        NETSUITE_SIMULATOR="1",
        NETSUITE_TIMEOUT_READ="5",
        JOB_HEARTBEAT_SECONDS="0.5",
    )
    group.start("db_worker", db_worker("e2e-worker"), env)
    try:
        yield group
    finally:
        group.stop()


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="session")
def screenshot():
    """``screenshot(page, "phone/admin-list")``: the whole page as it is now (or only what
    the window shows, ``full_page=False``), written to
    artifacts/screenshots/<name>-<viewport width>.png (git-ignored), for people to look at
    after a run; returns the file's path."""

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page)
        # A full-page screenshot leaves empty style attributes behind; htmx would copy them
        # onto swapped elements, which the page's CSP (no inline styles) then reports.
        page.evaluate(
            "document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))"
        )
        return path

    return take
