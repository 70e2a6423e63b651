"""The simulator's own behaviour: admin API, token endpoint rules, CLI.

The admin API is driven through :class:`SimulatorAdmin`, as another process would; only
:func:`test_admin_api_status_codes` speaks raw HTTP, for the statuses the client hides.
"""

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from netsuite.certificates import generate_key_and_certificate, self_signed_certificate
from netsuite.simulator import (
    Simulator,
    SimulatorAdmin,
    SimulatorError,
    SimulatorRefused,
    SimulatorUnreachable,
)

from .helpers import ACCOUNT

ROOT = Path(__file__).resolve().parents[2]


def test_admin_api_status_codes(sim, ec_pair):
    def call(method, path, **kwargs):
        return requests.request(method, f"{sim.base_url}/_sim/{path}", timeout=5, **kwargs)

    created = call("POST", "integrations", json={"account_id": ACCOUNT})
    assert created.status_code == 201
    cert = call("POST", "certificates", json={"account_id": ACCOUNT, "certificate_pem": ec_pair[1],
                                              "consumer_id": created.json()["consumer_id"]})
    assert cert.status_code == 201
    assert call("POST", "faults", json={"kind": "record"}).status_code == 201
    assert call("GET", "health").status_code == 200
    for refused, status in (
        (call("GET", "nope"), 404),
        (call("POST", "integrations", data=b"{not json"), 400),
        (call("POST", "integrations", json=[1]), 400),
        (call("DELETE", "certificates/unknown"), 404),
    ):
        assert refused.status_code == status
        assert isinstance(refused.json()["error"], str)


def test_admin_endpoints_register_an_integration_and_a_certificate(admin, ec_pair):
    created = admin.create_integration("1234567_sb1")
    consumer_id = created["consumer_id"]
    assert created["account_id"] == "1234567_SB1" and len(consumer_id) == 64
    chosen = admin.create_integration("1234567", consumer_id="my-consumer")
    assert chosen["consumer_id"] == "my-consumer"
    cert = admin.upload_certificate("1234567_SB1", consumer_id, ec_pair[1])
    assert cert["certificate_id"]
    assert cert["validity_cut"] is False
    admin.revoke_certificate(cert["certificate_id"])
    assert admin.health() == {"ok": True}
    with pytest.raises(SimulatorRefused) as info:
        admin.request("GET", "nope")
    assert info.value.status == 404


def test_certificate_upload_refusals(sim, admin):
    consumer_id = sim.create_integration(ACCOUNT)
    weak = self_signed_certificate(rsa.generate_private_key(public_exponent=65537,
                                                            key_size=2048))
    weak_pem = weak.public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(SimulatorRefused) as info:
        admin.register_certificate(ACCOUNT, consumer_id, weak_pem)
    assert info.value.status == 400 and "2048" in info.value.error
    with pytest.raises(SimulatorRefused) as info:
        admin.register_certificate(ACCOUNT, "unknown", weak_pem)
    assert info.value.status == 400
    with pytest.raises(SimulatorError, match="not a PEM certificate"):
        sim.register_certificate(ACCOUNT, consumer_id, "garbage")


def test_at_most_five_active_certificates(sim):
    consumer_id = sim.create_integration(ACCOUNT)
    ids = [
        sim.register_certificate(ACCOUNT, consumer_id, generate_key_and_certificate("ec-p256")[1])
        for _ in range(5)
    ]
    sixth = generate_key_and_certificate("ec-p256")[1]
    with pytest.raises(SimulatorError, match="five"):
        sim.register_certificate(ACCOUNT, consumer_id, sixth)
    sim.revoke_certificate(ids[0])
    assert sim.register_certificate(ACCOUNT, consumer_id, sixth)


def test_validity_over_two_years_is_cut(sim):
    key = ec.generate_private_key(ec.SECP256R1())
    # The generator refuses more than 730 days; build a ten-year one as openssl would.
    start = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ten years")])
    long_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    consumer_id = sim.create_integration(ACCOUNT)
    registered = sim.state.register_certificate(
        ACCOUNT, consumer_id, long_cert.public_bytes(serialization.Encoding.PEM).decode()
    )
    assert registered.validity_cut is True
    assert registered.not_after - registered.not_before == dt.timedelta(days=730)


def post_token(sim, data, content_type="application/x-www-form-urlencoded"):
    return requests.post(
        f"{sim.base_url}/services/rest/auth/oauth2/v1/token",
        data=data, headers={"Content-Type": content_type}, timeout=5,
    )


def test_token_endpoint_checks_the_request_exactly(sim, client):
    good = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client.build_assertion(),
    }
    assert post_token(sim, good).status_code == 200
    for change in (
        {"grant_type": "password"},
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"client_assertion": "not-a-jwt"},
    ):
        answer = post_token(sim, {**good, **change})
        assert answer.status_code == 400
        assert answer.json() == {"error": "invalid_request"}
    answer = post_token(sim, "grant_type=client_credentials", content_type="application/json")
    assert answer.json() == {"error": "invalid_request"}
    assert sim.stats()["token_refusals"] == {"invalid_request": 4}


def test_faults_through_the_admin_api(sim, admin, client):
    client.fetch_token()
    fault_id = admin.add_fault(path_prefix="/services/rest/record", status=503, count=1)
    assert isinstance(fault_id, int)
    assert client.records.get("location", 1)["name"] == "Location 1"
    assert sim.stats()["faults_served"] == 1
    with pytest.raises(SimulatorRefused) as info:
        admin.add_fault(kind="bogus")
    assert info.value.status == 400
    admin.add_fault(kind="record", count=5)
    admin.clear_faults()
    assert client.records.get("location", 1)["name"] == "Location 1"


def test_stats_and_reset(sim, admin, client):
    client.records.get("location", 1)
    stats = admin.stats()
    assert stats["calls"] == {"token": 1, "record": 1}
    assert stats["accounts"][ACCOUNT]["max_in_flight"] == 1
    admin.reset_stats()
    assert sim.stats()["requests"] == 0


def test_governance_admin(admin, client, creds):
    answer = admin.set_governance(ACCOUNT, account_limit=20,
                                  integration_limits={creds.consumer_id: 3})
    assert answer["accountConcurrencyLimit"] == 20
    assert admin.governance(ACCOUNT)["accountConcurrencyLimit"] == 20
    assert client.records.governance_limits()["integrationConcurrencyLimit"] == 3
    with pytest.raises(SimulatorRefused) as info:
        admin.set_governance(ACCOUNT, account_limit=0)
    assert info.value.status == 400


def test_config_admin(admin):
    answer = admin.configure(latency=0.01, expires_in_format="number")
    assert answer["latency"] == 0.01
    assert admin.config() == answer
    with pytest.raises(SimulatorRefused) as info:
        admin.configure(colour="red")
    assert info.value.status == 400 and "colour" in info.value.error


def test_accounts_are_separate(sim, ec_pair, ec384_pair, make_client):
    one = make_client(sim.provision("1111111", key_pair=ec_pair))
    two = make_client(sim.provision("2222222_SB1", key_pair=ec384_pair))
    one.webhooks.set_flags(245, create=True, update=True, delete=True)
    assert sim.webhook_flags("2222222_SB1")[245]["create"] is False
    two.records.governance_limits()
    assert set(sim.stats()["accounts"]) == {"1111111", "2222222_SB1"}


def test_cli_starts_and_serves(tmp_path):
    out = tmp_path / "creds.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "netsuite.simulator", "--port", "0", "--latency", "0",
         "--records", "customercategory=3", "--provision", "7654321_SB2",
         "--credentials-out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("NetSuite simulator listening on http://127.0.0.1:")
        base_url = line.split()[-1]
        with SimulatorAdmin(base_url) as admin:
            assert admin.health() == {"ok": True}
        deadline = time.monotonic() + 20
        while not out.exists() or not out.read_text().strip().endswith("}"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        import json

        from netsuite.auth import Credentials
        from netsuite.client import NetSuiteClient

        data = json.loads(out.read_text())
        creds = Credentials(data["account_id"], data["consumer_id"], data["certificate_id"],
                            data["private_key_pem"])
        with NetSuiteClient(creds, base_url=base_url) as client:
            assert len(list(client.records.list_ids("customercategory"))) == 3
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_cli_rejects_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "netsuite.simulator", "--records", "oops"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "TYPE=COUNT" in result.stderr


def test_simulator_context_and_restart():
    simulator = Simulator()
    assert "stopped" in repr(simulator)
    with simulator:
        admin = SimulatorAdmin(simulator.base_url)
        assert admin.health() == {"ok": True}
    with pytest.raises(SimulatorUnreachable):
        admin.health()
    admin.close()
    simulator.stop()
