"""The CSV export: streamed in batches, filtered like the page, audited, free of secrets."""

import csv
import datetime as dt
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscriptions.models import AuditEvent
from subscriptions.services.subscriptions import webhook_key_regenerate
from subscriptions.views.audit import EXPORT_COLUMNS
from tests.factories import append_events, make_subscription, pem_body_lines, scrambled_times
from tests.html import forms

EXPORT = reverse("subscriptions:audit_export")


def rows_of(response):
    assert response.streaming is True
    body = b"".join(response.streaming_content).decode("utf-8")
    return body, list(csv.reader(io.StringIO(body)))


def test_export_streams_every_event_in_id_order_with_the_documented_columns(auditor_client):
    append_events([{"action": f"test.{i % 3}"} for i in range(25)])
    response = auditor_client.post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    _, rows = rows_of(response)
    assert rows[0] == EXPORT_COLUMNS
    ids = [int(r[0]) for r in rows[1:]]
    assert ids == list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    last = AuditEvent.objects.get(pk=ids[-1])
    assert rows[-1][EXPORT_COLUMNS.index("hash")] == last.hash
    assert rows[-1][EXPORT_COLUMNS.index("created_at")] == last.created_at.isoformat()


def test_export_honours_the_filters(auditor_client):
    events = append_events(
        [{"action": f"test.{i % 3}", "subscription_id": i % 2} for i in range(30)]
    )
    response = auditor_client.post(EXPORT, {"action": "test.1", "subscription": "1"})
    _, rows = rows_of(response)
    wanted = [e.pk for e in events if e.action == "test.1" and e.subscription_id == 1]
    assert [int(r[0]) for r in rows[1:]] == wanted
    assert wanted


def test_date_filtered_export_is_exact_and_in_id_order_even_with_a_clock_that_stepped_back(
    auditor_client,
):
    tz = timezone.get_default_timezone()
    before = scrambled_times(10, dt.date(2026, 5, 3), tz)
    inside = scrambled_times(60, dt.date(2026, 5, 4), tz)
    stray = scrambled_times(5, dt.date(2026, 5, 2), tz)  # written among the day's events
    after = scrambled_times(10, dt.date(2026, 5, 5), tz)
    times = before + inside[:30] + stray + inside[30:] + after
    events = append_events([{"created_at": t} for t in times])
    response = auditor_client.post(EXPORT, {"date_from": "2026-05-04", "date_to": "2026-05-04"})
    _, rows = rows_of(response)
    wanted = [e.pk for e in events if e.created_at.astimezone(tz).date() == dt.date(2026, 5, 4)]
    assert len(wanted) == 60
    assert [int(r[0]) for r in rows[1:]] == wanted


def test_export_is_audited_with_its_filters_before_anything_is_streamed(auditor_client):
    append_events([{"action": "test.x"}])
    response = auditor_client.post(EXPORT, {"action": "test.x", "person": "someone"})
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor_name == "ada-auditor"
    assert event.changes == {"filters": {"action": "test.x", "person": "someone"}}
    _, rows = rows_of(response)
    assert len(rows) == 2  # header and the one matching event, not the export's own record


def test_bad_filters_start_no_export(auditor_client):
    response = auditor_client.post(EXPORT, {"date_from": "31/12/2026"})
    assert response.status_code == 400
    assert not response.streaming
    assert "date_from" in response.context["form"].errors
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_export_reads_in_keyset_batches_not_all_at_once(auditor_client):
    append_events([{"action": "bulk"} for _ in range(4500)])
    response = auditor_client.post(EXPORT, {"action": "bulk"})
    with CaptureQueriesContext(connection) as queries:
        _, rows = rows_of(response)
    assert len(rows) == 4501
    reads = [q["sql"] for q in queries.captured_queries if "subscriptions_auditevent" in q["sql"]]
    # Three batches of at most 2000 rows and the empty read that ends the walk.
    assert len(reads) == 4
    assert all("LIMIT 2000" in sql and "OFFSET" not in sql for sql in reads), reads


def test_spreadsheet_formulas_are_neutralised(auditor_client):
    append_events(
        [
            {
                "actor_name": "=HYPERLINK(\"http://evil\")",
                "target_repr": "+1+2",
                "reason": "-3",
                "remote_addr": "@SUM(A1)",
                "request_id": "\tcmd",
                "target_id": "\rx",
                "action": "test.formula",
            }
        ]
    )
    _, rows = rows_of(auditor_client.post(EXPORT, {"action": "test.formula"}))
    row = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert row["actor"] == "'=HYPERLINK(\"http://evil\")"
    assert row["target"] == "'+1+2"
    assert row["reason"] == "'-3"
    assert row["remote_addr"] == "'@SUM(A1)"
    assert row["request_id"] == "'\tcmd"
    assert row["target_id"] == "'\rx"


def test_export_contains_no_secret(admin_user, auditor_client, rsa_pem):
    subscription, first_key = make_subscription(admin_user, private_key=rsa_pem)
    second_key = webhook_key_regenerate(subscription=subscription, actor=admin_user)
    body, rows = rows_of(auditor_client.post(EXPORT))
    actions = [r[EXPORT_COLUMNS.index("action")] for r in rows[1:]]
    assert "subscription.created" in actions
    assert "subscription.webhook_key_regenerated" in actions
    assert "***CHANGED***" in body
    assert subscription.private_key_fingerprint in body
    body_lines = pem_body_lines(rsa_pem)
    assert len(body_lines) > 30
    for line in body_lines:
        assert line not in body
    assert first_key not in body and second_key not in body
    assert "PRIVATE KEY" not in body
    assert "enc:fernet:" not in body


def test_a_get_exports_nothing_and_puts_nothing_on_record(auditor_client):
    # A GET can be set off from another site (a link, an image); the export writes an event.
    append_events([{"action": "test.x"}])
    before = list(AuditEvent.objects.values_list("id", "hash"))
    response = auditor_client.get(EXPORT, {"action": "test.x"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert list(AuditEvent.objects.values_list("id", "hash")) == before


def test_a_cross_site_post_without_the_csrf_token_exports_nothing(auditor_user):
    from django.test import Client

    append_events([{"action": "test.x"}])
    web = Client(enforce_csrf_checks=True)
    web.force_login(auditor_user)
    before = AuditEvent.objects.count()
    response = web.post(EXPORT, {"action": "test.x"})
    assert response.status_code == 403
    assert not response.streaming
    assert AuditEvent.objects.count() == before


def test_the_export_form_carries_the_applied_filters_and_a_csrf_token(auditor_client):
    append_events([{"action": "test.x", "subscription_id": 3}, {"action": "test.y"}])
    page = auditor_client.get(
        reverse("subscriptions:audit_list"),
        {"action": "test.x", "date_from": "not a date", "person": "someone"},
    )
    # Invalid filters show no export at all (nothing was applied).
    assert EXPORT not in {f.action for f in forms(page)}
    page = auditor_client.get(
        reverse("subscriptions:audit_list"), {"action": "test.x", "person": "someone"}
    )
    export = next(f for f in forms(page) if f.action == EXPORT)
    assert export.method == "post"
    assert export.buttons == ["Export CSV"]
    token = export.fields.pop("csrfmiddlewaretoken")
    assert token
    assert export.fields == {"action": "test.x", "person": "someone"}
    response = auditor_client.post(EXPORT, export.fields)
    _, rows = rows_of(response)
    assert [r[EXPORT_COLUMNS.index("action")] for r in rows[1:]] == ["test.x"]
    assert AuditEvent.objects.get(action="audit.exported").changes == {
        "filters": {"action": "test.x", "person": "someone"}
    }
