"""/metrics: who may scrape it, and that its numbers move with what the dashboard does.

In-process (Django's test client, the simulator over HTTP) the metrics are this process's
own registry; the counters are compared before and after each action, parsed with
prometheus_client's own parser. ``test_metrics_processes.py`` checks the sum over processes.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from subscriptions.models import Job, Subscription
from tests.factories import logged_in_client
from tests.subscriptions.test_jobs_initialization import run_worker

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests-" + "m" * 20
URL = "/metrics"


def samples(text: str) -> dict[tuple, float]:
    """``{(sample name, ((label, value), ...)): value}`` of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client=None) -> dict[tuple, float]:
    response = (client or Client()).get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []


# --- who may scrape ---------------------------------------------------------------------------


def test_without_a_token_or_addresses_configured_there_is_no_such_url(settings, admin_user):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert Client().get(URL).status_code == 404
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404
    assert logged_in_client(admin_user).get(URL).status_code == 404


def test_the_token_opens_it_and_nothing_else_does(token, admin_user):
    assert Client().get(URL).status_code == 403
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    # A session is no way in, an administrator's included.
    assert logged_in_client(admin_user).get(URL).status_code == 403
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"ipaas_http_requests_total" in response.content
    assert Client().post(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_an_allowed_network_opens_it_without_a_token(settings):
    import ipaddress

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = [ipaddress.ip_network("10.1.0.0/16")]
    assert Client(REMOTE_ADDR="10.1.2.3").get(URL).status_code == 200
    assert Client(REMOTE_ADDR="10.2.0.1").get(URL).status_code == 403
    assert Client(REMOTE_ADDR="::ffff:10.1.9.9").get(URL).status_code == 200
    # A forwarded address counts only behind the proxy (axes' rule, as for the audit trail).
    spoofed = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert spoofed.get(URL).status_code == 403


# --- the journey --------------------------------------------------------------------------------


def test_the_counters_move_with_a_journey(
    token, netsuite_sim, admin_user, django_capture_on_commit_callbacks
):
    subscription = netsuite_sim.subscription("Metered Co")
    sub = str(subscription.pk)
    admin = logged_in_client(admin_user)
    start = scrape()

    # A page view: by the URL's name, never its path.
    assert admin.get(reverse("subscriptions:detail", args=[subscription.pk])).status_code == 200
    after_page = scrape()
    labels = {"view": "subscriptions:detail", "method": "GET", "status": "200"}
    assert moved(start, after_page, "ipaas_http_requests_total", **labels) == 1
    assert moved(
        start, after_page, "ipaas_http_request_duration_seconds_count",
        view="subscriptions:detail",
    ) == 1
    assert not any(v.startswith("/") for _name, labels in after_page for _label, v in labels)
    # The previous scrape is counted too, under its name.
    assert moved(
        start, after_page, "ipaas_http_requests_total", view="metrics", method="GET",
        status="200",
    ) == 1

    # A connection test: NetSuite calls by kind, a token minted, no slot left held.
    test_url = reverse("subscriptions:connection_test", args=[subscription.pk])
    assert admin.post(test_url).status_code == 302
    after_test = scrape()
    assert moved(after_page, after_test, "ipaas_netsuite_tokens_minted_total",
                 subscription=sub) == 1
    assert moved(after_page, after_test, "ipaas_netsuite_calls_total",
                 kind="token", status="200") == 1
    assert moved(after_page, after_test, "ipaas_netsuite_call_duration_seconds_count",
                 kind="token") == 1
    other_calls = sum(
        moved(after_page, after_test, "ipaas_netsuite_calls_total", kind=kind, status="200")
        for kind in ("record", "suiteql", "governance", "restlet", "metadata")
    )
    assert other_calls >= 1
    assert ("ipaas_netsuite_slots_in_flight", (("subscription", sub),)) in after_test
    assert value(after_test, "ipaas_netsuite_slots_in_flight", subscription=sub) == 0
    assert value(after_test, "ipaas_connection_test_passing", subscription=sub) == 1
    days = value(after_test, "ipaas_certificate_expiry_days", subscription=sub)
    assert 300 < days <= 366

    # An initialization job: queued (read from the Job table at scrape time), then run.
    start_url = reverse("subscriptions:initialization_start", args=[subscription.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(start_url, {"type": "location"}).status_code == 302
    queued = scrape()
    assert value(queued, "ipaas_jobs_queued", kind="initialization") == 1
    assert value(queued, "ipaas_jobs_oldest_queued_age_seconds", kind="initialization") >= 0
    assert ("ipaas_jobs_queued", (("kind", "inventory_poll"),)) in queued
    run_worker()
    assert Job.objects.get().status == Job.Status.SUCCEEDED
    ran = scrape()
    assert value(ran, "ipaas_jobs_queued", kind="initialization") == 0
    assert value(ran, "ipaas_jobs_oldest_queued_age_seconds", kind="initialization") == 0
    assert moved(queued, ran, "ipaas_jobs_finished_total",
                 kind="initialization", outcome="succeeded") == 1
    assert moved(queued, ran, "ipaas_job_duration_seconds_count",
                 kind="initialization", outcome="succeeded") == 1
    assert moved(queued, ran, "ipaas_netsuite_calls_total", kind="suiteql", status="200") >= 1

    # Inbound deliveries: one accepted (two notifications), one without the key, one bad.
    hook = reverse("subscriptions:inbound_webhook", args=[subscription.pk])
    key = Subscription.objects.get(pk=subscription.pk).webhook_api_key
    body = json.dumps({"notifications": [
        {"scope": "customer/updated", "external_id": "7"},
        {"scope": "customer/updated", "external_id": "8"},
    ]})
    sender = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert sender.post(hook, body, content_type="application/json", **auth).status_code == 202
    assert sender.post(hook, body, content_type="application/json").status_code == 401
    assert sender.post(hook, "{", content_type="application/json", **auth).status_code == 400
    delivered = scrape()
    assert moved(ran, delivered, "ipaas_inbound_deliveries_total", result="accepted") == 1
    assert moved(ran, delivered, "ipaas_inbound_deliveries_total", result="unauthorized") == 1
    assert moved(ran, delivered, "ipaas_inbound_deliveries_total", result="malformed") == 1
    assert moved(ran, delivered, "ipaas_inbound_notifications_accepted_total",
                 subscription=sub) == 2

    # No label carries a secret or an account ID.
    label_values = {v for _name, labels in delivered for _label, v in labels}
    for secret in (key, subscription.account_id, subscription.consumer_id, TOKEN):
        assert not any(secret in v for v in label_values)
