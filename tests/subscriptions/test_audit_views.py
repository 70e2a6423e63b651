"""The auditor's pages: who may see them, filters, keyset pages, HTMX partial, event detail."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscriptions.models import AuditEvent, Role
from tests.factories import append_events, scrambled_times
from tests.html import ids, links, parse, urls

LIST = reverse("subscriptions:audit_list")


def walk(client, query="", direction="before", first_url=None):
    """Follow the pager from the first page to the end; return the ids per page."""
    pages = []
    url = first_url or f"{LIST}?{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        pages.append([e.pk for e in page.events])
        pager = [href for href in links(response) if href.startswith("?") and
                 any(part.startswith(f"{direction}=") for part in href[1:].split("&"))]
        url = f"{LIST}{pager[0]}" if pager else None
    return pages


# Who may see what -------------------------------------------------------------------------


@pytest.fixture
def event(admin_user):
    return append_events([{"action": "subscription.updated", "actor_name": "alice-admin"}])[0]


@pytest.mark.parametrize(
    "role, expected",
    [(Role.ADMINISTRATOR, 200), (Role.AUDITOR, 200), (Role.SUPPORT, 403), (None, 302)],
)
@pytest.mark.parametrize("view", ["audit_list", "audit_detail", "audit_export"])
def test_role_matrix(role, expected, view, role_users, client, client_for, event):
    args = [event.pk] if view == "audit_detail" else []
    url = reverse(f"subscriptions:{view}", args=args)
    web = client_for(role_users[role]) if role else client
    before = AuditEvent.objects.count()
    # The export is a POST (it writes an event); the pages are GETs.
    response = web.post(url) if view == "audit_export" else web.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))
    exported = AuditEvent.objects.filter(action="audit.exported").count()
    assert exported == (1 if view == "audit_export" and expected == 200 else 0)
    if expected != 200:
        assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "view, method",
    [("audit_list", "post"), ("audit_detail", "post"), ("audit_export", "get")],
)
def test_the_wrong_method_on_audit_pages_changes_nothing(
    view, method, support_client, auditor_client, event
):
    args = [event.pk] if view == "audit_detail" else []
    url = reverse(f"subscriptions:{view}", args=args)
    before = list(AuditEvent.objects.values_list("id", "hash"))
    # Every view checks the method before the permission: a wrong one is refused as such, by
    # whoever sends it; the right one without the permission is the 403 (tested above).
    assert getattr(support_client, method)(url, {"reason": "x"}).status_code == 405
    assert getattr(auditor_client, method)(url, {"reason": "x"}).status_code == 405
    assert list(AuditEvent.objects.values_list("id", "hash")) == before


def test_navigation_shows_the_audit_link_only_to_roles_that_may_use_it(
    auditor_client, support_client
):
    assert links(auditor_client.get(LIST))[LIST] == "Audit trail"
    refused = support_client.get(LIST)
    assert refused.status_code == 403
    assert LIST not in urls(refused)


# Filters ----------------------------------------------------------------------------------


@pytest.fixture
def mixed_events(db):
    specs = []
    for i in range(90):
        specs.append(
            {
                "subscription_id": [7, 8, None][i % 3],
                "actor_name": ["alice", "bob"][i % 2],
                "action": ["subscription.updated", "login", "user.created"][i % 3],
                "target_type": "subscription" if i % 3 != 2 else "user",
                "target_repr": ["Acme", "Beta", "bob"][i % 3],
            }
        )
    return append_events(specs)


def _ids(response):
    return [e.pk for e in response.context["page"].events]


def test_filter_by_subscription_person_and_action(auditor_client, mixed_events):
    by_sub = _ids(auditor_client.get(LIST, {"subscription": "7"}))
    assert by_sub == [e.pk for e in reversed(mixed_events) if e.subscription_id == 7]
    by_person = _ids(auditor_client.get(LIST, {"person": "bob"}))
    assert by_person == [e.pk for e in reversed(mixed_events) if e.actor_name == "bob"][:50]
    both = _ids(auditor_client.get(LIST, {"action": "login", "person": "alice"}))
    assert both == [
        e.pk for e in reversed(mixed_events) if e.action == "login" and e.actor_name == "alice"
    ]
    assert both


def test_subscription_choices_include_deleted_ones_by_their_last_name(
    auditor_client, mixed_events
):
    append_events(
        [
            {
                "subscription_id": 7,
                "action": "subscription.deleted",
                "target_type": "subscription",
                "target_repr": "Acme Old",
            }
        ]
    )
    response = auditor_client.get(LIST)
    choices = dict(response.context["form"].fields["subscription"].choices)
    assert choices["7"] == "Acme Old (deleted, id 7)"
    assert choices["8"] == "subscription (deleted, id 8)"
    actions = [c[0] for c in response.context["form"].fields["action"].choices]
    assert actions == ["", "login", "subscription.deleted", "subscription.updated", "user.created"]


@override_settings(TIME_ZONE="America/New_York")
def test_date_range_is_inclusive_in_the_configured_time_zone(auditor_client):
    tz = timezone.get_default_timezone()
    times = [
        dt.datetime(2026, 3, 1, 23, 59, tzinfo=tz),  # 04:59 UTC on 2 March
        dt.datetime(2026, 3, 2, 0, 0, tzinfo=tz),
        dt.datetime(2026, 3, 3, 23, 59, 59, tzinfo=tz),
        dt.datetime(2026, 3, 4, 0, 0, tzinfo=tz),
    ]
    events = append_events([{"created_at": t} for t in times])
    response = auditor_client.get(LIST, {"date_from": "2026-03-02", "date_to": "2026-03-03"})
    assert _ids(response) == [events[2].pk, events[1].pk]
    single_day = auditor_client.get(LIST, {"date_from": "2026-03-01", "date_to": "2026-03-01"})
    assert _ids(single_day) == [events[0].pk]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to"),
        ({"subscription": "abc"}, "subscription"),
        ({"action": "no.such.action"}, "action"),
        ({"person": "x" * 151}, "person"),
    ],
)
def test_bad_filters_show_a_message_and_no_results(auditor_client, mixed_events, params, field):
    response = auditor_client.get(LIST, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["page"] is None
    assert parse(response).find(role="alert").text


def test_malformed_page_links_fall_back_to_the_newest_page(auditor_client, mixed_events):
    for params in ({"before": "abc"}, {"after": "-3"}, {"before": "9" * 40},
                   {"after": "9223372036854775808"}):
        response = auditor_client.get(LIST, params)
        assert response.status_code == 200
        assert _ids(response)[0] == mixed_events[-1].pk
        assert b"page link was not valid" in response.content


# Keyset pagination ------------------------------------------------------------------------


def test_pages_hold_every_event_exactly_once_newest_first(auditor_client):
    append_events([{"action": f"test.{i % 4}"} for i in range(121)])
    # With the auditor's own user.created and login events: 123 in all.
    everything = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    assert len(everything) == 123
    pages = walk(auditor_client)
    assert [len(p) for p in pages] == [50, 50, 23]
    flat = [pk for page in pages for pk in page]
    assert flat == everything

    # And back again with the "Newer" links, from the oldest page.
    back = walk(auditor_client, direction="after", first_url=f"{LIST}?before={pages[1][-1]}")
    assert back[0] == pages[-1]
    assert [pk for page in reversed(back) for pk in page] == everything

    # A page past the oldest event is empty but still leads back.
    response = auditor_client.get(LIST, {"before": everything[-1]})
    assert _ids(response) == []
    assert "← Newest" in response.content.decode()


def test_filtered_pages_keep_the_filter_and_return_each_match_once(auditor_client):
    events = append_events([{"action": f"test.{i % 3}", "actor_name": "p"} for i in range(200)])
    pages = walk(auditor_client, "action=test.1&person=p")
    expected = [e.pk for e in reversed(events) if e.action == "test.1"]
    assert [len(p) for p in pages] == [50, 17]
    assert [pk for page in pages for pk in page] == expected


def test_date_filtered_pages_go_by_time_and_return_each_event_once(auditor_client):
    tz = timezone.get_default_timezone()
    inside = scrambled_times(130, dt.date(2026, 5, 4), tz)
    outside = scrambled_times(20, dt.date(2026, 5, 6), tz)
    mixed = [t for pair in zip(inside[:20], outside, strict=True) for t in pair] + inside[20:]
    events = append_events([{"created_at": t} for t in mixed])
    expected = sorted(
        (e for e in events if e.created_at.date() == dt.date(2026, 5, 4)),
        key=lambda e: (e.created_at, e.pk),
        reverse=True,
    )
    pages = walk(auditor_client, "date_from=2026-05-04&date_to=2026-05-04")
    assert [len(p) for p in pages] == [50, 50, 30]
    assert [pk for page in pages for pk in page] == [e.pk for e in expected]

    back = walk(
        auditor_client,
        direction="after",
        first_url=f"{LIST}?date_from=2026-05-04&date_to=2026-05-04&before={pages[1][-1]}",
    )
    assert [pk for page in reversed(back) for pk in page] == [e.pk for e in expected]


def test_date_filtered_cursor_outside_the_range_still_pages_within_it(auditor_client):
    tz = timezone.get_default_timezone()
    days = [dt.date(2026, 5, 3), dt.date(2026, 5, 4), dt.date(2026, 5, 5)]
    events = append_events(
        [{"created_at": t} for day in days for t in scrambled_times(10, day, tz)]
    )
    middle = sorted(events[10:20], key=lambda e: (e.created_at, e.pk), reverse=True)
    day = {"date_from": "2026-05-04", "date_to": "2026-05-04"}
    from_later = auditor_client.get(LIST, {**day, "before": events[25].pk})
    assert _ids(from_later) == [e.pk for e in middle]
    from_earlier = auditor_client.get(LIST, {**day, "after": events[5].pk})
    assert _ids(from_earlier) == [e.pk for e in middle]
    past_the_start = auditor_client.get(LIST, {**day, "before": events[5].pk})
    assert _ids(past_the_start) == []
    assert "← Newest" in past_the_start.content.decode()


def test_a_date_filtered_page_link_to_no_event_falls_back_to_the_newest_page(auditor_client):
    append_events([{"created_at": dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)}])
    response = auditor_client.get(
        LIST, {"date_from": "2026-05-04", "date_to": "2026-05-04", "before": "99999999"}
    )
    assert len(_ids(response)) == 1
    assert b"points at no event" in response.content


def test_pagination_neither_offsets_nor_counts_and_costs_no_more_deeper_down(auditor_client):
    events = append_events([{"subscription_id": 3} for _ in range(300)])
    counts = []
    for url in (LIST, f"{LIST}?before={events[100].pk}", f"{LIST}?after={events[40].pk}",
                f"{LIST}?subscription=3&before={events[5].pk}"):
        with CaptureQueriesContext(connection) as queries:
            assert auditor_client.get(url).status_code == 200
        sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert "OFFSET" not in sql
        assert "COUNT(" not in sql
        counts.append(len(queries.captured_queries))
    # The first page skips the "is anything newer?" probe; deeper pages all cost the same.
    assert counts[0] + 1 == counts[1] == counts[2] == counts[3], counts


@pytest.mark.parametrize(
    "filters, column",
    [
        ({"subscription_id": 3}, "subscription_id"),
        ({"actor": "bob"}, "actor_name"),
        ({"action": "login"}, "action"),
    ],
)
def test_filtered_page_query_is_an_index_lookup_not_a_scan(filters, column, db):
    """The page query is answered from an index on the filtered column.

    SQLite always takes one whose order is the id order (no sort step). PostgreSQL picks by
    cost: on this small table it may read the column's plain index and sort the few matches;
    on a large one (benchmarks/bench_pages.py prints the plans) it walks the composite index.
    """
    from subscriptions.selectors.audit import AuditFilters, audit_events

    # Each filtered value is rare, as in a real trail: walking the primary key would not do.
    append_events(
        [
            {"subscription_id": i % 100, "actor_name": f"p{i % 100}", "action": f"a.{i % 100}"}
            for i in range(3000)
        ]
        + [{"subscription_id": 3, "actor_name": "bob", "action": "login"}] * 30
    )
    qs = audit_events(AuditFilters(**filters)).filter(id__lt=10**9).order_by("-id")[:51]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Statistics as a live database has them (the table is new in this test).
            cursor.execute("ANALYZE subscriptions_auditevent")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    composite = {"subscription_id": "audit_sub_id", "actor_name": "audit_actor_id",
                 "action": "audit_action_id"}[column]
    assert composite in plan or f"auditevent_{column}_" in plan, plan
    assert "Seq Scan" not in plan and "SCAN subscriptions_auditevent" not in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan.upper(), plan


# HTMX partial and the event detail --------------------------------------------------------


def test_htmx_filter_request_gets_only_the_results_partial(auditor_client, mixed_events):
    response = auditor_client.get(LIST, {"action": "login"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="audit-results">')
    assert "<html" not in html
    # Its pager links keep the address bar in step with what is shown.
    pager = parse(response).find_all("a", hx_get=True)
    assert pager and all(a.get("hx-push-url") == "true" for a in pager)
    full = auditor_client.get(LIST, {"action": "login"})
    assert "<html" in full.content.decode() and "audit-results" in ids(full)
    assert "When (UTC)" in html


def test_detail_shows_the_facts_and_the_diff_side_by_side(auditor_client):
    event = append_events(
        [
            {
                "actor_name": "alice-admin",
                "remote_addr": "203.0.113.9",
                "request_id": "req-1234567890",
                "action": "subscription.updated",
                "target_type": "subscription",
                "target_id": "5",
                "target_repr": "Acme",
                "subscription_id": 5,
                "changes": {
                    "api_throttle_limit": [100, 250],
                    "private_key": ["(set)", "***CHANGED***"],
                },
                "reason": "ticket 42",
            }
        ]
    )[0]
    response = auditor_client.get(reverse("subscriptions:audit_detail", args=[event.pk]))
    html = response.content.decode()
    for text in ("alice-admin", "203.0.113.9", "req-1234567890", "subscription.updated",
                 "Acme", "ticket 42", event.hash, event.prev_hash, "matches the content",
                 "(deleted)"):
        assert text in html, text
    assert parse(response).find(class_="diff") is not None
    rows = response.context["diff"]
    assert {
        "field": "API Throttle Limit", "name": "api_throttle_limit", "before": "100", "after": "250"
    } in rows
    assert {
        "field": "Certificate Private Key",
        "name": "private_key",
        "before": "(set)",
        "after": "***CHANGED***",
    } in rows


def test_detail_of_a_missing_event_is_404(auditor_client):
    response = auditor_client.get(reverse("subscriptions:audit_detail", args=[999999]))
    assert response.status_code == 404
