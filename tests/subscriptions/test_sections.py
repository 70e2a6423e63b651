"""A subscription's sections: each a URL of its own for the roles that may use it (403 for the
others, whose tabs are hidden), the whole page without htmx and only the section for a tab's
htmx request; its History from the audit trail; each role's landing page after login; the list
sorted by health and by certificate expiry."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from netsuite import certificates as nscert
from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, ConnectionTest, Role
from tests import factories
from tests.factories import PASSWORD
from tests.html import forms, links, parse, table_rows

pytestmark = pytest.mark.django_db

ADMIN, SUPPORT, AUDITOR = Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR

# Tab label -> the URL name of its page; written out here, not read from the code's table.
SECTIONS = {
    "Overview": "detail",
    "Connection": "connection_tests",
    "Certificate": "certificates",
    "Webhooks": "webhooks",
    "Auth Details": "auth_details",
    "Governance": "governance",
    "Jobs": "subscription_jobs",
    "Inventory": "inventory",
    "Events": "events",
    "History": "subscription_history",
}
COMMON = ["Overview", "Connection", "Certificate", "Webhooks", "Auth Details"]
TABS = {
    ADMIN: [*COMMON, "Governance", "Jobs", "Inventory", "Events", "History"],
    SUPPORT: [*COMMON, "Jobs", "Inventory", "Events"],
    AUDITOR: [*COMMON, "History"],
}
# What a tab's click sends: htmx's boosted request aimed at the section.
TAB_REQUEST = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "subscription-section"}


@pytest.fixture
def clients(role_users, client_for):
    return {role: client_for(user) for role, user in role_users.items()}


@pytest.fixture
def subscription(netsuite_sim, ec_pair):
    return netsuite_sim.subscription(pair=ec_pair)


def make(actor, name, account_id):
    subscription, _key = factories.make_subscription(
        actor, name=name, account_id=account_id, api_url=factories.api_url(account_id)
    )
    return subscription


def section_url(label, subscription) -> str:
    return reverse(f"subscriptions:{SECTIONS[label]}", args=[subscription.pk])


def tab_nav(response):
    return parse(response).find("nav", aria_label="Subscription sections")


# --- each section, each role -------------------------------------------------------------------


@pytest.mark.parametrize("role", [ADMIN, SUPPORT, AUDITOR])
def test_each_section_answers_the_roles_allowed_and_403_the_others(subscription, clients, role):
    for label in SECTIONS:
        response = clients[role].get(section_url(label, subscription))
        expected = 200 if label in TABS[role] else 403
        assert response.status_code == expected, (role, label)


@pytest.mark.parametrize("role", [ADMIN, SUPPORT, AUDITOR])
def test_every_section_page_has_the_tabs_of_its_role_with_the_current_one_marked(
    subscription, clients, role
):
    for label in TABS[role]:
        url = section_url(label, subscription)
        response = clients[role].get(url)
        page = parse(response)
        assert page.find("h1").text == subscription.name
        nav = tab_nav(response)
        tabs = nav.find_all("a")
        assert [a.text for a in tabs] == TABS[role], label
        assert [a["href"] for a in tabs] == [section_url(t, subscription) for t in TABS[role]]
        assert [a.text for a in tabs if a.get("aria-current") == "page"] == [label]
        # Real links, swapped in by htmx: only the section, and the address bar follows.
        assert nav.get("hx-boost") == "true"
        assert nav.get("hx-target") == nav.get("hx-select") == "#subscription-section"
        assert page.by_id("section-heading").get("tabindex") == "-1"
        assert page.by_id("subscription-section").find(id="section-heading")


def test_edit_and_delete_are_on_every_section_for_administrators_only(subscription, clients):
    edit = reverse("subscriptions:edit", args=[subscription.pk])
    delete = reverse("subscriptions:delete", args=[subscription.pk])
    for label in TABS[ADMIN]:
        offered = links(clients[ADMIN].get(section_url(label, subscription)))
        assert (offered.get(edit), offered.get(delete)) == ("Edit", "Delete"), label
    for role in (SUPPORT, AUDITOR):
        for label in TABS[role]:
            offered = links(clients[role].get(section_url(label, subscription)))
            assert edit not in offered and delete not in offered, (role, label)


def test_a_tabs_htmx_request_gets_only_the_section_and_a_plain_one_the_whole_page(
    subscription, clients
):
    for label in TABS[ADMIN]:
        url = section_url(label, subscription)
        whole = clients[ADMIN].get(url).content.decode()
        assert "<html" in whole and 'class="page-head"' in whole, label
        part = clients[ADMIN].get(url, headers=TAB_REQUEST)
        html = part.content.decode()
        assert part.status_code == 200
        assert "<html" not in html and "<h1" not in html and "topbar" not in html, label
        assert html.lstrip().startswith("<title>") and subscription.name in html
        page = parse(part)
        (section,) = page.find_all(id="subscription-section")
        assert [a.text for a in tab_nav(part).find_all("a", aria_current="page")] == [label]
        assert section.find(id="section-heading").text, label


def test_a_boosted_request_aimed_elsewhere_gets_the_whole_page(subscription, clients):
    url = section_url("Overview", subscription)
    boosted = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main"}
    assert "<html" in clients[ADMIN].get(url, headers=boosted).content.decode()


def test_a_history_restore_gets_the_whole_page_not_a_partial(subscription, clients):
    # htmx reloads a page for the back button when it kept no copy (the key shown once).
    url = section_url("Certificate", subscription)
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    html = clients[ADMIN].get(url, headers=restore).content.decode()
    assert "<html" in html and 'id="subscription-section"' in html


def test_the_overview_keeps_the_key_shown_once_out_of_htmxs_history_copy(clients):
    posted = clients[ADMIN].post(reverse("subscriptions:create"), factories.create_form_data())
    page = parse(clients[ADMIN].get(posted["Location"]))
    shown = page.find(class_="secret-once")
    assert shown.get("hx-history") == "false" and shown.find(id="new-webhook-key")


def test_the_overview_sums_up_netsuite_from_local_data_and_leads_to_the_sections(
    subscription, clients, netsuite_sim
):
    netsuite_sim.sim.reset_stats()
    response = clients[SUPPORT].get(section_url("Overview", subscription))
    assert netsuite_sim.stats()["token_requests"] == 0
    assert sum(netsuite_sim.stats()["calls"].values()) == 0
    glance = parse(response).by_id("netsuite-actions")
    assert "Not tested" in glance.text and "days left" in glance.text
    offered = {a["href"]: a.text for a in glance.find_all("a", href=True)}
    assert offered == {
        section_url("Connection", subscription): "Connection",
        section_url("Certificate", subscription): "Certificate",
        section_url("Webhooks", subscription): "Webhooks",
    }
    assert "no flag set from here yet" in glance.text


def test_the_connection_section_has_the_test_the_setup_check_and_the_history(subscription, clients):
    url = section_url("Connection", subscription)
    test = reverse("subscriptions:connection_test", args=[subscription.pk])
    setup = reverse("subscriptions:setup_check", args=[subscription.pk])
    for role in (ADMIN, SUPPORT):
        response = clients[role].get(url)
        page = parse(response)
        assert page.by_id("netsuite-connection") and page.by_id("connection-history")
        posts = {f.action: f for f in forms(response) if f.method == "post"}
        # Without JavaScript the test comes back to this section.
        assert posts[test].fields["next"] == url
        assert setup in posts
    auditor = clients[AUDITOR].get(url)
    assert parse(auditor).by_id("connection-history")
    assert not [f.action for f in forms(auditor) if f.method == "post" and f.action != "/logout/"]


# --- History -----------------------------------------------------------------------------------


def test_history_lists_only_this_subscriptions_events_with_links_to_each(
    subscription, clients, admin_user
):
    other = make(admin_user, "Other one", "7654321")
    mine = set(
        AuditEvent.objects.filter(subscription_id=subscription.pk).values_list("pk", flat=True)
    )
    theirs = set(AuditEvent.objects.filter(subscription_id=other.pk).values_list("pk", flat=True))
    assert mine and theirs
    url = section_url("History", subscription)
    for role in (ADMIN, AUDITOR):
        response = clients[role].get(url)
        shown = {e.pk for e in response.context["page"].events}
        assert shown == mine, role
        details = [
            href for href in links(response) if href.startswith("/audit/") and "export" not in href
        ]
        for pk in mine:
            assert any(
                h.startswith(reverse("subscriptions:audit_detail", args=[pk])) for h in details
            )
        for pk in theirs:
            assert not any(
                h.startswith(reverse("subscriptions:audit_detail", args=[pk])) for h in details
            )
        # No subscription to choose: the filters are the trail's others, aimed at this section.
        (filters,) = [f for f in forms(response) if f.method == "get" and f.action == url]
        assert "subscription" not in filters.fields and "action" in filters.fields
    assert clients[SUPPORT].get(url).status_code == 403


def test_history_filters_in_place_and_exports_only_this_subscription(subscription, clients):
    url = section_url("History", subscription)
    created = {"action": "subscription.created"}
    response = clients[AUDITOR].get(url, created, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="audit-results">')
    events = response.context["page"].events
    assert [(e.action, e.subscription_id) for e in events] == [
        ("subscription.created", subscription.pk)
    ]
    (export,) = [f for f in forms(response) if f.action == reverse("subscriptions:audit_export")]
    assert export.fields["subscription"] == str(subscription.pk)
    assert export.fields["action"] == "subscription.created"
    # A subscription named in the query is not a way to read another one's history.
    elsewhere = clients[AUDITOR].get(url, {"subscription": "999999"})
    assert {e.subscription_id for e in elsewhere.context["page"].events} == {subscription.pk}


def test_the_audit_trail_keeps_its_subscription_filter(subscription, clients):
    trail = clients[AUDITOR].get(reverse("subscriptions:audit_list"))
    (filters,) = [f for f in forms(trail) if f.action == reverse("subscriptions:audit_list")]
    assert "subscription" in filters.fields


# --- landing after login -----------------------------------------------------------------------


def log_in(user, **data):
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.get_username(), "password": PASSWORD, **data}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client, response["Location"]


def landed(user, **data) -> str:
    """Where a login ends: the login's redirect, then the landing page's own."""
    client, location = log_in(user, **data)
    if location == reverse("subscriptions:landing"):
        second = client.get(location)
        assert second.status_code == 302
        location = second["Location"]
    return location


def test_each_role_lands_on_its_page(admin_user, support_user, auditor_user):
    assert landed(auditor_user) == reverse("subscriptions:audit_list")
    assert landed(admin_user) == reverse("subscriptions:list")
    # Support: the webhooks of every subscription, never one picked by its name.
    make(SYSTEM, "Zulu", "7654321")
    make(SYSTEM, "alpha", "1234567")
    assert landed(support_user) == reverse("subscriptions:webhooks_overview")


def test_an_explicit_next_is_honoured_and_no_other_site_is(auditor_user, support_user):
    make(SYSTEM, "Acme", "1234567")
    own = reverse("subscriptions:list") + "?q=Acme"
    assert landed(auditor_user, next=own) == own
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        assert landed(auditor_user, next=evil) == reverse("subscriptions:audit_list"), evil
    # The landing page takes a next as well, under the same rule.
    client, _ = log_in(support_user)
    landing = reverse("subscriptions:landing")
    assert client.get(landing, {"next": own})["Location"] == own
    assert client.get(landing, {"next": "https://evil.example/"})["Location"] == reverse(
        "subscriptions:webhooks_overview"
    )


def test_the_landing_page_needs_a_login(client):
    response = client.get(reverse("subscriptions:landing"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- the list: health, certificate expiry, the way to the Overview -----------------------------


def _finished_test(subscription, outcome, *, minutes_ago=5):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    steps = [
        {"key": "token", "label": "Token", "status": "ok" if outcome == "passed" else "failed"}
    ]
    return ConnectionTest.objects.create(
        subscription=subscription,
        outcome=outcome,
        steps=steps,
        actor_name="someone",
        started_at=at,
        finished_at=at,
    )


def _certificate(subscription, days):
    _key, pem = nscert.generate_key_and_certificate("ec-p256", days=days)
    return factories.active_certificate(subscription, pem, f"cert-{subscription.pk}")


@pytest.fixture
def four(admin_user):
    made = {}
    for name, account in (
        ("Alpha", "1000001"),
        ("Bravo", "1000002"),
        ("Charlie", "1000003"),
        ("Delta", "1000004"),
    ):
        made[name] = make(admin_user, name, account)
    _finished_test(made["Alpha"], "passed")
    _finished_test(made["Bravo"], "failed")
    # Charlie: interrupted (running, long ago), Delta: never tested.
    ConnectionTest.objects.create(
        subscription=made["Charlie"],
        actor_name="someone",
        started_at=timezone.now() - dt.timedelta(days=1),
    )
    _certificate(made["Alpha"], 300)
    _certificate(made["Bravo"], 20)
    _certificate(made["Delta"], 100)
    return made


def names(response) -> list[str]:
    return [row[0] for row in table_rows(response)]


def test_the_list_sorts_by_health_worst_first_and_back(admin_client_, four):
    LIST = reverse("subscriptions:list")
    assert names(admin_client_.get(LIST, {"sort": "health"})) == [
        "Bravo",
        "Charlie",
        "Delta",
        "Alpha",
    ]
    assert names(admin_client_.get(LIST, {"sort": "-health"})) == [
        "Alpha",
        "Delta",
        "Charlie",
        "Bravo",
    ]
    head = parse(admin_client_.get(LIST, {"sort": "health"})).find("th", aria_sort=True)
    assert head.get("aria-sort") == "ascending" and "Health" in head.text


def test_the_list_sorts_by_certificate_expiry_soonest_first_without_one_last(admin_client_, four):
    LIST = reverse("subscriptions:list")
    assert names(admin_client_.get(LIST, {"sort": "expiry"})) == [
        "Bravo",
        "Delta",
        "Alpha",
        "Charlie",
    ]
    assert names(admin_client_.get(LIST, {"sort": "-expiry"})) == [
        "Alpha",
        "Delta",
        "Bravo",
        "Charlie",
    ]
    page = admin_client_.get(LIST, {"sort": "-expiry", "q": "a"})
    head = parse(page).find("th", aria_sort=True)
    assert head.get("aria-sort") == "descending" and "Certificate expiry" in head.text
    assert "?q=a&sort=expiry" in links(page)


def test_each_row_leads_to_the_overview_and_sorting_costs_no_query_per_row(
    admin_client_, admin_user, four
):
    LIST = reverse("subscriptions:list")
    response = admin_client_.get(LIST, {"sort": "health"})
    offered = links(response)
    for name, subscription in four.items():
        assert offered[reverse("subscriptions:detail", args=[subscription.pk])] == name
    counts = []
    for sort in ("health", "expiry"):
        with CaptureQueriesContext(connection) as few:
            admin_client_.get(LIST, {"sort": sort})
        counts.append(len(few))
    for i in range(6):
        extra = make(admin_user, f"Extra {i}", f"20000{i:02d}")
        _finished_test(extra, "failed" if i % 2 else "passed")
        _certificate(extra, 30 + i)
    for sort, before in zip(("health", "expiry"), counts, strict=True):
        with CaptureQueriesContext(connection) as many:
            admin_client_.get(LIST, {"sort": sort})
        assert len(many) == before, sort
