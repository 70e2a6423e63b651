"""Browser tests: Playwright's Python API driving Debian's Chromium against a live server.

Never a downloaded browser: the executable is the `chromium` found on PATH. Without it the
tests skip, naming the package; under CI=true a missing Chromium fails the run instead.
"""

import os
import shutil

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
        lambda msg: errors.append(msg.text)
        if msg.type == "error" and "Content Security Policy" in msg.text
        else None,
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
        page.wait_for_url("**/subscriptions/**")

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
