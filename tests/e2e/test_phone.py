"""Every page on a phone, 390 × 844, for each role, against the simulator over HTTP.

The pages are the URL patterns themselves (``subscriptions/urls.py``), each ``<param>`` filled
with a real object, so a page added later is covered without touching this file; a GET that is
answered 405 (POST only), 403 (not for this role), a download or an HTML fragment is not a
page to look at. On each page, and in the states with content (the webhook table loaded, a
connection test finished, NetSuite's refusal shown, a staged certificate): nothing reaches past
the right edge (the page never scrolls sideways), the top bar wraps onto more rows instead,
label/value pairs stack, every table cell names its column (the rows are drawn as cards), and
axe-core finds nothing. Each page is photographed at 390 px and at 1280 px
(artifacts/screenshots/phone/).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent
from subscriptions.password_links import password_links
from tests import factories
from tests.e2e.conftest import assert_described_by_exists, axe_violations, settled

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The screens README.md shows (docs/screenshots/, copied from artifacts/screenshots/readme/):
# what a window of that width shows, scrolled to the element named, if any.
README_SHOTS = {
    "admin-list": (DESKTOP, None),
    "admin-detail": (DESKTOP, None),
    "admin-state-certificate-staged": (DESKTOP, "#certificates"),
    "admin-state-connection-test-passed": (PHONE, None),
    "support-webhooks": (PHONE, "#webhook-customer-245"),
    "admin-audit-list": (DESKTOP, None),
}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")

# What the page looks like from the right edge: the document's widths, and every element whose
# box ends past the visible width (the widest first), named by a CSS path to find it by.
MEASURE = """() => {
  const doc = document.documentElement;
  const visible = doc.clientWidth;
  const name = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + '#' + e.id); break; }
      if (e.classList.length) part += '.' + [...e.classList].join('.');
      const same = e.parentElement
        ? [...e.parentElement.children].filter(c => c.tagName === e.tagName) : [];
      if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(e) + 1) + ')';
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  // Past the edge: an element's box (the outermost one named: its children are past it
  // because it is), or content spilling out of a box that does not clip it (the innermost
  // one named: the text that does not wrap).
  const boxPast = new Set(), spills = [];
  // Inside a box that clips (overflow hidden, like a visually hidden table head) and itself
  // ends within the screen: nothing of it can be seen or scrolled to past the edge.
  const clipped = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const o = getComputedStyle(up).overflowX;
      if ((o === 'hidden' || o === 'clip') && up.getBoundingClientRect().right <= visible + 0.5) {
        return true;
      }
    }
    return false;
  };
  const over = [];
  for (const el of document.body.querySelectorAll('*')) {
    // Kept out of sight on purpose (for screen readers, or until focused).
    if (el.closest('.visually-hidden, .skip-link, [hidden]')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > visible + 0.5 && clipped(el)) continue;
    if (box.right > visible + 0.5) {
      boxPast.add(el);
      if (!boxPast.has(el.parentElement)) {
        over.push({element: name(el), right: Math.round(box.right), width: Math.round(box.width)});
      }
    } else if (getComputedStyle(el).overflowX === 'visible'
               && box.left + el.scrollWidth > visible + 0.5) {
      spills.push(el);
    }
  }
  for (const el of spills) {
    if (spills.some(other => other !== el && el.contains(other))) continue;
    if ([...boxPast].some(past => el.contains(past))) continue;
    const box = el.getBoundingClientRect();
    over.push({element: name(el), right: Math.round(box.left + el.scrollWidth),
               width: el.scrollWidth});
  }
  over.sort((a, b) => b.right - a.right || b.width - a.width);
  // The top bar's rows: a child starting below the lowest box of the row so far opens a row.
  let rows = 0, bottom = -Infinity;
  const bar = document.querySelector('header.topbar');
  const boxes = bar ? [...bar.children].map(c => c.getBoundingClientRect())
    .filter(b => b.height > 0).sort((a, b) => a.top - b.top) : [];
  for (const b of boxes) {
    if (b.top >= bottom - 1) { rows += 1; bottom = b.bottom; }
    else { bottom = Math.max(bottom, b.bottom); }
  }
  // A table row drawn as a card names each cell by its data-label (empty: the cell says it).
  const unlabelled = [...document.querySelectorAll('tbody td:not([data-label])')]
    .filter(td => td.colSpan < 2).map(name);
  // Label/value pairs stack: each value starts below its label, not beside it.
  const beside = [...document.querySelectorAll('dl.facts > dt')].filter(dt => {
    const dd = dt.nextElementSibling;
    return dd && dd.getBoundingClientRect().top < dt.getBoundingClientRect().bottom - 1;
  }).map(dt => dt.textContent.trim());
  return {visible, scroll: doc.scrollWidth, over: over.slice(0, 5), headerRows: rows,
          unlabelled: unlabelled.slice(0, 3), beside: beside.slice(0, 3)};
}"""




# --- the pages, from the URL patterns -----------------------------------------------------


# Unconfigured, /metrics is Django's 404 page: a scraper's endpoint, not a page to look at.
MACHINE_ENDPOINTS = {"metrics", "healthz", "readyz"}


def routes() -> list[tuple[str, str]]:
    """Every URL pattern as ``(route, a name for its page)``: the URL's name where it has one
    (unique, and the view's name), else the route."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                yield route, (pattern.name or slug(route)).replace("_", "-")

    return list(walk(get_resolver().url_patterns, ""))


def fill(route: str, values: dict) -> tuple[str, list[str]]:
    """The route with each parameter replaced by a real object's value, and the parameters
    this test has no object for. A ``pk`` is the object the route's first segment names
    (subscriptions/<pk>/, audit/<pk>/, people/<pk>/). A parameter without an object gets 0: a
    POST-only view answers 405 before it looks anything up (the method decorator comes first),
    so only a page shown on GET needs a real one."""
    missing = []

    def value(match):
        name = match.group(1)
        key = f"pk:{route.split('/')[0]}" if name == "pk" else name
        if key not in values:
            missing.append(name)
            return "0"
        return str(values[key])

    return "/" + PARAM.sub(value, route), missing


def slug(route: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", PARAM.sub("", route).lower()).strip("-") or "home"


@pytest.fixture
def world(sim, admin_user, support_user, auditor_user):
    """One of everything a page can show, made by the services against the simulator: a
    subscription with its active certificate, a passed connection test, an initialization job
    that ran (records stored), an inbound event, audit events, and the people."""
    from subscriptions.services import initialization, jobs
    from subscriptions.services.connection import connection_test_run
    from subscriptions.tasks import RUNNERS
    from tests.subscriptions.conftest import SimHelper

    subscription = SimHelper(sim).subscription("Acme Phone")
    certificate = subscription.certificates.get(status="active")
    test = connection_test_run(subscription=subscription, actor=COMMAND_LINE)
    job = initialization.initialization_start(
        subscription=subscription, types=["location"], actor=COMMAND_LINE
    )
    job = jobs.job_execute(job_id=job.pk, runners=RUNNERS, worker="test-phone")
    assert job.status == "succeeded", job.log
    factories.inbound_event(subscription, module="customer", event="created", external_id="107")
    person = support_user
    return {
        "subscription": subscription,
        "pk:subscriptions": subscription.pk,
        "pk:hooks": subscription.pk,
        "pk:audit": AuditEvent.objects.order_by("-id").values_list("pk", flat=True)[0],
        "pk:people": person.pk,
        "cert_pk": certificate.pk,
        "test_pk": test.pk,
        "job_pk": job.pk,
        "record_type": "location",
        # The simulator's first iPaaS Auth Details entry ("Production").
        "entry_id": "1",
        "uidb64": urlsafe_base64_encode(force_bytes(person.pk)),
        "token": password_links.make_token(person),
        # Pages that need a query: the revocation asked of the active certificate (refused).
        "query:certificate-revoke-confirm": f"certificate_id={subscription.certificate_id}",
    }


def pages_for(page, world) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``([(name, url) to look at], {url: why not})`` for the person logged in on ``page``.
    A URL that redirects (the landing page, ``/``) is looked at only where it leads to a page
    no route shows directly."""
    pages, skipped = [], {}
    for route, name in routes():
        url, missing = fill(route, world)
        if f"query:{name}" in world:
            url += "?" + world[f"query:{name}"]
        answer = page.request.get(url)
        kind = answer.headers.get("content-type", "")
        if name in MACHINE_ENDPOINTS:
            skipped[url] = "for a scraper or a probe, not a person"
        elif answer.status == 405:
            skipped[url] = "POST only"
        elif answer.status == 401 and "application/json" in kind:
            skipped[url] = "an API endpoint (a token, not a session)"
        elif missing:
            raise LookupError(
                f"GET {url} answered {answer.status}: test_phone.py has no object for "
                f"<{'>, <'.join(missing)}> of {route!r}; add one to world()"
            )
        elif answer.status == 403:
            skipped[url] = "not for this role"
        elif "attachment" in answer.headers.get("content-disposition", ""):
            skipped[url] = "a download"
        elif "text/html" not in kind:
            # Machine endpoints (/metrics, /readyz, the API) answer JSON or text, whatever
            # their status: nothing a person reads on a phone.
            skipped[url] = f"not a page ({answer.status} {kind})"
        elif answer.status != 200:
            pages.append((name, url, url))  # looked at anyway: the visit names the status
        elif not answer.text().lstrip().lower().startswith("<!doctype html"):
            skipped[url] = "an HTML fragment"
        else:
            pages.append((name, url, urlsplit(answer.url).path))
    direct = {url for _name, url, landed in pages if landed == url}
    shown = []
    for name, url, landed in pages:
        if landed != url and landed in direct:
            skipped[url] = f"redirects to {landed}"
        else:
            direct.add(landed)
            shown.append((name, url))
    return shown, skipped


# --- the checks -----------------------------------------------------------------------------


class Findings:
    """Every problem of every page, reported together at the end so one run shows them all."""

    def __init__(self, screenshot):
        self.problems: list[str] = []
        self.screenshot = screenshot
        self.looked_at: list[str] = []
        self.names: list[str] = []

    def check(self, page, name: str) -> None:
        """The page as it is now at 390 px: its width, the top bar, the facts, the table
        cells, axe-core; then its photographs at 390 and 1280 px (and README's, if it is one
        of them)."""
        where = f"{name} ({page.url})"
        self.looked_at.append(where)
        self.names.append(name)
        m = page.evaluate(MEASURE)
        if m["scroll"] > PHONE["width"] or m["scroll"] > m["visible"]:
            self.problems.append(
                f"{where}: scrolls sideways, scrollWidth {m['scroll']} > {m['visible']}"
            )
        for over in m["over"]:
            self.problems.append(
                f"{where}: {over['element']} ends at {over['right']} px "
                f"(width {over['width']}) past the visible {m['visible']} px"
            )
        for label in m["beside"]:
            self.problems.append(f"{where}: the value of {label!r} stands beside it, not below")
        for cell in m["unlabelled"]:
            self.problems.append(f"{where}: {cell} has no data-label (its column's name)")
        if m["headerRows"] < 2:
            self.problems.append(f"{where}: the top bar did not wrap ({m['headerRows']} row)")
        self.problems += [f"{where}: axe-core {v}" for v in axe_violations(page)]
        try:
            assert_described_by_exists(page)
        except AssertionError as exc:
            self.problems.append(f"{where}: {exc}")
        self.screenshot(page, f"phone/{name}")
        page.set_viewport_size(DESKTOP)
        self.screenshot(page, f"phone/{name}")
        if name in README_SHOTS:
            size, anchor = README_SHOTS[name]
            page.set_viewport_size(size)
            page.mouse.move(0, 0)  # no hover left on the button clicked last
            if anchor:
                page.locator(anchor).first.evaluate("el => el.scrollIntoView({block: 'start'})")
            self.screenshot(page, f"readme/{name}", full_page=False)
            page.evaluate("window.scrollTo(0, 0)")
        page.set_viewport_size(PHONE)

    def visit(self, page, role: str, name: str, url: str) -> None:
        answer = page.goto(url)
        if answer is None or answer.status != 200:
            self.problems.append(f"{role} GET {url}: answered {answer and answer.status}")
            return
        settled(page)
        self.check(page, f"{role}-{name}")

    def assert_none(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) on {len(self.looked_at)} pages and states at "
            f"390 px:\n" + "\n".join(self.problems)
        )


@pytest.fixture
def findings(screenshot):
    return Findings(screenshot)


def look_at_every_page(page, login, user, role, world, findings) -> dict[str, str]:
    page.set_viewport_size(PHONE)
    login(page, user)
    shown, skipped = pages_for(page, world)
    for name, url in shown:
        findings.visit(page, role, name, url)
    return skipped


# --- per role -------------------------------------------------------------------------------


def test_every_administrator_page_fits_a_phone(page, login, admin_user, world, sim, findings):
    subscription = world["subscription"]
    skipped = look_at_every_page(page, login, admin_user, "admin", world, findings)
    # The pages of a subscription's sections are among them, and POST-only views are not.
    for name in (
        "list",
        "detail",
        "webhooks",
        "certificates",
        "connection-tests",
        "auth-details",
        "subscription-jobs",
        "records",
        "job-detail",
        "audit-list",
        "audit-detail",
        "people",
        "edit",
        "delete",
    ):
        assert f"admin-{name}" in findings.names, name
    assert skipped[f"/subscriptions/{subscription.pk}/webhooks/toggle/"] == "POST only"

    base = f"/subscriptions/{subscription.pk}"
    # -- a connection test run from the page, finished ---------------------------------------
    page.goto(f"{base}/connection-tests/")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("Passed").wait_for()
    settled(page)
    findings.check(page, "admin-state-connection-test-passed")

    # -- a staged certificate, waiting for its Certificate ID --------------------------------
    page.goto(f"{base}/certificates/")
    page.locator("#certificates").get_by_role("button", name="Generate certificate").click()
    page.get_by_text("is staged").first.wait_for()
    settled(page)
    findings.check(page, "admin-state-certificate-staged")

    # -- the webhook table loaded, then NetSuite refusing to list it: the notice and hint ----
    page.goto(f"{base}/webhooks/")
    page.get_by_label("Customer create").wait_for()
    settled(page)
    findings.check(page, "admin-state-webhooks-loaded")
    sim.add_fault(kind="restlet", status=503, count=20)
    page.locator("#webhook-table").get_by_role("link", name="Refresh").click()
    page.locator("#webhook-table .notice").first.wait_for()
    settled(page)
    findings.check(page, "admin-state-webhooks-refused")
    sim.clear_faults()
    findings.assert_none()


def test_every_support_page_fits_a_phone(page, login, support_user, world, findings):
    look_at_every_page(page, login, support_user, "support", world, findings)
    findings.assert_none()
    assert "support-webhooks" in findings.names
    assert "support-people" not in findings.names


def test_every_auditor_page_fits_a_phone(page, login, auditor_user, world, findings):
    subscription = world["subscription"]
    look_at_every_page(page, login, auditor_user, "auditor", world, findings)
    assert "auditor-audit-list" in findings.names
    assert "auditor-people" not in findings.names

    # A read-only role asks for the webhook table.
    page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
    page.get_by_role("button", name="Show the webhook deployments from NetSuite").click()
    page.get_by_label("Customer create").wait_for()
    settled(page)
    findings.check(page, "auditor-state-webhooks-shown")
    findings.assert_none()


def test_the_measure_tells_a_page_that_does_not_fit(page, login, admin_user):
    """The checks can fail: a line that cannot wrap is named, and on a wide window (where
    nothing needs to wrap or stack) the top bar is one row and the facts stand beside their
    labels."""
    from subscriptions.actors import SYSTEM

    subscription, _key = factories.make_subscription(SYSTEM, name="Acme Measure")
    page.set_viewport_size(PHONE)
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/")
    fits = page.evaluate(MEASURE)
    assert (fits["over"], fits["beside"], fits["headerRows"] >= 2) == ([], [], True)
    page.evaluate(
        "() => { const d = document.createElement('p'); d.id = 'too-wide';"
        " d.className = 'nowrap'; d.textContent = 'W'.repeat(80);"
        " document.querySelector('main').append(d); }"
    )
    measured = page.evaluate(MEASURE)
    assert measured["scroll"] > PHONE["width"]
    assert measured["over"][0]["element"] == "p#too-wide"
    page.locator("#too-wide").evaluate("p => p.remove()")

    page.set_viewport_size(DESKTOP)
    wide = page.evaluate(MEASURE)
    assert wide["headerRows"] == 1
    assert wide["beside"][0] == "Name"
