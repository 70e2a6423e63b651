"""The subscription pages: list, detail, the key shown once, conflicts, deletion, the audit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from subscriptions.services import subscriptions as services
from tests.factories import (
    API_URL_SB1,
    create_form_data,
    edit_form_data,
    fingerprint,
    make_subscription,
    rsa_key,
    unsaved_subscription,
)
from tests.html import (
    buttons,
    definitions,
    forms,
    ids,
    links,
    parse,
    table_rows,
    text_of,
    urls,
)

HX = {"HX-Request": "true"}


def body(response) -> str:
    return response.content.decode()


def bulk_subscriptions(count: int, prefix: str = "Sub"):
    """Many rows at once, every other one with a key."""
    Subscription.objects.bulk_create(
        unsaved_subscription(i, name=f"{prefix} {i:05d}", with_key=bool(i % 2))
        for i in range(count)
    )


def key_badges(response) -> list[tuple[str, str]]:
    """(name, key badge) of each row of the list, the badge as its class and its text."""
    found = []
    for row in parse(response).find("tbody").find_all("tr"):
        badge = row.find("span", class_="badge")
        found.append((row.find("td").text, f"{' '.join(sorted(badge.classes))}: {badge.text}"))
    return found


def assert_key_set_on_a_date(response):
    panel = parse(response).by_id("webhook-key-panel")
    assert "set on" in panel.text
    assert panel.find("time", datetime=True) is not None


# --- list ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_the_columns_and_key_status(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    bulk_subscriptions(1, prefix="Keyless")
    response = admin_client_.get(reverse("subscriptions:list"))
    html = body(response)
    for text in ("Acme Production", "1234567_SB1", "Production", "v1.2", "cert-id-42"):
        assert text in html
    detail = reverse("subscriptions:detail", args=[subscription.pk])
    assert links(response)[detail] == "Acme Production"
    assert key_badges(response) == [
        ("Acme Production", "badge badge-ok: set"),
        ("Keyless 00000", "badge badge-warn: not set"),
    ]


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
    # The count, the page, and which of its Account ID + Consumer ID pairs are shared.
    assert len(selects) == 3
    assert all('."private_key"' not in sql for sql in selects)
    assert all('."webhook_api_key"' not in sql for sql in selects)
    assert any('."private_key_fingerprint"' in sql for sql in selects)
    assert "Page 1 of 2 (60 subscriptions)" in html


@pytest.mark.django_db
def test_the_list_is_paginated_by_50(admin_client_):
    bulk_subscriptions(120)
    first = admin_client_.get(reverse("subscriptions:list"))
    assert [row[0] for row in table_rows(first)] == [f"Sub {i:05d}" for i in range(50)]
    third = admin_client_.get(reverse("subscriptions:list"), {"page": 3}, headers=HX)
    html = body(third)
    assert "<html" not in html, "an htmx request gets the results fragment only"
    assert [row[0] for row in table_rows(third)] == [f"Sub {i:05d}" for i in range(100, 120)]
    assert "Page 3 of 3 (120 subscriptions)" in html


@pytest.mark.django_db
def test_the_empty_list_offers_a_new_subscription_only_to_those_who_may_add(
    admin_client_, support_client, auditor_client
):
    new_url = reverse("subscriptions:create")
    admin_page = admin_client_.get(reverse("subscriptions:list"))
    assert "No subscriptions yet." in body(admin_page)
    assert links(admin_page)[new_url] == "New subscription"
    for client in (support_client, auditor_client):
        response = client.get(reverse("subscriptions:list"))
        assert response.status_code == 200
        assert "No subscriptions yet." in body(response)
        assert new_url not in urls(response)


# --- detail ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_lists_every_non_secret_field(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    response = admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk]))
    html = body(response)
    shown = definitions(response)
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
        assert shown[label].startswith(value), label
    assert parse(response).by_id("netsuite-actions").find_all()
    assert "RSA 3072" in html and fingerprint(rsa_key(3072)) in html
    assert_key_set_on_a_date(response)


@pytest.mark.django_db
def test_support_and_auditor_see_set_but_not_the_key_type_or_fingerprint(
    admin_user, support_client, auditor_client
):
    subscription, _ = make_subscription(admin_user)
    for client in (support_client, auditor_client):
        response = client.get(reverse("subscriptions:detail", args=[subscription.pk]))
        html = body(response)
        assert parse(response).by_id("webhook-key-panel").find("span", class_="badge-ok").text == (
            "set"
        )
        assert "RSA 3072" not in html
        assert fingerprint(rsa_key(3072)) not in html
        for name in ("edit", "delete", "webhook_key_regenerate"):
            assert reverse(f"subscriptions:{name}", args=[subscription.pk]) not in urls(response)


@pytest.mark.django_db
def test_the_admin_sees_the_buttons(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    offered = links(admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk])))
    for name, text in [
        ("edit", "Edit"),
        ("delete", "Delete"),
        ("webhook_key_regenerate", "Regenerate webhook key"),
    ]:
        assert offered.get(reverse(f"subscriptions:{name}", args=[subscription.pk])) == text


@pytest.mark.django_db
def test_an_unknown_subscription_is_404(admin_client_):
    for name in ("detail", "edit", "delete", "webhook_key_regenerate"):
        assert admin_client_.get(reverse(f"subscriptions:{name}", args=[999])).status_code == 404


# --- the webhook key, shown once -------------------------------------------------------------


@pytest.mark.django_db
def test_the_webhook_key_is_shown_once_after_creation_then_only_its_date(admin_client_):
    posted = admin_client_.post(reverse("subscriptions:create"), create_form_data())
    # Post/Redirect/Get: the key is not in the redirect, only on the page it leads to.
    sub = Subscription.objects.get()
    assert (posted.status_code, posted["Location"]) == (
        302,
        reverse("subscriptions:detail", args=[sub.pk]),
    )
    assert sub.webhook_api_key not in body(posted) + str(dict(posted.headers))
    assert all(sub.webhook_api_key not in m.value for m in posted.cookies.values())
    response = admin_client_.get(posted["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Created the subscription Acme Production" in body(response)
    page = parse(response)
    key = page.by_id("new-webhook-key").text
    assert page.find(class_="secret-once").find("code", id="new-webhook-key")
    assert buttons(response)["Copy to clipboard"].get("data-copy-target") == "new-webhook-key"
    sub = Subscription.objects.get()
    assert sub.webhook_api_key == key
    assert sub.webhook_api_key_digest == Subscription.digest_webhook_key(key)
    again = admin_client_.get(reverse("subscriptions:detail", args=[sub.pk]))
    assert key not in body(again)
    assert parse(again).find(class_="secret-once") is None
    assert "new-webhook-key" not in ids(again)
    assert_key_set_on_a_date(again)


@pytest.mark.django_db
def test_regenerating_asks_first_then_swaps_the_panel_with_the_new_key(admin_client_, admin_user):
    subscription, old_key = make_subscription(admin_user)
    url = reverse("subscriptions:webhook_key_regenerate", args=[subscription.pk])

    confirm = admin_client_.get(url, headers=HX)
    html = body(confirm)
    assert "<html" not in html
    assert html.strip().startswith('<section class="card" id="webhook-key-panel"')
    assert "Regenerate the Webhook API Key?" in html
    (form,) = forms(confirm)
    assert (form.action, form.method, form.element.get("hx-post")) == (url, "post", url)
    assert Subscription.objects.get().webhook_api_key == old_key, "a GET changes nothing"

    response = admin_client_.post(url, {"reason": "leaked in a ticket"}, headers=HX)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    assert "<html" not in html
    assert html.strip().startswith('<section class="card" id="webhook-key-panel"')
    new_key = text_of(response, "new-webhook-key")
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
    page = admin_client_.get(url)
    assert "<html" in body(page)
    assert [(f.action, f.method) for f in forms(page) if f.action == url] == [(url, "post")]
    assert Subscription.objects.get().webhook_api_key == old_key, "a GET changes nothing"
    posted = admin_client_.post(url)
    detail = reverse("subscriptions:detail", args=[subscription.pk])
    assert (posted.status_code, posted["Location"]) == (302, detail)
    new_key = Subscription.objects.get().webhook_api_key
    assert new_key != old_key
    response = admin_client_.get(detail)
    assert "no-store" in response["Cache-Control"]
    assert text_of(response, "new-webhook-key") == new_key
    assert parse(response).find("h1").text == "Acme Production"
    assert "Created the subscription" not in body(response)
    again = admin_client_.get(detail)
    assert new_key not in body(again), "shown once: a reload no longer shows it"
    assert Subscription.objects.get().webhook_api_key == new_key, "a reload regenerates nothing"


# --- two people, one subscription ------------------------------------------------------------


@pytest.mark.django_db
def test_the_later_of_two_saves_is_refused_and_shows_what_changed(
    admin_client_, admin_user, make_user, client_for
):
    subscription, _ = make_subscription(admin_user)
    other = client_for(make_user("bob-admin"))
    url = reverse("subscriptions:edit", args=[subscription.pk])
    # Both open the form at revision 1.
    alice_form = edit_form_data(subscription)
    bob_form = edit_form_data(subscription)
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
    # Field, as opened, as saved meanwhile, as entered now; only fields changed meanwhile.
    assert table_rows(response) == [
        ["Consumer ID", "consumer-abc123", "consumer-bob", "consumer-abc123"],
        ["API Throttle Limit", "100", "250", "300 both changed"],
    ]
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
    form = edit_form_data(subscription, name="Renamed")
    services.webhook_key_regenerate(subscription=subscription, actor=admin_user)
    response = admin_client_.post(url, form)
    assert response.status_code == 409
    assert [row[0] for row in table_rows(response)] == ["Webhook API Key"]
    assert Subscription.objects.get().name == "Acme Production"


# --- delete ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_asks_for_confirmation_then_deletes_and_audits(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    url = reverse("subscriptions:delete", args=[subscription.pk])
    confirm = admin_client_.get(url)
    page = body(confirm)
    assert "Delete Acme Production?" in page and "Reason for this change" in page
    assert [(f.action, f.method) for f in forms(confirm) if "reason" in f.fields] == [
        (url, "post")
    ]
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
    admin_client_.post(reverse("subscriptions:create"), create_form_data(reason="onboarding"))
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
        url, edit_form_data(sub, inventory_search_days="30", version="v1.1")
    )
    updated = AuditEvent.objects.filter(action="subscription.updated").get()
    assert updated.changes == {"version": ["v1.2", "v1.1"], "inventory_search_days": [7, 30]}


@pytest.mark.django_db
def test_acting_on_a_subscription_deleted_meanwhile_is_404(admin_client_, admin_user):
    subscription, _ = make_subscription(admin_user)
    form = edit_form_data(subscription, name="Renamed")
    Subscription.objects.filter(pk=subscription.pk).delete()
    for url, data in [
        (reverse("subscriptions:edit", args=[subscription.pk]), form),
        (reverse("subscriptions:delete", args=[subscription.pk]), {}),
        (reverse("subscriptions:webhook_key_regenerate", args=[subscription.pk]), {}),
    ]:
        assert admin_client_.post(url, data).status_code == 404
