"""The client against the simulator's token endpoint, over real HTTP."""

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from netsuite.auth import MemoryTokenCache, assertion_header_and_claims
from netsuite.certificates import describe_key, generate_key_and_certificate, load_private_key
from netsuite.errors import (
    LOGIN_AUDIT_TRAIL,
    AuthenticationError,
    CertificateRejectedError,
    ScopeError,
)

from .helpers import ACCOUNT


@pytest.mark.parametrize("pair_name", ["rsa_pair", "ec_pair", "ec384_pair"])
def test_full_token_flow(request, sim, make_client, pair_name):
    creds = sim.provision(ACCOUNT, key_pair=request.getfixturevalue(pair_name))
    client = make_client(creds)
    token = client.fetch_token()
    assert token.value.startswith("sim1.")
    assert 3590 < token.seconds_left() <= 3600
    assert client.records.governance_limits()["accountConcurrencyLimit"] == 5
    assert sim.stats()["tokens_issued"] == 1
    assert sim.login_audit()[-1]["result"] == "Success"


@pytest.mark.parametrize("fmt", ["string", "number"])
def test_expires_in_string_or_number_from_the_wire(sim, client, fmt):
    sim.configure(expires_in_format=fmt, token_ttl=1800)
    token = client.fetch_token()
    assert 1790 < token.seconds_left() <= 1800


def test_one_token_serves_a_thousand_calls(sim, client):
    def call(_):
        return client.records.get("customrecord_otg_ipaas_auth_details", 1)["name"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        names = list(pool.map(call, range(1000)))
    assert names == ["Production"] * 1000
    stats = sim.stats()
    assert stats["token_requests"] == 1
    assert stats["calls"]["record"] == 1000
    assert client.stats.token_requests == 1


def test_shared_cache_serves_a_second_client(sim, make_client, creds):
    cache = MemoryTokenCache()
    first = make_client(creds, token_cache=cache)
    second = make_client(creds, token_cache=cache)
    assert first.fetch_token().value == second.fetch_token().value
    assert sim.stats()["token_requests"] == 1


def test_changed_credentials_do_not_reuse_a_token(sim, make_client, ec_pair, ec384_pair):
    cache = MemoryTokenCache()
    one = sim.provision(ACCOUNT, key_pair=ec_pair)
    two = sim.provision(ACCOUNT, key_pair=ec384_pair)
    a = make_client(one, token_cache=cache).fetch_token()
    b = make_client(two, token_cache=cache).fetch_token()
    assert a.value != b.value
    assert sim.stats()["token_requests"] == 2


def test_force_mints_a_fresh_token_and_stores_it(sim, client):
    first = client.fetch_token()
    fresh = client.fetch_token(force=True)
    assert fresh.value != first.value
    assert client.fetch_token().value == fresh.value
    assert sim.stats()["token_requests"] == 2


def test_force_trades_an_assertion_already_signed_instead_of_signing_another(sim, client):
    """The connection test signs in one step and trades that very assertion in the next."""
    signed = client.build_assertion()
    token = client.fetch_token(force=True, assertion=signed)
    assert client.fetch_token().value == token.value
    assert client.records.governance_limits()["accountConcurrencyLimit"] == 5
    # What is given is what is sent: a broken one is refused, not replaced by a fresh one.
    header, body, signature = signed.split(".")
    with pytest.raises(AuthenticationError):
        client.fetch_token(force=True, assertion=f"{header}.{body}.{signature[::-1]}")
    assert sim.stats()["token_requests"] == 2


def test_token_is_renewed_before_it_expires(sim, make_client, creds):
    sim.configure(token_ttl=120)
    client = make_client(creds, token_renew_margin=119.5)
    first = client.fetch_token()
    time.sleep(0.6)
    assert client.fetch_token().value != first.value


def test_401_renews_the_token_once(sim, client):
    client.records.list_page("location", limit=1)
    sim.revoke_tokens(ACCOUNT)
    assert client.records.list_page("location", limit=1)["totalResults"] == 12
    assert client.stats.token_renewals_after_401 == 1
    stats = sim.stats()
    assert stats["token_requests"] == 2 and stats["unauthorized"] == 1


def test_401_after_renewal_is_an_authentication_error(sim, client, creds):
    client.records.list_page("location", limit=1)
    sim.revoke_tokens(ACCOUNT)
    sim.revoke_certificate(creds.certificate_id)
    with pytest.raises(AuthenticationError) as info:
        client.records.list_page("location", limit=1)
    # The renewal itself was refused: NetSuite's terse answer with the ordered causes.
    assert info.value.code == "invalid_grant"
    assert sim.stats()["token_requests"] == 2


def forge(creds, token_url, *, alg=None, key=None, **claims):
    key = key or load_private_key(creds.private_key_pem)
    now = int(time.time())
    payload = {"iss": creds.consumer_id, "scope": ["restlets", "rest_webservices"],
               "aud": token_url, "iat": now, "exp": now + 300}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm=alg or describe_key(key).algorithm,
                      headers={"typ": "JWT", "kid": creds.certificate_id})


def assert_ordered_hint(error, first_words):
    hint = error.hint
    assert LOGIN_AUDIT_TRAIL in hint
    order = ["Certificate ID", "expired or was revoked", "Consumer ID", "sandbox refresh",
             "role lacks permissions", "clock"]
    positions = [hint.index(words) for words in order]
    if first_words is None:
        assert positions == sorted(positions)
    else:
        assert hint.index(first_words) < min(positions)


def test_rs256_assertion_is_refused(sim, make_client, rsa_pair):
    creds = sim.provision(ACCOUNT, key_pair=rsa_pair)
    client = make_client(creds)
    forged = forge(creds, client.urls.audience, alg="RS256")
    with pytest.raises(AuthenticationError) as info:
        client.exchange_assertion(forged)
    error = info.value
    assert (error.status, error.code) == (400, "invalid_grant")
    assert "RS256" in error.hint and "PS256" in error.hint
    assert_ordered_hint(error, "signed with RS256")
    assert sim.login_audit()[-1]["detail"].startswith("UnsupportedAlgorithm")


def test_wrong_kid_is_refused(sim, make_client, creds):
    from dataclasses import replace

    client = make_client(replace(creds, certificate_id="not-the-certificate-id"))
    with pytest.raises(AuthenticationError) as info:
        client.fetch_token()
    error = info.value
    assert (error.status, error.code) == (400, "invalid_grant")
    assert not isinstance(error, CertificateRejectedError)
    assert_ordered_hint(error, None)
    assert "Certificate ID" in error.hint.split("(2)")[0]
    assert str(error).startswith("NetSuite refused the credentials.")


def test_wrong_consumer_id_is_invalid_client(sim, make_client, creds):
    from dataclasses import replace

    client = make_client(replace(creds, consumer_id="f" * 64))
    with pytest.raises(AuthenticationError) as info:
        client.fetch_token()
    assert info.value.code == "invalid_client"
    assert_ordered_hint(info.value, None)


def expired_pair():
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    return generate_key_and_certificate("ec-p256", days=30, not_before=start)


def test_expired_certificate_refused_by_netsuite(sim, make_client):
    creds = sim.provision(ACCOUNT, key_pair=expired_pair())
    client = make_client(creds)
    with pytest.raises(AuthenticationError) as info:
        client.fetch_token()
    assert info.value.code == "invalid_grant"
    assert "expired" in info.value.hint
    assert sim.login_audit()[-1]["detail"] == "CertificateExpired"


def test_expired_certificate_known_locally_is_refused_before_calling(sim, make_client):
    creds = sim.provision(ACCOUNT, key_pair=expired_pair(), include_certificate=True)
    client = make_client(creds)
    with pytest.raises(CertificateRejectedError) as info:
        client.fetch_token()
    assert info.value.code == "CERTIFICATE_EXPIRED"
    assert "expired on" in info.value.message
    assert "upload" in info.value.hint
    assert sim.stats()["token_requests"] == 0


def test_mismatched_certificate_known_locally(sim, make_client, creds, ec384_pair):
    from dataclasses import replace

    client = make_client(replace(creds, certificate_pem=ec384_pair[1]))
    with pytest.raises(CertificateRejectedError) as info:
        client.fetch_token()
    assert info.value.code == "KEY_CERTIFICATE_MISMATCH"
    assert sim.stats()["token_requests"] == 0


@pytest.mark.parametrize(
    "aud",
    [
        # Where the request really went (the simulator): NetSuite checks its own URL instead.
        "local",
        # Another account's token URL.
        "https://7654321.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1",
    ],
)
def test_an_audience_other_than_the_accounts_token_url_is_refused(sim, make_client, creds, aud):
    client = make_client(creds)
    forged = forge(creds, client.urls.token_url if aud == "local" else aud)
    with pytest.raises(AuthenticationError) as info:
        client.exchange_assertion(forged)
    assert info.value.code == "invalid_grant"
    assert_ordered_hint(info.value, "aud must be NetSuite's token URL")
    assert sim.login_audit()[-1]["detail"] == "InvalidAudience"


def test_the_clients_audience_is_the_real_token_url_whatever_the_base_url(sim, client):
    assert client.urls.token_url.startswith(sim.base_url)
    _, claims = assertion_header_and_claims(client.build_assertion())
    assert claims["aud"] == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
    )
    assert client.fetch_token(force=True).value


def test_an_assertion_of_exactly_an_hour_is_accepted_as_in_oracles_sample(
    sim, make_client, creds
):
    client = make_client(creds)
    now = int(time.time())
    forged = forge(creds, client.urls.audience, alg="ES256", iat=now, exp=now + 3600)
    assert client.exchange_assertion(forged).value
    assert sim.login_audit()[-1]["result"] == "Success"


def test_an_assertion_living_longer_than_an_hour_is_refused(sim, make_client, creds):
    client = make_client(creds)
    now = int(time.time())
    forged = forge(creds, client.urls.audience, alg="ES256", iat=now, exp=now + 3601)
    with pytest.raises(AuthenticationError) as info:
        client.exchange_assertion(forged)
    assert info.value.code == "invalid_grant"
    assert "exp - iat" in info.value.hint
    assert sim.login_audit()[-1]["detail"] == "TokenLifetimeTooLong"


def test_revoked_certificate_is_refused(sim, make_client, creds):
    sim.revoke_certificate(creds.certificate_id)
    with pytest.raises(AuthenticationError):
        make_client(creds).fetch_token()


def test_signature_from_another_key_is_refused(sim, make_client, creds, ec384_pair):
    client = make_client(creds)
    other = load_private_key(generate_key_and_certificate("ec-p256")[0])
    forged = forge(creds, client.urls.audience, alg="ES256", key=other)
    with pytest.raises(AuthenticationError):
        client.exchange_assertion(forged)
    assert sim.login_audit()[-1]["detail"] == "InvalidSignature"


def test_scope_not_enabled_on_the_integration(sim, make_client, ec_pair):
    key_pem, cert_pem = ec_pair
    consumer_id = sim.create_integration(ACCOUNT, scopes=["rest_webservices"])
    cert_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
    from netsuite.auth import Credentials

    client = make_client(Credentials(ACCOUNT, consumer_id, cert_id, key_pem))
    with pytest.raises(ScopeError) as info:
        client.fetch_token()
    assert info.value.code == "invalid_scope"
    assert "RESTlets" in info.value.hint


def test_token_without_restlets_scope_cannot_call_the_restlet(sim, make_client, ec_pair):
    # The integration allows both scopes; only the token asks for just one.
    creds = sim.provision(
        ACCOUNT, key_pair=ec_pair, scopes=("rest_webservices",),
        integration_scopes=("restlets", "rest_webservices"),
    )
    client = make_client(creds)
    assert client.records.governance_limits()
    with pytest.raises(ScopeError) as info:
        client.webhooks.list_deployments()
    assert info.value.status == 403
    assert info.value.code == "INSUFFICIENT_PERMISSION"
