"""The certificate rotation endpoint: the simulator refuses what NetSuite refuses, then the
client lists, uploads and revokes over real HTTP."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from netsuite import certificates as c
from netsuite.accounts import CLIENTS_PATH
from netsuite.auth import Credentials
from netsuite.errors import (
    AuthenticationError,
    BadRequestError,
    CertificatePermissionError,
    CertificateRejectedError,
    CertificateUploadRefusedError,
    NotFoundError,
    ScopeError,
)
from netsuite.rotation import ClientCertificate, parse_time

from .helpers import ACCOUNT

UTC = dt.UTC


def make_pair(*, days: int = 365, not_before: dt.datetime | None = None, key=None):
    """A key and self-signed certificate of any validity, longer than two years included."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = (not_before or dt.datetime.now(UTC)).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rotation test")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return c.private_key_to_pem(key), cert.public_bytes(serialization.Encoding.PEM).decode()


def certificates_url(sim, consumer_id, certificate_id=None):
    url = f"{sim.base_url}{CLIENTS_PATH}/{consumer_id}/certificates"
    return url + (f"/{certificate_id}/revoke" if certificate_id else "")


def raw_upload(client, sim, creds, pem, *, role=3, entity=-5):
    return client.request(
        "POST", certificates_url(sim, creds.consumer_id),
        json={"fileContent": pem, "role": role, "entity": entity},
    )


# -- the simulator: what it refuses ----------------------------------------------------------


def test_simulator_lists_the_mapped_certificate_in_netsuites_shape(sim, client, creds):
    response = client.request("GET", certificates_url(sim, creds.consumer_id))
    items = response.json()
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert item["certificate_id"] == creds.certificate_id
    assert item["algorithm"] == "EC" and item["revoked"] is False
    assert item["role"]["id"] == 3 and item["entity"]["id"] == -5
    assert item["application"]["application_id"] == creds.consumer_id
    assert parse_time(item["valid_until"]) > parse_time(item["valid_from"])


def test_simulator_refuses_a_role_without_the_permission(sim, client, creds):
    sim.update_integration(creds.consumer_id, can_manage_certificates=False)
    with pytest.raises(ScopeError) as info:
        client.request("GET", certificates_url(sim, creds.consumer_id))
    assert info.value.status == 403 and info.value.code == "INSUFFICIENT_PERMISSION"
    assert "Manage own OAuth 2.0 Client Credentials certificates" in info.value.detail


def test_simulator_refuses_a_token_without_rest_webservices(sim, make_client, ec_pair):
    creds = sim.provision(ACCOUNT, key_pair=ec_pair, scopes=("restlets",))
    client = make_client(creds)
    with pytest.raises(ScopeError) as info:
        client.request("GET", certificates_url(sim, creds.consumer_id))
    assert info.value.status == 403 and "rest_webservices" in info.value.detail


def test_simulator_refuses_uploads_the_setup_page_refuses(sim, client, creds, ec_pair):
    url = certificates_url(sim, creds.consumer_id)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = make_pair(days=30, not_before=dt.datetime.now(UTC) - dt.timedelta(days=60))[1]
    cases = [
        (make_pair(key=weak)[1], "2048"),
        (expired, "expired"),
        (ec_pair[1], "already used"),  # the provisioned certificate, a second time
        ("not a certificate", "not a PEM"),
    ]
    for pem, words in cases:
        with pytest.raises(BadRequestError) as info:
            client.request("POST", url, json={"fileContent": pem, "role": 3, "entity": -5})
        assert info.value.status == 400 and words in info.value.detail, words
    for body, words in [({"role": 3, "entity": -5}, "fileContent"),
                        ({"fileContent": ec_pair[1], "entity": -5}, "role")]:
        with pytest.raises(BadRequestError) as info:
            client.request("POST", url, json=body)
        assert words in info.value.detail
    # "Manage own": another entity's mapping is refused.
    with pytest.raises(ScopeError) as info:
        raw_upload(client, sim, creds, make_pair()[1], entity=7)
    assert info.value.status == 403 and "own" in info.value.detail


def test_simulator_refuses_a_sixth_active_certificate(sim, client, creds):
    for _ in range(4):
        raw_upload(client, sim, creds, make_pair()[1])
    with pytest.raises(BadRequestError) as info:
        raw_upload(client, sim, creds, make_pair()[1])
    assert "five active certificates" in info.value.detail
    # A revoked one no longer counts.
    victim = next(x for x in sim.certificates(creds.consumer_id)
                  if x["certificate_id"] != creds.certificate_id)
    client.request("POST", certificates_url(sim, creds.consumer_id, victim["certificate_id"]))
    assert raw_upload(client, sim, creds, make_pair()[1]).status_code == 200


def test_simulator_cuts_an_upload_to_two_years(sim, client, creds):
    start = dt.datetime.now(UTC).replace(microsecond=0)
    _, pem = make_pair(days=1000, not_before=start)
    item = raw_upload(client, sim, creds, pem).json()
    assert parse_time(item["valid_until"]) == start + dt.timedelta(days=730)


def test_simulator_revoke_answers_text_and_refuses_unknown_ids(sim, client, creds):
    with pytest.raises(NotFoundError):
        client.request("POST", certificates_url(sim, creds.consumer_id, "no-such-id"))
    new = raw_upload(client, sim, creds, make_pair()[1]).json()["certificate_id"]
    response = client.request("POST", certificates_url(sim, creds.consumer_id, new))
    assert response.text == "Successfully revoked"
    with pytest.raises(BadRequestError, match="already revoked"):
        client.request("POST", certificates_url(sim, creds.consumer_id, new))


def test_simulator_refuses_a_token_past_the_two_year_cut(sim, make_client):
    # Valid 900 days by its own dates, started 800 days ago: NetSuite ended it at day 730.
    key_pem, cert_pem = make_pair(days=900, not_before=dt.datetime.now(UTC)
                                  - dt.timedelta(days=800))
    consumer_id = sim.create_integration(ACCOUNT)
    certificate_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
    client = make_client(Credentials(ACCOUNT, consumer_id, certificate_id, key_pem))
    with pytest.raises(AuthenticationError):
        client.fetch_token()
    assert sim.login_audit()[-1]["detail"] == "CertificateExpired"
    # Knowing the certificate, the client says so before asking.
    client = make_client(Credentials(ACCOUNT, consumer_id, certificate_id, key_pem,
                                     certificate_pem=cert_pem))
    with pytest.raises(CertificateRejectedError, match="two years"):
        client.fetch_token()


# -- the client ------------------------------------------------------------------------------


def test_list_returns_typed_entries(client, creds):
    [entry] = client.certificates.list()
    assert isinstance(entry, ClientCertificate)
    assert entry.certificate_id == creds.certificate_id
    assert entry.role_id == "3" and entry.entity_id == "-5" and entry.algorithm == "EC"
    assert entry.is_active() and 360 <= entry.days_left() <= 365
    assert entry.client_id == creds.consumer_id


@pytest.mark.parametrize("answer", ["certificate", "empty"])
def test_upload_then_sign_in_with_it_then_revoke(sim, client, creds, make_client, answer):
    sim.configure(certificate_upload_answer=answer)
    key_pem, cert_pem = make_pair()
    entry = client.certificates.upload(cert_pem, role=3, entity="-5")
    assert entry.certificate_id and entry.certificate_id != creds.certificate_id
    assert {x.certificate_id for x in client.certificates.list()} == {
        creds.certificate_id, entry.certificate_id
    }
    # The new Certificate ID is the JWT kid of a working login.
    rotated = make_client(Credentials(ACCOUNT, creds.consumer_id, entry.certificate_id,
                                      key_pem))
    assert rotated.fetch_token().value
    client.certificates.revoke(entry.certificate_id)
    assert [x.revoked for x in client.certificates.list()
            if x.certificate_id == entry.certificate_id] == [True]
    again = make_client(Credentials(ACCOUNT, creds.consumer_id, entry.certificate_id, key_pem))
    with pytest.raises(AuthenticationError):
        again.fetch_token()
    assert sim.login_audit()[-1]["detail"] == "CertificateRevoked"


def test_find_matches_by_dates_role_and_entity(client, ec_pair, creds):
    [found] = client.certificates.find(ec_pair[1], role=3, entity=-5)
    assert found.certificate_id == creds.certificate_id
    assert client.certificates.find(ec_pair[1], role=3, entity=7) == []
    assert client.certificates.find(make_pair()[1]) == []


def test_upload_refuses_locally_what_netsuite_would(sim, client, creds, ec_pair):
    sim.reset_stats()
    expired = make_pair(days=30, not_before=dt.datetime.now(UTC) - dt.timedelta(days=60))[1]
    with pytest.raises(c.CertificateExpiredError):
        client.certificates.upload(expired, role=3, entity=-5)
    with pytest.raises(c.KeyInsteadOfCertificateError):
        client.certificates.upload(ec_pair[0], role=3, entity=-5)
    for _ in range(4):
        client.certificates.upload(make_pair()[1], role=3, entity=-5)
    with pytest.raises(CertificateUploadRefusedError, match="five active"):
        client.certificates.upload(make_pair()[1], role=3, entity=-5)
    posts = [r for r in sim.requests_seen()
             if r["kind"] == "certificates" and r["method"] == "POST"]
    assert len(posts) == 4


def test_netsuites_refusals_are_upload_errors(client, ec_pair):
    with pytest.raises(CertificateUploadRefusedError) as info:
        client.certificates.upload(ec_pair[1], role=3, entity=-5)
    assert info.value.status == 400 and "already used" in info.value.detail
    assert "five active" in info.value.hint


def test_another_entitys_mapping_is_refused_as_a_permission(client):
    with pytest.raises(CertificatePermissionError) as info:
        client.certificates.upload(make_pair()[1], role=3, entity=7)
    assert "own" in info.value.detail


def test_missing_permission_is_its_own_error_with_the_manual_steps(sim, client, creds):
    sim.update_integration(creds.consumer_id, can_manage_certificates=False)
    for call in (client.certificates.list,
                 lambda: client.certificates.upload(make_pair()[1], role=3, entity=-5),
                 lambda: client.certificates.revoke(creds.certificate_id)):
        with pytest.raises(CertificatePermissionError) as info:
            call()
        assert isinstance(info.value, ScopeError)
        assert "Manage own OAuth 2.0 Client Credentials certificates" in info.value.hint
        assert "OAuth 2.0 Client Credentials (M2M) Setup" in info.value.hint


def test_without_rest_webservices_nothing_is_sent(sim, make_client, ec_pair):
    creds = sim.provision(ACCOUNT, key_pair=ec_pair, scopes=("restlets",))
    client = make_client(creds)
    sim.reset_stats()
    with pytest.raises(ScopeError, match="REST web services"):
        client.certificates.list()
    assert sim.stats()["calls"].get("certificates", 0) == 0


def test_revoke_unknown_is_not_found(client):
    with pytest.raises(NotFoundError, match="no such certificate"):
        client.certificates.revoke("no-such-id")


def test_mapping_ids_come_from_the_admin_knobs(sim, admin, make_client, ec_pair):
    consumer_id = admin.create_integration(ACCOUNT)["consumer_id"]
    admin.update_integration(consumer_id, role=1001, entity=42)
    certificate_id = admin.register_certificate(ACCOUNT, consumer_id, ec_pair[1])
    client = make_client(Credentials(ACCOUNT, consumer_id, certificate_id, ec_pair[0]))
    [entry] = client.certificates.list()
    assert (entry.role_id, entry.entity_id) == ("1001", "42")
    admin.update_integration(consumer_id, can_manage_certificates=False)
    with pytest.raises(CertificatePermissionError):
        client.certificates.list()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-03-01T10:28:38Z", dt.datetime(2026, 3, 1, 10, 28, 38, tzinfo=UTC)),
     ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=UTC)),
     ("3/1/2026", dt.datetime(2026, 3, 1, tzinfo=UTC)),
     (1772360918000, dt.datetime(2026, 3, 1, 10, 28, 38, tzinfo=UTC)),
     (None, None), ("soon", None)],
)
def test_dates_in_every_form_seen(value, expected):
    assert parse_time(value) == expected


# -- NetSuite's two-year cut in netsuite.certificates ------------------------------------------


def test_certificate_info_applies_the_two_year_cut():
    start = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=100)
    _, pem = make_pair(days=1000, not_before=start)
    info = c.describe_certificate(c.load_certificate(pem))
    assert info.not_after == start + dt.timedelta(days=1000)
    assert info.effective_not_after == start + dt.timedelta(days=730)
    assert info.validity_cut
    assert info.days_left() in (629, 630)
    assert not info.is_expired()
    assert info.is_expired(start + dt.timedelta(days=730))
    c.check_certificate_current(c.load_certificate(pem))
    with pytest.raises(c.CertificateExpiredError, match="two years"):
        c.check_certificate_current(c.load_certificate(pem), start + dt.timedelta(days=731))


def test_a_short_certificate_is_not_cut(ec_pair):
    info = c.describe_certificate(c.load_certificate(ec_pair[1]))
    assert info.effective_not_after == info.not_after and not info.validity_cut
