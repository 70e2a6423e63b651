import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from netsuite.auth import (
    AccessToken,
    Credentials,
    MemoryTokenCache,
    TokenCache,
    build_client_assertion,
    cache_key,
    parse_token_response,
)
from netsuite.errors import UnexpectedResponseError

TOKEN_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


def credentials(key_pem: str, **overrides) -> Credentials:
    values = {
        "account_id": "1234567_SB1",
        "consumer_id": "c" * 64,
        "certificate_id": "cert-id-123",
        "private_key_pem": key_pem,
    }
    values.update(overrides)
    return Credentials(**values)


def decode(assertion: str) -> tuple[dict, dict, str]:
    header_b64, payload_b64, _ = assertion.split(".")
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, options={"verify_signature": False})
    raw_payload = jwt.utils.base64url_decode(payload_b64).decode()
    return header, claims, raw_payload


@pytest.mark.parametrize(
    ("pair_name", "alg"), [("rsa_pair", "PS256"), ("ec_pair", "ES256"), ("ec384_pair", "ES384")]
)
def test_assertion_header_and_claims(request, pair_name, alg):
    key_pem, cert_pem = request.getfixturevalue(pair_name)
    now = 1_750_000_000
    assertion = build_client_assertion(credentials(key_pem), TOKEN_URL, now=now)
    header, claims, raw_payload = decode(assertion)
    assert header == {"typ": "JWT", "alg": alg, "kid": "cert-id-123"}
    assert claims == {
        "iss": "c" * 64,
        "scope": ["restlets", "rest_webservices"],
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
    }
    # The scope travels as a JSON array, not a comma-separated string.
    assert json.loads(raw_payload)["scope"] == ["restlets", "rest_webservices"]
    assert claims["exp"] - claims["iat"] < 3600
    # It verifies with the certificate's public key, and never as RS256.
    from netsuite.certificates import load_certificate

    public_key = load_certificate(cert_pem).public_key()
    jwt.decode(assertion, public_key, algorithms=[alg], audience=TOKEN_URL,
               options={"verify_exp": False})
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(assertion, public_key, algorithms=["RS256"], audience=TOKEN_URL)


def test_p521_signs_es512():
    key = ec.generate_private_key(ec.SECP521R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    header, _, _ = decode(build_client_assertion(credentials(pem), TOKEN_URL))
    assert header["alg"] == "ES512"


def test_assertion_lifetime_must_stay_under_an_hour(ec_pair):
    with pytest.raises(ValueError, match="3599"):
        build_client_assertion(credentials(ec_pair[0]), TOKEN_URL, lifetime=3600)
    _, claims, _ = decode(build_client_assertion(credentials(ec_pair[0]), TOKEN_URL,
                                                 lifetime=3599))
    assert claims["exp"] - claims["iat"] == 3599


def test_credentials_are_trimmed_and_never_show_the_key(ec_pair):
    creds = credentials(ec_pair[0], consumer_id=" abc \n", certificate_id="\tkid ")
    assert creds.consumer_id == "abc" and creds.certificate_id == "kid"
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "PRIVATE KEY" not in text
        assert ec_pair[0][40:80] not in text
        assert "private_key_pem" not in text


def test_access_token_never_shows_its_value():
    token = AccessToken(value="sekrit-token-value-123", expires_at=time.time() + 60)
    assert "sekrit" not in repr(token) and "sekrit" not in str(token)
    assert 55 < token.seconds_left() <= 60


@pytest.mark.parametrize("expires_in", ["3600", 3600, 3600.0, " 3600 "])
def test_expires_in_as_string_or_number(expires_in):
    token = parse_token_response(
        {"access_token": "t", "expires_in": expires_in, "token_type": "Bearer"}, now=1000.0
    )
    assert token.expires_at == 4600.0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"access_token": 5},
        {"access_token": "t", "expires_in": "soon"},
        {"access_token": "t", "expires_in": -5},
        {"access_token": "t", "expires_in": 3600, "token_type": "mac"},
        ["access_token"],
    ],
)
def test_unusable_token_answers(body):
    with pytest.raises(UnexpectedResponseError):
        parse_token_response(body)


def test_memory_token_cache():
    cache = MemoryTokenCache()
    assert isinstance(cache, TokenCache)
    assert cache.get("k") is None
    cache.set("k", "tok", time.time() + 100)
    assert cache.get("k")[0] == "tok"
    cache.set("old", "tok", time.time() - 1)
    assert cache.get("old") is None
    cache.delete("k")
    assert cache.get("k") is None
    assert "tok" not in repr(cache)


def test_cache_key_changes_with_every_credential(ec_pair):
    base = credentials(ec_pair[0])
    key = cache_key(base, key_fingerprint="aa", base_url=None)
    variants = [
        cache_key(credentials(ec_pair[0], account_id="7654321"), key_fingerprint="aa",
                  base_url=None),
        cache_key(credentials(ec_pair[0], consumer_id="other"), key_fingerprint="aa",
                  base_url=None),
        cache_key(credentials(ec_pair[0], certificate_id="other"), key_fingerprint="aa",
                  base_url=None),
        cache_key(base, key_fingerprint="bb", base_url=None),
        cache_key(base, key_fingerprint="aa", base_url="http://127.0.0.1:8765"),
        cache_key(credentials(ec_pair[0], scopes=("restlets",)), key_fingerprint="aa",
                  base_url=None),
    ]
    assert len({key, *variants}) == 7
    assert key == cache_key(base, key_fingerprint="aa", base_url=None)
    assert " " not in key and len(key) < 100
    assert base.consumer_id not in key
