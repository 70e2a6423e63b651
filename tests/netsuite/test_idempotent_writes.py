"""Writes are never doubled: a create or an upload NetSuite may have stored is not sent again.

The simulator stores and then fails (``after_store``), or fails before storing; each test
counts what NetSuite holds and how many POSTs reached it, over real HTTP.
"""

from __future__ import annotations

import uuid

import pytest

from netsuite.accounts import CLIENTS_PATH, RECORD_PATH
from netsuite.certificates import generate_key_and_certificate
from netsuite.errors import (
    BadRequestError,
    ConcurrencyLimitError,
    NetSuiteUnavailableError,
    OutcomeUnknownError,
    UploadNotDoneError,
)
from netsuite.transport import Transport

from .helpers import FAST_RETRY

LOCATIONS = f"{RECORD_PATH}/location"


def posts(sim, path_prefix: str) -> list[dict]:
    return [r for r in sim.requests_seen()
            if r["method"] == "POST" and r["path"].startswith(path_prefix)]


def location_ids(client) -> set[str]:
    return set(client.records.list_ids("location"))


# -- record creates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [({"status": 503}, NetSuiteUnavailableError),
     ({"action": "disconnect"}, OutcomeUnknownError)],
)
def test_a_create_netsuite_stored_before_failing_is_not_sent_again(sim, client, fault, error):
    before = location_ids(client)
    sim.add_fault(kind="record", method="POST", after_store=True, count=5, **fault)
    with pytest.raises(error):
        client.records.create("location", {"name": "Warehouse 9"})
    assert len(posts(sim, LOCATIONS)) == 1
    added = location_ids(client) - before
    assert len(added) == 1
    assert client.records.get("location", added.pop())["name"] == "Warehouse 9"


def test_a_create_refused_for_concurrency_is_retried_and_stored_once(sim, client):
    before = location_ids(client)
    sim.add_fault(kind="record", method="POST", status=429, count=2)
    new_id = client.records.create("location", {"name": "Warehouse 10"})
    assert len(posts(sim, LOCATIONS)) == 3
    assert location_ids(client) - before == {new_id}
    # The retries are one logical create: the same key each time.
    keys = {r["headers"]["x-netsuite-idempotency-key"] for r in posts(sim, LOCATIONS)}
    assert len(keys) == 1


def test_every_create_carries_its_own_idempotency_key(sim, client):
    client.records.create("location", {"name": "A"})
    client.records.create("location", {"name": "B"})
    keys = [r["headers"].get("x-netsuite-idempotency-key") for r in posts(sim, LOCATIONS)]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert all(uuid.UUID(key).version == 4 for key in keys)


def test_the_simulator_refuses_a_repeated_key_as_oracle_documents(sim, client):
    before = location_ids(client)
    first = client.records.create("location", {"name": "Once"}, idempotency_key="k-1")
    with pytest.raises(BadRequestError) as refused:
        client.records.create("location", {"name": "Twice"}, idempotency_key="k-1")
    assert refused.value.status == 400 and refused.value.code == "IDEMPOTENCY_ERROR"
    assert "same idempotency key" in refused.value.detail
    duplicate = posts(sim, LOCATIONS)[-1]
    assert duplicate["headers"]["x-netsuite-idempotency-key"] == "k-1"
    assert location_ids(client) - before == {first}


def test_a_key_past_its_retention_creates_again(sim, client):
    before = location_ids(client)
    first = client.records.create("location", {"name": "Old"}, idempotency_key="k-2")
    sim.state.idempotency_retention = -1.0
    second = client.records.create("location", {"name": "New"}, idempotency_key="k-2")
    assert first != second and location_ids(client) - before == {first, second}


# -- what stays retried -----------------------------------------------------------------------


def test_suiteql_is_a_read_and_is_retried_after_a_server_error(sim, client):
    sim.add_fault(kind="suiteql", status=503, count=2)
    rows = list(client.records.suiteql("SELECT id FROM location ORDER BY id"))
    assert rows and len(posts(sim, "/services/rest/query")) == 3


def test_the_token_request_is_retried_after_a_dropped_connection(sim, client):
    sim.add_fault(kind="token", action="disconnect", count=2)
    assert client.fetch_token(force=True).value
    assert client.stats.connection_errors == 2


def test_a_post_that_never_reached_netsuite_is_retried(closed_port):
    transport = Transport(retry=FAST_RETRY)
    with pytest.raises(NetSuiteUnavailableError) as failed:
        transport.send("POST", f"http://127.0.0.1:{closed_port}/x", data=b"{}")
    assert not isinstance(failed.value, OutcomeUnknownError)
    assert transport.stats.requests_sent == FAST_RETRY.max_attempts
    transport.close()


def test_a_create_refused_for_concurrency_every_time_says_so(sim, make_client, creds):
    client = make_client(creds)
    sim.add_fault(kind="record", method="POST", status=429, count=100)
    with pytest.raises(ConcurrencyLimitError):
        client.records.create("location", {"name": "Never"})
    assert len(posts(sim, LOCATIONS)) == FAST_RETRY.max_attempts


# -- certificate uploads ----------------------------------------------------------------------


def certificate_posts(sim, creds) -> list[dict]:
    return posts(sim, f"{CLIENTS_PATH}/{creds.consumer_id}/certificates")


@pytest.mark.parametrize("fault", [{"status": 503}, {"action": "disconnect"}])
def test_an_upload_netsuite_stored_before_failing_is_found_not_repeated(
    sim, client, creds, fault
):
    _, cert_pem = generate_key_and_certificate("ec-p256")
    sim.add_fault(kind="certificates", method="POST", after_store=True, count=5, **fault)
    entry = client.certificates.upload(cert_pem, role=3, entity=-5)
    assert len(certificate_posts(sim, creds)) == 1
    listed = sim.certificates(creds.consumer_id)
    assert [c["certificate_id"] for c in listed if c["certificate_id"] != creds.certificate_id
            ] == [entry.certificate_id]
    assert {c["certificate_id"] for c in listed} == {creds.certificate_id, entry.certificate_id}


@pytest.mark.parametrize("fault", [{"status": 503}, {"action": "disconnect"}])
def test_an_upload_that_failed_before_storing_is_reported_as_not_done(
    sim, client, creds, fault
):
    _, cert_pem = generate_key_and_certificate("ec-p256")
    sim.add_fault(kind="certificates", method="POST", count=5, **fault)
    with pytest.raises(UploadNotDoneError) as failed:
        client.certificates.upload(cert_pem, role=3, entity=-5)
    assert "not" in failed.value.message and "tried again" in failed.value.hint
    assert len(certificate_posts(sim, creds)) == 1
    assert [c["certificate_id"] for c in sim.certificates(creds.consumer_id)] == [
        creds.certificate_id
    ]
    sim.clear_faults()
    entry = client.certificates.upload(cert_pem, role=3, entity=-5)
    assert len(sim.certificates(creds.consumer_id)) == 2 and entry.certificate_id
