"""Governance: detect NetSuite's limits, propose Concurrent Connections, warn, apply."""

import pytest
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from subscriptions.services.governance import GovernanceError, governance_detect
from tests.html import definitions, forms, parse

pytestmark = pytest.mark.django_db


def detect(client, subscription):
    return client.post(
        reverse("subscriptions:governance", args=[subscription.pk]), HTTP_HX_REQUEST="true"
    )


def test_without_an_integration_limit_it_proposes_the_unallocated_pool(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=3)
    # Another integration of the account holds 4 of its 10 slots as its own limit: what is left
    # (6) is the pool every integration without a limit of its own shares, this one included.
    other = netsuite_sim.sim.create_integration("1234567")
    netsuite_sim.sim.set_governance(
        "1234567", account_limit=10, integration_limits={other: 4}
    )
    response = detect(admin_client_, subscription)
    html = response.content.decode()
    facts = definitions(response)
    assert facts["Account concurrency limit"] == "10"
    assert facts["Unallocated in the account"] == "6"
    assert facts["Proposed Concurrent Connections"].split()[0] == "6"
    assert "unallocated pool" in html and "minus one" not in html
    apply_url = reverse("subscriptions:governance_apply", args=[subscription.pk])
    (apply,) = [form for form in forms(response) if form.action == apply_url]
    assert apply.fields["concurrent_connections"] == "6"  # pre-filled with the proposal
    assert parse(response).find(class_="msg-warning") is None
    event = AuditEvent.objects.get(action="governance.detected")
    assert event.changes["proposed Concurrent Connections"] == [None, 6]
    assert event.changes["unallocated concurrency"] == [None, 6]


def test_an_integration_limit_is_proposed_and_a_higher_setting_warned_about(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=5)
    netsuite_sim.sim.set_governance(
        "1234567", account_limit=10, integration_limits={subscription.consumer_id: 2}
    )
    proposal = governance_detect(subscription=subscription, actor=admin_user)
    assert proposal.integration_specific
    assert proposal.proposed == 2 and proposal.allowed == 2
    assert "Concurrent Connections is 5, but NetSuite allows this integration 2" in (
        proposal.warning
    )


def test_apply_saves_the_value_bumps_the_revision_and_audits(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=3)
    response = admin_client_.post(
        reverse("subscriptions:governance_apply", args=[subscription.pk]),
        {"concurrent_connections": "4", "revision": str(subscription.revision)},
        HTTP_HX_REQUEST="true",
    )
    assert "Concurrent Connections is now 4." in response.content.decode()
    after = Subscription.objects.get(pk=subscription.pk)
    assert after.concurrent_connections == 4
    assert after.revision == subscription.revision + 1
    event = AuditEvent.objects.filter(action="subscription.updated").first()
    assert event.changes == {"concurrent_connections": [3, 4]}


def test_apply_against_a_stale_revision_is_refused(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=3)
    response = admin_client_.post(
        reverse("subscriptions:governance_apply", args=[subscription.pk]),
        {"concurrent_connections": "4", "revision": str(subscription.revision - 1)},
        HTTP_HX_REQUEST="true",
    )
    assert "Someone changed this subscription" in response.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).concurrent_connections == 3


def test_apply_refuses_a_value_out_of_range(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=3)
    response = admin_client_.post(
        reverse("subscriptions:governance_apply", args=[subscription.pk]),
        {"concurrent_connections": "0", "revision": str(subscription.revision)},
    )
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).concurrent_connections == 3


def test_a_failed_detection_is_a_message_and_is_audited(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.add_fault(kind="governance", status=503, count=5)
    html = detect(admin_client_, subscription).content.decode()
    assert "server error" in html and "What to do:" in html
    assert AuditEvent.objects.filter(action="governance.detect_failed").count() == 1
    with pytest.raises(GovernanceError):
        netsuite_sim.sim.add_fault(kind="governance", status=503, count=5)
        governance_detect(subscription=subscription, actor=None)
