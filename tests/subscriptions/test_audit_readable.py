"""The audit trail reads as people speak: action names and the form's field labels on the
list, the detail and the CSV (the raw codes and JSON kept beside them), a way back from an
event to the same filtered page, and ISO dates in the date inputs."""

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from subscriptions.views.audit import EXPORT_COLUMNS
from tests.factories import append_events
from tests.html import links, parse, table_rows

LIST = reverse("subscriptions:audit_list")
CHANGES = {"inventory_search_days": [0, 7], "name": ["Old", "New"]}


def changed_event():
    return append_events(
        [{"action": "subscription.updated", "actor_name": "alice-admin", "changes": CHANGES}]
    )[0]


def test_the_list_shows_action_names_and_field_labels(auditor_client):
    changed_event()
    rows = table_rows(auditor_client.get(LIST, {"action": "subscription.updated"}))
    assert rows and rows[0][3] == "Subscription changed"
    # PostgreSQL's jsonb keeps keys in its own order: compare as a set.
    assert set(rows[0][5].split(", ")) == {"Inventory Search Days", "Name"}
    assert "inventory_search_days" not in " ".join(rows[0])


def test_the_action_filter_offers_names_and_filters_by_code(auditor_client):
    changed_event()
    page = parse(auditor_client.get(LIST).content.decode())
    select = page.find("select", name="action")
    options = {o.get("value"): o.text for o in select.find_all("option")}
    assert options["subscription.updated"] == "Subscription changed"


def test_the_detail_labels_each_field_and_keeps_the_code_beside_it(auditor_client):
    event = changed_event()
    url = reverse("subscriptions:audit_detail", args=[event.pk])
    html = auditor_client.get(url).content.decode()
    names = [d.text for d in parse(html).find_all("div", class_="field-name")]
    labelled = next(n for n in names if n.startswith("Inventory Search Days"))
    assert "inventory_search_days" in labelled
    assert "Subscription changed" in html


def test_back_from_an_event_keeps_the_filters_and_the_page(auditor_client):
    event = changed_event()
    query = {"action": "subscription.updated", "date_from": "2000-01-01", "before": "999999"}
    listed = auditor_client.get(LIST, query)
    detail_link = next(h for h in links(listed) if h.startswith(f"/audit/{event.pk}/"))
    detail = auditor_client.get(detail_link)
    back = next(h for h, text in links(detail).items() if text == "Back to the audit trail")
    parts = urlsplit(back)
    assert parts.path == LIST
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == query
    assert auditor_client.get(back).status_code == 200


def test_back_drops_parameters_that_are_not_the_lists(auditor_client):
    event = changed_event()
    url = reverse("subscriptions:audit_detail", args=[event.pk])
    detail = auditor_client.get(url, {"back": "action=login&next=//evil.example&x=1"})
    back = next(h for h, text in links(detail).items() if text == "Back to the audit trail")
    assert back == f"{LIST}?action=login"


def test_the_date_inputs_show_iso_dates(auditor_client):
    page = parse(auditor_client.get(LIST, {"date_from": "2026-03-02"}).content.decode())
    assert page.find("input", name="date_from").get("value") == "2026-03-02"
    assert page.find("input", name="date_from").get("type") == "date"
    refused = auditor_client.get(LIST, {"date_from": "03/02/2026"})
    assert "date_from" in refused.context["form"].errors


def test_the_csv_has_readable_columns_beside_the_raw_ones(auditor_user, client_for):
    changed_event()
    response = client_for(auditor_user).post(
        reverse("subscriptions:audit_export"), {"action": "subscription.updated"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert list(row) == EXPORT_COLUMNS
    assert row["action"] == "subscription.updated"
    assert row["action_name"] == "Subscription changed"
    assert json.loads(row["changes"]) == CHANGES
    assert set(row["changes_readable"].split("; ")) == {
        "Inventory Search Days: 0 → 7", "Name: Old → New"
    }
