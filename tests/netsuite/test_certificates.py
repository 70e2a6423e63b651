import base64
import datetime as dt
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from netsuite import certificates as c

FINGERPRINT = re.compile(r"^([0-9a-f]{2}:){31}[0-9a-f]{2}$")


def pem_of(key, fmt=serialization.PrivateFormat.PKCS8, encryption=None) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, fmt, encryption or serialization.NoEncryption()
    ).decode()


def public_pem_of(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture(scope="module")
def rsa2048():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_generated_rsa_pair_is_what_openssl_would_make(rsa_pair):
    key_pem, cert_pem = rsa_pair
    assert key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert cert_pem.startswith("-----BEGIN CERTIFICATE-----")
    key = c.load_private_key(key_pem)
    cert = c.load_certificate(cert_pem)
    info = c.describe_certificate(cert)
    assert info.key.kind == "RSA" and info.key.size == 3072
    assert info.key.label == "RSA 3072" and info.key.algorithm == "PS256"
    assert info.validity_days == 365
    assert info.subject == "CN=iPaaS NetSuite integration" == info.issuer
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    c.check_key_matches_certificate(key, cert)
    assert FINGERPRINT.match(info.fingerprint)
    assert info.public_key_fingerprint == c.describe_key(key).fingerprint
    assert not info.is_expired()
    assert 364 <= info.days_left() <= 365


@pytest.mark.parametrize(
    ("key_type", "label", "alg"),
    [("ec-p256", "EC P-256", "ES256"), ("ec-p384", "EC P-384", "ES384")],
)
def test_generated_ec_pairs(key_type, label, alg):
    key_pem, cert_pem = c.generate_key_and_certificate(key_type, days=730, common_name="demo")
    info = c.describe_certificate(c.load_certificate(cert_pem))
    assert info.key.label == label and info.key.algorithm == alg
    assert info.validity_days == 730
    assert info.subject == "CN=demo"
    c.check_key_matches_certificate(c.load_private_key(key_pem), c.load_certificate(cert_pem))


def test_rsa4096_is_offered():
    key = c.generate_private_key("rsa4096")
    assert c.describe_key(key).label == "RSA 4096"


@pytest.mark.parametrize("days", [0, 731, -1, 3650, True])
def test_validity_is_bounded(days):
    with pytest.raises(ValueError, match="730"):
        c.generate_key_and_certificate("ec-p256", days=days)


def test_unknown_key_type_is_refused():
    with pytest.raises(ValueError, match="rsa3072"):
        c.generate_key_and_certificate("rsa2048")


def test_expired_certificate_can_be_made_and_is_detected():
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    _, cert_pem = c.generate_key_and_certificate("ec-p256", days=30, not_before=start)
    cert = c.load_certificate(cert_pem)
    info = c.describe_certificate(cert)
    assert info.is_expired()
    assert info.days_left() < -300
    with pytest.raises(c.CertificateExpiredError, match="expired on"):
        c.check_certificate_current(cert)


def test_key_formats_accepted(rsa_pair):
    rsa_key = c.load_private_key(rsa_pair[0])
    pkcs1 = pem_of(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert pkcs1.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert c.describe_key(c.load_private_key(pkcs1)).label == "RSA 3072"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    sec1 = pem_of(ec_key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert sec1.startswith("-----BEGIN EC PRIVATE KEY-----")
    assert c.describe_key(c.load_private_key(sec1)).label == "EC P-256"
    p521 = ec.generate_private_key(ec.SECP521R1())
    info = c.describe_key(c.load_private_key(pem_of(p521).encode()))
    assert (info.label, info.algorithm) == ("EC P-521", "ES512")


def test_key_pasted_with_its_certificate_is_refused_blank_lines_are_fine(ec_pair):
    """Exactly one PEM block (issue 18's review): what is stored is that key, never whatever
    was pasted with it."""
    key_pem, cert_pem = ec_pair
    combined = f"\n\n{cert_pem}\n{key_pem}\n"
    with pytest.raises(c.ExtraPemContentError, match="2 PEM blocks .*exactly one private key"):
        c.load_private_key(combined)
    assert c.describe_key(c.load_private_key(f"\n\n{key_pem}\n\n")).label == "EC P-256"


def test_certificate_pasted_as_key(ec_pair):
    with pytest.raises(c.CertificateInsteadOfKeyError, match="certificate, not the private key"):
        c.load_private_key(ec_pair[1])


def test_public_key_pasted_as_key():
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(c.PublicKeyInsteadOfPrivateKeyError, match="public key"):
        c.load_private_key(public_pem_of(key))


def test_passphrase_protected_key():
    key = ec.generate_private_key(ec.SECP256R1())
    encrypted = pem_of(key, encryption=serialization.BestAvailableEncryption(b"secret-pass"))
    with pytest.raises(c.EncryptedKeyError, match="passphrase"):
        c.load_private_key(encrypted)
    legacy = pem_of(
        key,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret-pass"),
    )
    with pytest.raises(c.EncryptedKeyError):
        c.load_private_key(legacy)


def test_rsa_2048_is_refused_with_the_size_named(rsa2048):
    with pytest.raises(c.WeakKeyError) as info:
        c.load_private_key(pem_of(rsa2048))
    assert str(info.value) == (
        "RSA 2048-bit keys are refused by NetSuite; generate RSA 3072 or 4096 or EC P-256."
    )


def test_rsa_2048_certificate_is_refused(rsa2048):
    cert = c.self_signed_certificate(rsa2048)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(c.WeakKeyError, match="2048"):
        c.load_certificate(pem)
    assert c.load_certificate(pem, check_key=False).serial_number == cert.serial_number


@pytest.mark.parametrize(
    "garbage",
    [
        "hello",
        "",
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",  # DER in base64 without the armour
        b"\x00\x01\x02",
    ],
)
def test_garbage_is_not_pem(garbage):
    with pytest.raises(c.NotPemError) as info:
        c.load_private_key(garbage)
    assert info.value.message.endswith(".")


def test_truncated_key(ec_pair):
    lines = ec_pair[0].splitlines()
    truncated = "\n".join(lines[:2] + lines[-1:])
    with pytest.raises(c.NotPemError, match="damaged or incomplete"):
        c.load_private_key(truncated)


def test_non_ascii_paste():
    with pytest.raises(c.NotPemError, match="characters"):
        c.load_private_key("-----BEGIN PRIVATE KEY-----\n–\n")


def test_unsupported_algorithms():
    with pytest.raises(c.UnsupportedKeyError, match="Ed25519"):
        c.load_private_key(pem_of(ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(c.UnsupportedKeyError, match="DSA"):
        c.load_private_key(pem_of(dsa.generate_private_key(2048)))
    with pytest.raises(c.UnsupportedKeyError, match="secp256k1"):
        c.load_private_key(pem_of(ec.generate_private_key(ec.SECP256K1())))


def test_openssh_key_is_explained():
    key = ed25519.Ed25519PrivateKey.generate()
    openssh = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    with pytest.raises(c.UnsupportedKeyError, match="OpenSSH"):
        c.load_private_key(openssh)


def test_load_certificate_errors(ec_pair):
    with pytest.raises(c.KeyInsteadOfCertificateError, match="private key, not the certificate"):
        c.load_certificate(ec_pair[0])
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(c.CertificateError, match="bare public key"):
        c.load_certificate(public_pem_of(key))
    with pytest.raises(c.NotPemError, match="not a PEM certificate"):
        c.load_certificate("nonsense")
    with pytest.raises(c.NotPemError, match="damaged"):
        c.load_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")


def test_mismatch(ec_pair, ec384_pair):
    key = c.load_private_key(ec_pair[0])
    other_cert = c.load_certificate(ec384_pair[1])
    with pytest.raises(c.KeyCertificateMismatchError, match="does not belong"):
        c.check_key_matches_certificate(key, other_cert)


def test_every_error_is_a_configuration_error_and_a_value_error():
    for cls in (
        c.NotPemError, c.CertificateInsteadOfKeyError, c.PublicKeyInsteadOfPrivateKeyError,
        c.EncryptedKeyError, c.WeakKeyError, c.UnsupportedKeyError,
        c.KeyCertificateMismatchError, c.CertificateExpiredError,
    ):
        assert issubclass(cls, c.CertificateError)
        assert issubclass(cls, ValueError)


def test_fingerprint_is_sha256_of_the_public_key(ec_pair):
    import hashlib

    key = c.load_private_key(ec_pair[0])
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())
    assert c.describe_key(key).fingerprint == expected
    assert c.describe_key(key.public_key()).fingerprint == expected


def test_a_certificate_with_an_invalid_version_is_refused_as_damaged(ec_pair):
    # Found by tests/property: cryptography raises InvalidVersion, not a ValueError, for a
    # version field other than v1 or v3, and the paste became a 500.
    der = bytearray(x509.load_pem_x509_certificate(ec_pair[1].encode()).public_bytes(
        serialization.Encoding.DER
    ))
    assert der[8:12] == b"\xa0\x03\x02\x01" and der[12] == 2  # [0] EXPLICIT INTEGER 2 (v3)
    der[12] = 1
    body = base64.encodebytes(bytes(der)).decode()
    pem = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"
    with pytest.raises(c.NotPemError, match="damaged or incomplete"):
        c.load_certificate(pem)
