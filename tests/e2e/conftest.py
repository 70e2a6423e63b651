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
    context.close()
    # A CSP violation or a script error is a real defect of the page, not noise.
    assert not errors, f"browser reported errors: {errors}"


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
