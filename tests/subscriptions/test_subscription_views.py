"""The subscription pages: list, detail, the key shown once, conflicts, deletion, the audit."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from subscriptions.services import subscriptions as services
from tests.subscriptions.test_subscription_forms import (
    API_URL_SB1,
    edit_data,
    fingerprint,
    make_subscription,
    post_data,
    rsa_key,
)

HX = {"HX-Request": "true"}


def body(response) -> str:
    return response.content.decode()


def bulk_subscriptions(count: int, prefix: str = "Sub"):
    """Many rows at once, the way a data import would leave them (no key needed for a list)."""
    Subscription.objects.bulk_create(
        Subscription(
            name=f"{prefix} {i:05d}",
            version="v1.2",
            consumer_id=f"c{i}",
            account_id=f"{1000000 + i}",
            certificate_id=f"cert-{i}",
            api_url=f"https://{1000000 + i}.suitetalk.api.netsuite.com/services/rest/record/v1",
            private_key_fingerprint="aa:bb" if i % 2 else "",
            api_throttle_limit=100,
            api_throttle_seconds=60,
            ipaas_throttle_limit=100,
            ipaas_throttle_seconds=60,
            concurrent_connections=5,
        )
        for i in range(count)
    )


# --- list ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_the_columns_and_key_status(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    bulk_subscriptions(1, prefix="Keyless")
    html = body(admin_client_.get(reverse("subscriptions:list")))
    for text in ("Acme Production", "1234567_SB1", "Production", "v1.2", "cert-id-42"):
        assert text in html
    assert reverse("subscriptions:detail", args=[subscription.pk]) in html
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert 'badge-ok">set<' in rows[0] and "Acme Production" in rows[0]
    assert 'badge-warn">not set<' in rows[1] and "Keyless" in rows[1]


@pytest.mark.django_db
def test_the_list_uses_the_same_number_of_queries_for_3_or_60_rows(admin_client_):
    url = reverse("subscriptions:list")
    bulk_subscriptions(3, prefix="A")
    admin_client_.get(url)  # session and permission caches warm
    with CaptureQueriesContext(connection) as few:
        assert admin_client_.get(url).status_code == 200
    bulk_subscriptions(57, prefix="B")
    with CaptureQueriesContext(connection) as many:
        html = body(admin_client_.get(url))
    assert len(many.captured_queries) == len(few.captured_queries)
    # Only the listed columns are read: no encrypted column, so nothing is decrypted.
    sqls = [q["sql"] for q in many.captured_queries]
    selects = [sql for sql in sqls if 'FROM "subscriptions_subscription"' in sql]
    assert len(selects) == 2  # the count and the page
    assert all('."private_key"' not in sql for sql in selects)
    assert all('."webhook_api_key"' not in sql for sql in selects)
    assert any('."private_key_fingerprint"' in sql for sql in selects)
    assert "Page 1 of 2 (60 subscriptions)" in html


@pytest.mark.django_db
def test_the_list_is_paginated_by_50(admin_client_):
    bulk_subscriptions(120)
    first = body(admin_client_.get(reverse("subscriptions:list")))
    assert first.count('<tr>') == 51  # the header row and 50 rows
    assert "Sub 00049" in first and "Sub 00050" not in first
    third = admin_client_.get(reverse("subscriptions:list"), {"page": 3}, headers=HX)
    html = body(third)
    assert "<html" not in html, "an htmx request gets the results fragment only"
    assert "Sub 00119" in html and html.count("<tr>") == 21
    assert "Page 3 of 3 (120 subscriptions)" in html


@pytest.mark.django_db
def test_the_empty_list_offers_a_new_subscription_only_to_those_who_may_add(
    admin_client_, support_client, auditor_client
):
    new_url = reverse("subscriptions:create")
    admin_html = body(admin_client_.get(reverse("subscriptions:list")))
    assert "No subscriptions yet." in admin_html
    assert f'href="{new_url}">New subscription</a>' in admin_html
    for client in (support_client, auditor_client):
        html = body(client.get(reverse("subscriptions:list")))
        assert "No subscriptions yet." in html
        assert new_url not in html


# --- detail ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_lists_every_non_secret_field(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    html = body(admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk])))
    for label, value in [
        ("Name", "Acme Production"),
        ("Versions", "v1.2"),
        ("Inventory Search Days", "7"),
        ("Environment", "Production"),
        ("Consumer ID", "consumer-abc123"),
        ("Account ID", "1234567_SB1"),
        ("Certificate ID", "cert-id-42"),
        ("API URL", API_URL_SB1),
        ("API Throttle Limit", "100"),
        ("API Throttle Seconds (to iPaaS)", "60"),
        ("Concurrent Connections", "5"),
    ]:
        assert re.search(rf"<dt>{re.escape(label)}</dt><dd[^>]*>{re.escape(value)}", html), label
    assert 'id="netsuite-actions"' in html
    assert "RSA 3072" in html and fingerprint(rsa_key(3072)) in html
    assert "set on <time" in html


@pytest.mark.django_db
def test_support_and_auditor_see_set_but_not_the_key_type_or_fingerprint(
    admin_user, support_client, auditor_client
):
    subscription, _ = make_subscription(admin_user)
    for client in (support_client, auditor_client):
        html = body(client.get(reverse("subscriptions:detail", args=[subscription.pk])))
        assert 'badge-ok">set<' in html
        assert "RSA 3072" not in html
        assert fingerprint(rsa_key(3072)) not in html
        for name in ("edit", "delete", "webhook_key_regenerate"):
            assert reverse(f"subscriptions:{name}", args=[subscription.pk]) not in html


@pytest.mark.django_db
def test_the_admin_sees_the_buttons(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    html = body(admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk])))
    assert ">Edit</a>" in html and ">Delete</a>" in html and ">Regenerate webhook key</a>" in html


@pytest.mark.django_db
def test_an_unknown_subscription_is_404(admin_client_):
    for name in ("detail", "edit", "delete", "webhook_key_regenerate"):
        assert admin_client_.get(reverse(f"subscriptions:{name}", args=[999])).status_code == 404


# --- the webhook key, shown once -------------------------------------------------------------


@pytest.mark.django_db
def test_the_webhook_key_is_shown_once_after_creation_then_only_its_date(admin_client_):
    response = admin_client_.post(reverse("subscriptions:create"), post_data())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    key = re.search(r'<code id="new-webhook-key">([^<]+)</code>', html).group(1)
    assert 'class="secret-once"' in html and "Copy to clipboard" in html
    sub = Subscription.objects.get()
    assert sub.webhook_api_key == key
    assert sub.webhook_api_key_digest == Subscription.digest_webhook_key(key)
    again = body(admin_client_.get(reverse("subscriptions:detail", args=[sub.pk])))
    assert key not in again
    assert "secret-once" not in again
    assert "set on <time" in again


@pytest.mark.django_db
def test_regenerating_asks_first_then_swaps_the_panel_with_the_new_key(admin_client_, admin_user):
    subscription, old_key = make_subscription(admin_user)
    url = reverse("subscriptions:webhook_key_regenerate", args=[subscription.pk])

    confirm = admin_client_.get(url, headers=HX)
    html = body(confirm)
    assert "<html" not in html
    assert html.strip().startswith('<section class="card" id="webhook-key-panel"')
    assert "Regenerate the Webhook API Key?" in html and f'hx-post="{url}"' in html
    assert Subscription.objects.get().webhook_api_key == old_key, "a GET changes nothing"

    response = admin_client_.post(url, {"reason": "leaked in a ticket"}, headers=HX)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    assert "<html" not in html
    assert html.strip().startswith('<section class="card" id="webhook-key-panel"')
    new_key = re.search(r'<code id="new-webhook-key">([^<]+)</code>', html).group(1)
    sub = Subscription.objects.get()
    assert new_key != old_key and sub.webhook_api_key == new_key
    assert sub.revision == 2
    event = AuditEvent.objects.filter(action="subscription.webhook_key_regenerated").get()
    assert event.changes == {"webhook_api_key": ["(set)", "***CHANGED***"]}
    assert event.reason == "leaked in a ticket"


@pytest.mark.django_db
def test_regenerating_without_htmx_uses_a_confirmation_page_and_shows_the_key_once(
    admin_client_, admin_user
):
    subscription, old_key = make_subscription(admin_user)
    url = reverse("subscriptions:webhook_key_regenerate", args=[subscription.pk])
    page = body(admin_client_.get(url))
    assert "<html" in page and 'method="post"' in page
    html = body(admin_client_.post(url))
    new_key = Subscription.objects.get().webhook_api_key
    assert new_key != old_key
    assert f'<code id="new-webhook-key">{new_key}</code>' in html
    assert "<h1>Acme Production</h1>" in html


# --- two people, one subscription ------------------------------------------------------------


@pytest.mark.django_db
def test_the_later_of_two_saves_is_refused_and_shows_what_changed(
    admin_client_, admin_user, make_user, client_for
):
    subscription, _ = make_subscription(admin_user)
    other = client_for(make_user("bob-admin"))
    url = reverse("subscriptions:edit", args=[subscription.pk])
    # Both open the form at revision 1.
    alice_form = edit_data(subscription)
    bob_form = edit_data(subscription)
    assert alice_form["revision"] == bob_form["revision"] == "1"

    bob_form.update(consumer_id="consumer-bob", api_throttle_limit="250")
    assert other.post(url, bob_form).status_code == 302

    alice_form.update(name="Acme Renamed", api_throttle_limit="300")
    events = AuditEvent.objects.count()
    response = admin_client_.post(url, alice_form)
    assert response.status_code == 409
    html = body(response)
    assert "Someone else saved this subscription while you were editing it" in html
    assert "The last change was made by bob-admin" in html
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert re.search(
        r"<th scope=\"row\">Consumer ID</th>\s*<td>consumer-abc123</td>\s*<td>consumer-bob</td>",
        table,
    )
    assert re.search(r"<th scope=\"row\">API Throttle Limit</th>\s*<td>100</td>\s*<td>250</td>"
                     r"\s*<td>300 <span class=\"badge badge-warn\">both changed</span>", table)
    assert "Name" not in table, "only fields changed meanwhile are listed"
    # The DB has Bob's save, untouched; nothing of Alice's was saved or audited.
    sub = Subscription.objects.get()
    assert (sub.name, sub.consumer_id, sub.api_throttle_limit) == (
        "Acme Production",
        "consumer-bob",
        250,
    )
    assert sub.revision == 2
    assert AuditEvent.objects.count() == events

    # The fresh form keeps Alice's entries, takes Bob's where she changed nothing, and is at
    # the new revision, so saving it again applies her changes knowingly.
    form = response.context["form"]
    assert form["name"].value() == "Acme Renamed"
    assert form["consumer_id"].value() == "consumer-bob"
    assert form["api_throttle_limit"].value() == 300
    assert form["revision"].value() == 2
    again = {name: "" if form[name].value() is None else str(form[name].value())
             for name in form.fields if name != "private_key_file"}
    assert admin_client_.post(url, again).status_code == 302
    sub = Subscription.objects.get()
    assert (sub.name, sub.consumer_id, sub.api_throttle_limit, sub.revision) == (
        "Acme Renamed",
        "consumer-bob",
        300,
        3,
    )


@pytest.mark.django_db
def test_the_service_refuses_a_stale_revision_with_the_changed_fields(admin_user):
    subscription, _ = make_subscription(admin_user)
    opened = services.subscription_snapshot(subscription)
    services.subscription_update(
        subscription=subscription,
        data={"certificate_id": "cert-new"},
        expected_revision=1,
        actor=admin_user,
    )
    with pytest.raises(services.ConflictError) as conflict:
        services.subscription_update(
            subscription=subscription,
            data={"name": "Other"},
            expected_revision=1,
            actor=admin_user,
            opened=opened,
        )
    assert conflict.value.changed == {"Certificate ID": ["cert-id-42", "cert-new"]}
    assert Subscription.objects.get().name == "Acme Production"


@pytest.mark.django_db
def test_a_regenerated_webhook_key_counts_as_a_change_meanwhile(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    url = reverse("subscriptions:edit", args=[subscription.pk])
    form = edit_data(subscription, name="Renamed")
    services.webhook_key_regenerate(subscription=subscription, actor=admin_user)
    response = admin_client_.post(url, form)
    assert response.status_code == 409
    assert '<th scope="row">Webhook API Key</th>' in body(response)
    assert Subscription.objects.get().name == "Acme Production"


# --- delete ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_asks_for_confirmation_then_deletes_and_audits(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    url = reverse("subscriptions:delete", args=[subscription.pk])
    page = body(admin_client_.get(url))
    assert "Delete Acme Production?" in page and "Reason for this change" in page
    assert Subscription.objects.exists()
    response = admin_client_.post(url, {"reason": "customer left"})
    assert response.status_code == 302 and response["Location"] == reverse("subscriptions:list")
    assert not Subscription.objects.exists()
    event = AuditEvent.objects.filter(action="subscription.deleted").get()
    assert event.reason == "customer left"
    assert event.target_repr == "Acme Production"
    assert event.changes["name"] == ["Acme Production", None]
    assert event.changes["private_key"] == ["(set)", "(removed)"]
    assert event.changes["webhook_api_key"] == ["(set)", "(removed)"]
    listing = body(admin_client_.get(reverse("subscriptions:list")))
    assert "Deleted the subscription Acme Production." in listing


# --- audit -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_and_update_events_have_field_level_before_and_after(admin_client_):
    admin_client_.post(reverse("subscriptions:create"), post_data(reason="onboarding"))
    created = AuditEvent.objects.filter(action="subscription.created").get()
    sub = Subscription.objects.get()
    assert created.reason == "onboarding"
    assert created.subscription_id == sub.pk
    assert created.actor_name == "alice-admin"
    assert created.changes["name"] == [None, "Acme Production"]
    assert created.changes["api_url"] == [None, API_URL_SB1]
    assert created.changes["concurrent_connections"] == [None, 5]
    assert created.changes["private_key"] == [
        "(not set)",
        f"***CHANGED*** (public key SHA-256 {fingerprint(rsa_key(3072))})",
    ]
    assert created.changes["webhook_api_key"] == ["(not set)", "***CHANGED***"]

    url = reverse("subscriptions:edit", args=[sub.pk])
    admin_client_.post(
        url, edit_data(sub, inventory_search_days="30", version="v1.1")
    )
    updated = AuditEvent.objects.filter(action="subscription.updated").get()
    assert updated.changes == {"version": ["v1.2", "v1.1"], "inventory_search_days": [7, 30]}


@pytest.mark.django_db
def test_acting_on_a_subscription_deleted_meanwhile_is_404(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    form = edit_data(subscription, name="Renamed")
    Subscription.objects.filter(pk=subscription.pk).delete()
    for url, data in [
        (reverse("subscriptions:edit", args=[subscription.pk]), form),
        (reverse("subscriptions:delete", args=[subscription.pk]), {}),
        (reverse("subscriptions:webhook_key_regenerate", args=[subscription.pk]), {}),
    ]:
        assert admin_client_.post(url, data).status_code == 404
