"""Stored keys are loaded once per process and without re-running the RSA consistency check;
keys as they arrive still get the full check."""

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from netsuite import certificates
from netsuite.certificates import (
    NotPemError,
    WeakKeyError,
    clear_key_cache,
    key_cache_size,
    load_private_key,
    load_stored_private_key,
)


@pytest.fixture(autouse=True)
def empty_cache():
    clear_key_cache()
    yield
    clear_key_cache()


def _inconsistent_rsa_pem(good_pem: str) -> str:
    # A key whose CRT parameter does not match: only the consistency check can tell.
    numbers = load_private_key(good_pem).private_numbers()
    broken = rsa.RSAPrivateNumbers(
        p=numbers.p, q=numbers.q, d=numbers.d, dmp1=numbers.dmp1 + 2, dmq1=numbers.dmq1,
        iqmp=numbers.iqmp, public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    return broken.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_arriving_keys_get_the_full_check_and_stored_keys_skip_it(rsa_pair):
    broken = _inconsistent_rsa_pem(rsa_pair[0])
    with pytest.raises(NotPemError):
        load_private_key(broken)
    assert load_stored_private_key(broken) is not None


def test_a_stored_key_is_loaded_once_per_process(rsa_pair, ec_pair):
    first = load_stored_private_key(rsa_pair[0])
    assert load_stored_private_key(rsa_pair[0] + "\n") is first
    assert load_stored_private_key(ec_pair[0]) is not first
    assert key_cache_size() == 2


def test_the_cache_is_bounded(ec_pair):
    first = load_stored_private_key(ec_pair[0])
    for _ in range(certificates.KEY_CACHE_SIZE):
        load_stored_private_key(certificates.generate_key_and_certificate("ec-p256")[0])
    assert key_cache_size() == certificates.KEY_CACHE_SIZE
    # The least recently used key went first.
    assert load_stored_private_key(ec_pair[0]) is not first


def test_netsuites_rules_still_apply_to_stored_keys():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(WeakKeyError):
        load_stored_private_key(weak)


def test_clients_of_a_validated_key_share_one_loaded_key_and_mint_tokens(
    sim, make_client, rsa_pair
):
    creds = replace(sim.provision("1234567", key_pair=rsa_pair), key_validated=True)
    first, second = make_client(creds), make_client(creds)
    assert first.fetch_token(force=True).value
    assert second.fetch_token(force=True).value
    assert first.private_key is second.private_key
    assert key_cache_size() == 1


def test_an_unvalidated_key_is_checked_in_full(sim, make_client, rsa_pair):
    creds = sim.provision("1234567", key_pair=rsa_pair)
    broken = replace(creds, private_key_pem=_inconsistent_rsa_pem(rsa_pair[0]))
    with pytest.raises(NotPemError):
        make_client(broken).fetch_token()
    assert key_cache_size() == 0
