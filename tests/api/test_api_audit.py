"""What the API changes is on the trail as the person, "via api token <prefix>"; the trail
is read back as cursor-paged JSON and as NDJSON streamed after an id; tokens are throttled."""

from __future__ import annotations

import json

import pytest

from subscriptions.models import AuditEvent, Job

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_every_write_is_audited_as_the_person_via_the_token(api_world, tokens, admin_user):
    secret = tokens[("administrator", False)]
    api = ApiClient(secret)
    sub = api_world["subscription_id"]
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    poll = api.call("POST", f"/api/v1/subscriptions/{sub}/jobs/inventory-poll")
    assert poll.status_code == 202
    job = Job.objects.get(pk=poll.json()["id"])
    assert job.kind == "inventory_poll" and job.actor_id == admin_user.pk

    flags = api.call(
        "PUT",
        f"/api/v1/subscriptions/{sub}/webhooks/{api_world['deployment_id']}",
        {"reason": "switched on for the rollout", "create": True, "update": False, "delete": True},
    )
    assert flags.status_code == 200, flags.content
    assert (flags.json()["create"], flags.json()["update"], flags.json()["delete"]) == (
        True, False, True,
    )
    tested = api.call("POST", f"/api/v1/subscriptions/{sub}/connection-tests")
    assert tested.status_code == 201 and tested.json()["outcome"] == "passed"

    events = list(AuditEvent.objects.filter(id__gt=last).order_by("id"))
    assert {e.action for e in events} >= {"job.started", "webhook.set", "connection_test.passed"}
    for event in events:
        assert event.actor_id == admin_user.pk
        assert event.changes["via"] == f"api token {secret[:8]}"
    webhook = next(e for e in events if e.action == "webhook.set")
    assert webhook.reason == "switched on for the rollout"
    # Reading changes nothing on the trail.
    api.call("GET", "/api/v1/audit/events")
    assert AuditEvent.objects.order_by("-id").first().pk == events[-1].pk


def test_the_trail_in_cursor_pages_and_as_ndjson(api_world, tokens):
    api = ApiClient(tokens[("auditor", True)])
    every = list(AuditEvent.objects.order_by("id").values_list("id", "hash"))
    assert len(every) >= 3
    seen, after = [], 0
    while after is not None:
        page = api.call("GET", f"/api/v1/audit/events?after={after}&limit=2")
        assert page.status_code == 200
        body = page.json()
        seen += [(e["id"], e["hash"]) for e in body["items"]]
        after = body["next_after"]
    assert seen == every

    stream = api.call("GET", f"/api/v1/audit/events.ndjson?after={every[0][0]}")
    assert stream.status_code == 200
    assert stream["Content-Type"] == "application/x-ndjson"
    assert stream.streaming
    lines = b"".join(stream.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["id"], r["hash"]) for r in rows] == every[1:]
    assert all(r["prev_hash"] and r["action_name"] for r in rows)

    refused = ApiClient(tokens[("support", False)]).call("GET", "/api/v1/audit/events.ndjson")
    assert refused.status_code == 403


def test_a_token_over_its_rate_gets_429_with_retry_after(api_world, tokens, settings):
    settings.API_TOKEN_RATE = "3/60"
    api = ApiClient(tokens[("auditor", True)])
    answers = [api.call("GET", "/api/v1/subscriptions").status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    refused = api.call("GET", "/api/v1/subscriptions")
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Per token: another token of the same person is not held back.
    other = ApiClient(tokens[("auditor", False)])
    assert other.call("GET", "/api/v1/subscriptions").status_code == 200
