"""Issue 16, "the first hour: pages that stay true", the small points on the server side: the
audit trail's person filter takes part of a name; a row of the Events list syncs its record;
the webhook table says its shared sentence once; records as columns in number order; labels
instead of stored keys; and the copy buttons. The browser's half (focus after a filter, the
clipboard) is tests/e2e/test_first_hour_small.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, Job, Record
from tests import factories
from tests.html import buttons, definitions, forms, parse, table_rows
from tests.subscriptions.conftest import ACCOUNT

pytestmark = pytest.mark.django_db

AUDIT = reverse("subscriptions:audit_list")


def url(name, subscription, *more):
    return reverse(f"subscriptions:{name}", args=[subscription.pk, *more])


# --- 1. The person filter: part of a name, any case ----------------------------------------


def test_the_person_filter_matches_part_of_a_name_in_any_case(auditor_client):
    factories.append_events([
        {"action": "login", "actor_name": "Alice-Admin"},
        {"action": "login", "actor_name": "bob"},
        {"action": "job.started", "actor_name": "robot (night run)"},
        {"action": "logout", "actor_name": "alice-admin"},
    ])

    def who(person):
        response = auditor_client.get(AUDIT, {"person": person})
        assert response.status_code == 200
        return sorted(e.actor_name for e in response.context["page"].events)

    assert who("ALICE") == ["Alice-Admin", "alice-admin"]
    assert who("lic") == ["Alice-Admin", "alice-admin"]
    assert who("NIGHT RUN") == ["robot (night run)"]
    assert who("nobody") == []
    # With another filter: both apply.
    both = auditor_client.get(AUDIT, {"person": "alice", "action": "logout"})
    assert [e.actor_name for e in both.context["page"].events] == ["alice-admin"]


# --- 3. "Sync this record" on a row of the Events list -------------------------------------


def test_a_row_of_the_events_list_syncs_its_record(netsuite_sim, support_client, support_user):
    subscription = netsuite_sim.subscription()
    change = netsuite_sim.sim.change_record(
        ACCOUNT, "customer", "create", fields={"companyName": "Row Sync Ltd"}
    )
    record_id = str(change["record_id"])
    factories.inbound_event(subscription, module="customer", external_id=record_id)
    factories.inbound_event(subscription, module="location", external_id="not-a-number")

    page = support_client.get(url("events", subscription))
    assert page.status_code == 200
    sync = url("events_manual_sync", subscription)
    row_forms = [f for f in forms(page) if f.action == sync and "internal_id" in f.fields
                 and f.fields.get("module") == "customer" and f.fields["internal_id"]]
    assert [f.fields["internal_id"] for f in row_forms] == [record_id]
    # One button per syncable row (the non-numeric external ID has none), named for its record.
    named = [text for text in buttons(page) if text.startswith("Sync this record")]
    assert named == [f"Sync this record (Customer {record_id})"]

    netsuite_sim.sim.reset_stats()
    response = support_client.post(sync, dict(row_forms[0].fields))
    assert response.status_code == 200
    shown = dict((row[0], row[1]) for row in table_rows(response, "manual-sync"))
    assert shown["companyName"] == "Row Sync Ltd" and shown["id"] == record_id
    seen = [r["path"] for r in netsuite_sim.sim.requests_seen() if r["kind"] == "record"]
    assert seen and seen[-1].endswith(f"/customer/{record_id}")
    event = AuditEvent.objects.get(action="manual_sync.fetched")
    assert event.actor_name == support_user.username
    assert event.changes["internal ID"] == [None, record_id]


def test_a_role_without_manual_sync_gets_no_button_and_403(netsuite_sim, auditor_client):
    subscription = netsuite_sim.subscription()
    factories.inbound_event(subscription, module="customer", external_id="1")
    netsuite_sim.sim.reset_stats()
    page = auditor_client.get(url("events", subscription))
    assert page.status_code == 403
    assert not [t for t in buttons(page) if t.startswith("Sync this record")]
    refused = auditor_client.post(url("events_manual_sync", subscription),
                                  {"module": "customer", "internal_id": "1"})
    assert refused.status_code == 403
    assert not [r for r in netsuite_sim.sim.requests_seen() if r["kind"] == "record"]
    assert not AuditEvent.objects.filter(action__startswith="manual_sync").exists()


# --- 4. The webhook table's shared sentence, once -------------------------------------------


def test_the_webhook_tables_shared_sentence_is_said_once(netsuite_sim, support_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = support_client.get(url("webhooks", subscription), HTTP_HX_REQUEST="true")
    assert table.status_code == 200
    page = table.content.decode()
    never_set = [row for row in table_rows(table, "webhook-table")
                 if any("never set from here" in cell for cell in row)]
    assert len(never_set) >= 2  # several rows share it
    assert page.count("Setting one flag sends the other two as off") == 1
    assert page.count("NetSuite does not report the current flags") == 1
    assert "does not report" in parse(table).by_id("webhook-unknown-flags").text


# --- 5. Records as columns, internal IDs in number order ------------------------------------


def test_records_show_columns_with_labels_yes_no_and_ids_in_number_order(support_client):
    subscription = factories.make_subscription(SYSTEM)[0]
    for internal_id in ("10", "2", "1", "11"):
        Record.objects.create(
            subscription=subscription, record_type="location", internal_id=internal_id,
            name="Warehouse", content_hash=internal_id, inactive=internal_id == "2",
            fields={"id": internal_id, "name": "Warehouse",
                    "isinactive": "T" if internal_id == "2" else "F"},
        )
    response = support_client.get(url("records", subscription, "location"))
    assert response.status_code == 200
    head = [th.text for th in parse(response).by_id("records").find("thead").find_all("th")]
    assert head == ["Internal ID", "Name", "Inactive", "Fetched at"]
    rows = table_rows(response, "records")
    assert [row[0] for row in rows] == ["1", "2", "10", "11"]
    assert [row[2] for row in rows] == ["No", "Yes", "No", "No"]
    page = response.content.decode()
    assert "{&#x27;id&#x27;" not in page and "'isinactive'" not in page


def test_alternate_id_types_show_their_own_fields_as_columns(support_client):
    subscription = factories.make_subscription(SYSTEM)[0]
    Record.objects.create(
        subscription=subscription, record_type="alternateidtype", internal_id="EXTERNALID",
        name="EXTERNALID", content_hash="x",
        fields={"code": "EXTERNALID", "field": "external_id", "netsuite_field": "externalId",
                "records": ["customer", "location"]},
    )
    response = support_client.get(url("records", subscription, "alternateidtype"))
    head = [th.text for th in parse(response).by_id("records").find("thead").find_all("th")]
    assert head == ["Code", "Field (iPaaS.com)", "Field (NetSuite)", "Record types",
                    "Fetched at"]
    assert table_rows(response, "records")[0][:4] == [
        "EXTERNALID", "external_id", "externalId", "customer, location"]


# --- 6. Labels, not stored keys -------------------------------------------------------------


def test_pages_show_labels_for_modules_data_types_targets_and_limit_types(
    netsuite_sim, admin_client_, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    factories.inbound_event(subscription, module="inventory_part", external_id="5")
    events = admin_client_.get(url("events", subscription))
    assert [row[1] for row in table_rows(events, "event-results")] == ["Inventory Part"]

    job = Job.objects.create(
        subscription=subscription, kind=Job.Kind.INITIALIZATION, actor_name="x",
        params={"types": ["alternateidtype", "shipitem"]},
        counts={"alternateidtype": {"read": 8, "created": 8, "updated": 0, "unchanged": 0}},
    )
    detail = admin_client_.get(reverse("subscriptions:job_detail", args=[job.pk]))
    assert definitions(detail)["Data types"] == "Alternate ID Type, Shipping Method"
    counts = parse(detail).find("table", class_="job-counts").find("tbody")
    assert [row.find("td").text for row in counts.find_all("tr")] == ["Alternate ID Type"]
    listing = admin_client_.get(reverse("subscriptions:jobs")).content.decode()
    assert "Alternate ID Type, Shipping Method" in listing and "alternateidtype" not in listing

    factories.append_events([{"action": "auth_details.updated", "target_type": "auth_details",
                              "target_repr": "iPaaS"}])
    trail = admin_client_.get(reverse("subscriptions:audit_list"), {"action":
                                                                    "auth_details.updated"})
    badges = [b.text for b in parse(trail).find_all("span", class_="badge")]
    assert "Auth Details" in badges and "auth_details" not in badges

    governance = admin_client_.post(url("governance", subscription), HTTP_HX_REQUEST="true")
    limit = definitions(governance)["Integration concurrency limit"]
    assert "accountLimit" not in limit and "shares the account's limit" in limit


# --- 7. Copy buttons: one include, an accessible name, the value to copy --------------------


def test_copy_buttons_sit_beside_the_ids_people_copy(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    overview = admin_client_.get(url("detail", subscription))
    copies = {b["data-copy"]: b.text
              for b in parse(overview).find_all("button", class_="copy-button")}
    assert copies[subscription.account_id] == "Copy Account ID"
    assert copies[subscription.consumer_id] == "Copy Consumer ID"
    assert copies[subscription.certificate_id] == "Copy Certificate ID"
    assert definitions(overview)["Account ID"].startswith(subscription.account_id)

    certificate = admin_client_.get(url("certificates", subscription))
    names = [b.text for b in parse(certificate).find_all("button", class_="copy-button")]
    assert "Copy certificate SHA-256" in names and "Copy Certificate ID" in names

    verify = admin_client_.get(reverse("subscriptions:audit_verify"))
    (anchor,) = parse(verify).find_all("button", class_="copy-button")
    head = AuditEvent.objects.order_by("-id").first()
    assert anchor["data-copy"] == f"{head.pk}:{head.hash}"
    assert anchor.text == "Copy audit chain head"
