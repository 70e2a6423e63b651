"""The Events section (filters, permissions, the panel's link) and Manual sync against the
simulator over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent
from tests import factories, html
from tests.subscriptions.conftest import ACCOUNT

pytestmark = pytest.mark.django_db


def events_url(subscription) -> str:
    return f"/subscriptions/{subscription.pk}/events/"


def sync_url(subscription) -> str:
    return f"/subscriptions/{subscription.pk}/events/manual-sync/"


def rows(response, container_id: str) -> list[list[str]]:
    """The table's rows in that section; none when the section shows no table."""
    if html.parse(response).by_id(container_id).find("tbody") is None:
        return []
    return html.table_rows(response, container_id)


def shown_ids(response) -> list[str]:
    return [row[3] for row in rows(response, "event-results")]


@pytest.fixture
def subscription():
    return factories.make_subscription(SYSTEM)[0]


def test_support_and_administrators_see_events_auditors_do_not(
    subscription, admin_client_, support_client, auditor_client
):
    factories.inbound_event(subscription, external_id="107")
    for client in (admin_client_, support_client):
        response = client.get(events_url(subscription))
        assert response.status_code == 200
        assert shown_ids(response) == ["107"]
    assert auditor_client.get(events_url(subscription)).status_code == 403
    assert auditor_client.post(sync_url(subscription), {"module": "customer",
                                                        "internal_id": "1"}).status_code == 403


def test_the_panel_links_the_events_for_those_who_may_see_them(
    subscription, admin_client_, auditor_client
):
    detail = f"/subscriptions/{subscription.pk}/"
    assert events_url(subscription) in html.urls(admin_client_.get(detail))
    assert events_url(subscription) not in html.urls(auditor_client.get(detail))


def test_filters_by_module_event_and_date(subscription, admin_client_):
    now = timezone.now()
    factories.inbound_event(subscription, external_id="1", received_at=now)
    factories.inbound_event(subscription, module="location", event="created", external_id="2",
                            received_at=now)
    factories.inbound_event(subscription, external_id="3", received_at=now - dt.timedelta(days=3))
    other = factories.make_subscription(SYSTEM, name="Other")[0]
    factories.inbound_event(other, external_id="4", received_at=now)

    def ids(**params):
        response = admin_client_.get(events_url(subscription), params)
        assert response.status_code == 200
        return sorted(shown_ids(response))

    assert ids() == ["1", "2", "3"]
    assert ids(module="location") == ["2"]
    assert ids(event="updated") == ["1", "3"]
    today = timezone.localdate(now).isoformat()
    assert ids(date_from=today) == ["1", "2"]
    assert ids(date_to=(timezone.localdate(now) - dt.timedelta(days=1)).isoformat()) == ["3"]
    assert ids(module="customer", date_from=today) == ["1"]


def test_bad_filters_are_said_and_show_no_rows(subscription, admin_client_):
    factories.inbound_event(subscription)
    response = admin_client_.get(events_url(subscription), {"date_from": "2026-05-02",
                                                            "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert shown_ids(response) == []
    assert "were not applied" in response.content.decode()


def test_an_htmx_filter_answers_only_the_results(subscription, admin_client_, htmx_headers):
    factories.inbound_event(subscription, external_id="9")
    response = admin_client_.get(events_url(subscription), {"module": "customer"}, **htmx_headers)
    assert response.status_code == 200
    assert "event-results" in html.ids(response)
    assert "manual-sync" not in html.ids(response)


def test_manual_sync_shows_what_netsuite_returned(netsuite_sim, support_client, support_user):
    subscription = netsuite_sim.subscription()
    netsuite_sim.sim.change_record(
        ACCOUNT, "customer", "create", fields={"companyName": "Acme Ltd",
                                               "custentity_api_token": "tok-s3cr3t-42"})
    response = support_client.post(sync_url(subscription),
                                   {"module": "customer", "internal_id": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    fields = dict((row[0], row[1]) for row in html.table_rows(response, "manual-sync"))
    assert fields["companyName"] == "Acme Ltd"
    assert fields["id"] == "1"
    assert "tok-s3cr3t-42" not in page
    assert "hidden" in fields["custentity_api_token"]
    event = AuditEvent.objects.get(action="manual_sync.fetched")
    assert event.actor_name == support_user.username
    assert event.changes["internal ID"] == [None, "1"]
    assert "tok-s3cr3t-42" not in str(event.changes)
    seen = [r for r in netsuite_sim.sim.requests_seen() if r["kind"] == "record"]
    assert [r["path"] for r in seen][-1].endswith("/customer/1")


def test_manual_sync_of_a_missing_record_shows_netsuites_answer(netsuite_sim, admin_client_,
                                                                 htmx_headers):
    subscription = netsuite_sim.subscription()
    response = admin_client_.post(sync_url(subscription),
                                  {"module": "location", "internal_id": "999"}, **htmx_headers)
    assert response.status_code == 200
    assert "NONEXISTENT_ID" in response.content.decode()
    assert rows(response, "manual-sync") == []
    event = AuditEvent.objects.get(action="manual_sync.failed")
    assert event.changes["HTTP status"] == [None, 404]


def test_manual_sync_refuses_a_bad_id_before_calling_netsuite(netsuite_sim, admin_client_):
    subscription = netsuite_sim.subscription()
    netsuite_sim.sim.reset_stats()
    response = admin_client_.post(sync_url(subscription),
                                  {"module": "location", "internal_id": "../auth"})
    assert response.status_code == 400
    assert netsuite_sim.stats()["requests"] == 0
    assert not AuditEvent.objects.filter(action__startswith="manual_sync").exists()
