"""Every aria-describedby and aria-labelledby on every page names an element that exists:
a screen reader given an id that is not there reads neither the help nor the error."""

import pytest
from django.urls import reverse

from subscriptions.models import AuditEvent
from tests.html import ids, parse


def dangling(html: str) -> list[str]:
    present = ids(html)
    return [
        f"{element.tag}#{element.get('id') or element.get('name')} -> {name}"
        for element in parse(html).iter()
        for attribute in ("aria-describedby", "aria-labelledby")
        for name in (element.get(attribute) or "").split()
        if name not in present
    ]


@pytest.fixture
def pages(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription("Acme", pair=ec_pair)
    s = [subscription.pk]
    urls = [
        reverse("subscriptions:list"),
        reverse("subscriptions:create"),
        reverse("subscriptions:detail", args=s),
        reverse("subscriptions:edit", args=s),
        reverse("subscriptions:certificates", args=s),
        reverse("subscriptions:webhooks", args=s),
        reverse("subscriptions:auth_details", args=s),
        reverse("subscriptions:governance", args=s),
        reverse("subscriptions:setup_check", args=s),
        reverse("subscriptions:connection_tests", args=s),
        reverse("subscriptions:audit_list"),
        reverse("subscriptions:audit_detail", args=[AuditEvent.objects.latest("id").pk]),
        reverse("subscriptions:people"),
    ]
    return subscription, urls


def test_no_page_names_an_id_it_does_not_have(pages, admin_client_):
    _subscription, urls = pages
    for url in urls:
        response = admin_client_.get(url)
        assert response.status_code == 200, url
        assert dangling(response.content.decode()) == [], url


def test_refused_forms_name_their_error_ids_too(pages, admin_client_):
    subscription, _urls = pages
    refused = [
        admin_client_.post(reverse("subscriptions:create"), {"name": ""}),
        admin_client_.post(reverse("subscriptions:people_invite"), {"email": "x"}),
        admin_client_.post(
            reverse("subscriptions:certificate_generate", args=[subscription.pk]),
            {"key_type": "nonsense"},
        ),
    ]
    for response in refused:
        html = response.content.decode()
        assert "errorlist" in html or response.status_code >= 300
        if response.status_code < 300:
            assert dangling(html) == []


def test_the_check_sees_a_dangling_id():
    assert dangling('<input id="a" aria-describedby="a_help a_error"><p id="a_help"></p>') == [
        "input#a -> a_error"
    ]
