"""Concurrency governance as NetSuite models it ("GovernanceLimits Operation", "Concurrency Limit
per Integration"): one pool per account, integrations with their own limit carved out of it, the
rest sharing the unallocated pool (at least one slot stays unallocated), and governanceLimits
answered to administrator roles only."""

import pytest
import requests

from netsuite.errors import ConcurrencyLimitError, GovernanceNotPermittedError, ScopeError
from netsuite.simulator import SimulatorRefused
from netsuite.transport import RetryPolicy

from .helpers import ACCOUNT

NO_RETRY = RetryPolicy(max_attempts=1)


def _governance(client):
    return requests.get(
        client.urls.governance_url,
        headers={"Authorization": f"Bearer {client.fetch_token().value}"},
        timeout=5,
    )


def test_an_account_limit_integration_gets_no_integration_limit(client):
    limits = client.records.governance_limits()
    assert limits == {
        "accountConcurrencyLimit": 5,
        "accountUnallocatedConcurrencyLimit": 5,
        "integrationLimitType": "accountLimit",
    }


def test_the_unallocated_pool_is_the_account_limit_minus_other_allocations(sim, client):
    other = sim.create_integration(ACCOUNT, name="Other connector", concurrency_limit=2)
    assert client.records.governance_limits()["accountUnallocatedConcurrencyLimit"] == 3
    sim.update_integration(other, concurrency_limit=None)
    assert client.records.governance_limits()["accountUnallocatedConcurrencyLimit"] == 5


def test_an_allocation_must_leave_one_slot_unallocated(sim, creds):
    from netsuite.simulator import SimulatorError

    with pytest.raises(SimulatorError, match="unallocated"):
        sim.set_governance(ACCOUNT, integration_limits={creds.consumer_id: 5})
    sim.set_governance(ACCOUNT, integration_limits={creds.consumer_id: 4})


def test_other_integrations_in_the_shared_pool_leave_this_one_no_room(sim, make_client, creds):
    client = make_client(creds, retry=NO_RETRY)
    sim.create_integration(ACCOUNT, name="Own limit", concurrency_limit=2)
    busy = sim.create_integration(ACCOUNT, name="Busy connector")
    sim.update_integration(busy, slots_in_use=3)
    # The unallocated pool is 3 and another integration without its own limit holds all 3.
    with pytest.raises(ConcurrencyLimitError) as caught:
        client.records.get("location", 1)
    assert caught.value.status == 429
    sim.update_integration(busy, slots_in_use=2)
    assert client.records.get("location", 1)["id"] == "1"


def test_an_integration_with_its_own_limit_is_not_squeezed_by_the_shared_pool(
    sim, make_client, creds
):
    client = make_client(creds, retry=NO_RETRY)
    sim.set_governance(ACCOUNT, integration_limits={creds.consumer_id: 2})
    busy = sim.create_integration(ACCOUNT, name="Busy connector")
    sim.update_integration(busy, slots_in_use=3)
    assert client.records.get("location", 1)["id"] == "1"
    # The account pool (5) is what still binds everyone.
    sim.update_integration(busy, slots_in_use=5)
    with pytest.raises(ConcurrencyLimitError):
        client.records.get("location", 1)


def test_the_simulator_refuses_governance_to_a_non_administrator_with_403(sim, client, creds):
    sim.update_integration(creds.consumer_id, administrator=False)
    answer = _governance(client)
    assert answer.status_code == 403
    detail = answer.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INSUFFICIENT_PERMISSION"
    assert "administrator" in detail["detail"]
    # Everything else still works for that role.
    assert client.records.get("location", 1)["id"] == "1"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_the_client_raises_a_distinct_error_without_retry_or_new_token(
    sim, client, creds, status
):
    client.fetch_token()
    sim.configure(governance_refusal_status=status)
    sim.update_integration(creds.consumer_id, administrator=False)
    sim.reset_stats()
    with pytest.raises(GovernanceNotPermittedError) as caught:
        client.records.governance_limits()
    assert caught.value.status == status
    assert isinstance(caught.value, ScopeError)
    assert "administrator" in caught.value.hint
    stats = sim.stats()
    assert stats["token_requests"] == 0
    assert stats["calls"] == {"governance": 1}
    assert client.stats.token_renewals_after_401 == 0


def test_the_refusal_status_is_limited_to_the_four_alike(sim):
    from netsuite.simulator import SimulatorError

    with pytest.raises(SimulatorError):
        sim.configure(governance_refusal_status=500)


def test_an_expired_token_elsewhere_is_still_renewed(sim, client):
    # Only governanceLimits takes a 401 as final; other calls renew once as before.
    client.records.get("location", 1)
    sim.revoke_tokens(ACCOUNT)
    assert client.records.get("location", 1)["id"] == "1"
    assert client.stats.token_renewals_after_401 == 1


def test_the_admin_api_sets_role_limit_and_usage(admin, client, creds):
    created = admin.create_integration(ACCOUNT, name="Other", administrator=False)
    assert created["administrator"] is False
    answer = admin.update_integration(created["consumer_id"], concurrency_limit=2, slots_in_use=1)
    assert (answer["concurrency_limit"], answer["slots_in_use"]) == (2, 1)
    admin.update_integration(creds.consumer_id, administrator=False)
    admin.configure(governance_refusal_status=404)
    with pytest.raises(GovernanceNotPermittedError) as caught:
        client.records.governance_limits()
    assert caught.value.status == 404
    with pytest.raises(SimulatorRefused) as refused:
        admin.update_integration(creds.consumer_id, colour="blue")
    assert refused.value.status == 400
    with pytest.raises(SimulatorRefused) as missing:
        admin.update_integration("no-such-consumer", administrator=True)
    assert missing.value.status == 404
