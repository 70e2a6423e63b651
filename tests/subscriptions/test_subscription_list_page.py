"""The list page: search by name or Account ID, sort by name or update time (the search kept
across pages and sorts), a short Certificate ID with the whole one in its title, the same
number of queries whatever the page holds, and a warning (never a refusal) when two
subscriptions share an Account ID and a Consumer ID."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscriptions.actors import SYSTEM
from subscriptions.models import Subscription
from tests.factories import (
    api_url,
    create_form_data,
    edit_form_data,
    make_subscription,
    unsaved_subscription,
)
from tests.html import links, parse, table_rows

LIST = reverse("subscriptions:list")
LONG_ID = "Ab3dE" * 8 + "xyz"  # 43 characters, as NetSuite's


def names(response) -> list[str]:
    return [row[0].replace(" shares credentials", "") for row in table_rows(response)]


def bulk(n, start=0, **overrides):
    Subscription.objects.bulk_create(
        unsaved_subscription(i, **overrides) for i in range(start, start + n)
    )


def test_search_finds_a_part_of_the_name_or_of_the_account_id(admin_client_):
    bulk(3)
    assert names(admin_client_.get(LIST, {"q": "000001"})) == ["Subscription 000001"]
    assert names(admin_client_.get(LIST, {"q": "1000002"})) == ["Subscription 000002"]
    empty = admin_client_.get(LIST, {"q": "nothing like it"})
    assert empty.status_code == 200
    assert "No subscription matches" in empty.content.decode()


def test_sort_by_name_both_ways_and_by_update_time(admin_client_):
    bulk(3)
    now = timezone.now()
    for i, name in enumerate(["Subscription 000001", "Subscription 000000", "Subscription 000002"]):
        Subscription.objects.filter(name=name).update(updated_at=now - dt.timedelta(days=i))
    assert names(admin_client_.get(LIST)) == [f"Subscription 00000{i}" for i in (0, 1, 2)]
    assert names(admin_client_.get(LIST, {"sort": "-name"}))[0] == "Subscription 000002"
    assert names(admin_client_.get(LIST, {"sort": "-updated"})) == [
        "Subscription 000001", "Subscription 000000", "Subscription 000002"
    ]
    assert names(admin_client_.get(LIST, {"sort": "'; drop table"}))[0] == "Subscription 000000"
    head = parse(admin_client_.get(LIST, {"sort": "-updated"}).content.decode()).find(
        "th", aria_sort=True
    )
    assert head.get("aria-sort") == "descending" and "Updated" in head.text


def test_the_pager_keeps_search_and_sort(admin_client_):
    bulk(60)
    response = admin_client_.get(LIST, {"q": "Subscription", "sort": "-name"})
    assert "?q=Subscription&sort=-name&page=2" in links(response)
    second = admin_client_.get(LIST, {"q": "Subscription", "sort": "-name", "page": 2})
    assert names(second)[-1] == "Subscription 000000"


def test_a_long_certificate_id_is_cut_with_the_whole_value_in_its_title(admin_client_):
    make_subscription(SYSTEM, certificate_id=LONG_ID)
    page = parse(admin_client_.get(LIST).content.decode())
    cut = page.find("span", class_="truncate")
    assert cut.get("title") == LONG_ID
    assert len(cut.text) <= 12 and LONG_ID not in cut.text


def test_the_queries_do_not_grow_with_the_rows_or_shared_pairs(admin_client_):
    bulk(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client_.get(LIST).status_code == 200
    bulk(40, start=100, consumer_id="shared", account_id="7654321")
    with CaptureQueriesContext(connection) as many:
        assert admin_client_.get(LIST, {"q": "Subscription"}).status_code == 200
    assert len(many) == len(few)


def test_the_list_warns_about_subscriptions_sharing_account_and_consumer(admin_client_):
    for name, consumer in (("One", "same"), ("Two", "same"), ("Three", "other")):
        make_subscription(
            SYSTEM, name=name, consumer_id=consumer, account_id="1234567",
            api_url=api_url("1234567"),
        )
    response = admin_client_.get(LIST)
    marked = {row[0] for row in table_rows(response) if "shares credentials" in row[0]}
    assert marked == {"One shares credentials", "Two shares credentials"}
    assert "1 Account ID and Consumer ID pair is used by more than one" in response.content.decode()


def test_the_form_warns_but_saves_a_shared_pair(admin_client_):
    first, _ = make_subscription(SYSTEM, name="First", consumer_id="same", account_id="1234567_SB1")
    response = admin_client_.post(
        reverse("subscriptions:create"),
        create_form_data(name="Second", consumer_id="same"),
        follow=True,
    )
    assert response.status_code == 200
    second = Subscription.objects.get(name="Second")
    messages = [str(m) for m in response.context["messages"]]
    assert any("First uses the same Account ID and Consumer ID" in m for m in messages)
    edit = admin_client_.get(reverse("subscriptions:edit", args=[second.pk]))
    assert "First already uses this Account ID and Consumer ID" in edit.content.decode()
    # A refused edit says it too, beside the errors.
    refused = admin_client_.post(
        reverse("subscriptions:edit", args=[second.pk]), edit_form_data(second, name="")
    )
    assert "First already uses this Account ID and Consumer ID" in refused.content.decode()
    alone = admin_client_.get(reverse("subscriptions:edit", args=[first.pk]))
    assert "Second already uses" in alone.content.decode()
