"""A connection test left running (the page that drove it was left) shows as interrupted."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from subscriptions.models import ConnectionTest
from tests.html import parse

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def start(client, subscription) -> ConnectionTest:
    client.post(reverse("subscriptions:connection_test", args=[subscription.pk]), **HX)
    return ConnectionTest.objects.get()


def step(client, test):
    return client.post(
        reverse("subscriptions:connection_test_step", args=[test.subscription_id, test.pk]), **HX
    )


def age(test, seconds):
    ConnectionTest.objects.filter(pk=test.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_a_test_left_past_the_bound_is_interrupted_and_never_continued(
    netsuite_sim, support_client, ec_pair, settings
):
    settings.CONNECTION_TEST_STALE_SECONDS = 60
    subscription = netsuite_sim.subscription(pair=ec_pair)
    test = start(support_client, subscription)
    step(support_client, test)  # one step ran, then the page was left
    test.refresh_from_db()
    assert len(test.steps) == 1 and test.steps[0]["at"]
    steps = [{**test.steps[0], "at": (timezone.now() - dt.timedelta(minutes=5)).isoformat()}]
    ConnectionTest.objects.filter(pk=test.pk).update(steps=steps)
    age(test, 300)
    netsuite_sim.sim.reset_stats()

    response = step(support_client, test)
    test.refresh_from_db()
    assert (test.outcome, len(test.steps)) == ("running", 1), "not continued"
    assert netsuite_sim.stats()["requests"] == 0
    html = response.content.decode()
    assert "Interrupted" in html
    assert parse(response).find(hx_post=True) is None, "nothing asks for a next step"
    assert "connection-tested" in response["HX-Trigger"]

    history = support_client.get(reverse("subscriptions:connection_tests", args=[subscription.pk]))
    badges = [b.text for b in parse(history).find_all("span", class_="badge")]
    assert badges.count("Interrupted") == 2  # the health badge and the history row
    listing = support_client.get(reverse("subscriptions:list"))
    assert "Interrupted" in listing.content.decode()


def test_a_running_test_within_the_bound_goes_on(netsuite_sim, support_client, ec_pair, settings):
    settings.CONNECTION_TEST_STALE_SECONDS = 60
    subscription = netsuite_sim.subscription(pair=ec_pair)
    test = start(support_client, subscription)
    age(test, 30)
    response = step(support_client, test)
    test.refresh_from_db()
    assert len(test.steps) == 1
    assert "Interrupted" not in response.content.decode()
    assert parse(response).find(hx_post=True) is not None
    history = support_client.get(reverse("subscriptions:connection_tests", args=[subscription.pk]))
    assert "Interrupted" not in history.content.decode()
