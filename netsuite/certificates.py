"""Keys and certificates for NetSuite's OAuth 2.0 client credentials flow.

NetSuite accepts X.509 certificates with RSA 3072/4096-bit or EC P-256/P-384/P-521 keys and at
most two years of validity. :func:`generate_key_and_certificate` does what the seed's
``openssl req -x509 -newkey rsa:3072 -keyout key.pem -out cert.pem -days 365 -nodes`` does.

People paste keys into a form, so each way a paste goes wrong has its own error class and a
message saying what to do: a certificate where the key belongs, a public key, a passphrase-
protected key, a 2048-bit key, an unsupported algorithm, or plain garbage.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .errors import ConfigurationError

KEY_TYPES = ("rsa3072", "rsa4096", "ec-p256", "ec-p384")
# Keys of the subscriptions one process serves; a bounded LRU so a long-lived worker that
# sees many subscriptions does not hold every key it ever loaded.
KEY_CACHE_SIZE = 64
_KEY_CACHE: OrderedDict[str, object] = OrderedDict()
_KEY_CACHE_LOCK = threading.Lock()
MAX_VALIDITY_DAYS = 730
RSA_SIZES = (3072, 4096)

_CURVES = {
    "secp256r1": ("P-256", "ES256"),
    "secp384r1": ("P-384", "ES384"),
    "secp521r1": ("P-521", "ES512"),
}
_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL
)


class CertificateError(ConfigurationError):
    """Base of every key or certificate problem; the message says what to do."""

    default_message = "The key or certificate cannot be used."
    default_hint = (
        "Generate a new key and certificate here, or run openssl req -x509 -newkey rsa:3072 "
        "-keyout key.pem -out cert.pem -days 365 -nodes and paste key.pem."
    )


class NotPemError(CertificateError):
    pass


class ExtraPemContentError(CertificateError):
    """A pasted private key with more than its one PEM block: a second key, a certificate,
    markup. Stored as it was, whatever followed the key would have been kept beside it."""


class CertificateInsteadOfKeyError(CertificateError):
    pass


class KeyInsteadOfCertificateError(CertificateError):
    pass


class PublicKeyInsteadOfPrivateKeyError(CertificateError):
    pass


class EncryptedKeyError(CertificateError):
    pass


class WeakKeyError(CertificateError):
    pass


class UnsupportedKeyError(CertificateError):
    pass


class KeyCertificateMismatchError(CertificateError):
    pass


class CertificateExpiredError(CertificateError):
    pass


@dataclass(frozen=True)
class KeyInfo:
    kind: str  # "RSA" or "EC"
    size: int  # bits: 3072, 4096, 256, 384, 521
    fingerprint: str  # SHA-256 of the public key's DER SubjectPublicKeyInfo
    algorithm: str  # the JWT alg NetSuite wants for this key

    @property
    def label(self) -> str:
        if self.kind == "EC":
            return f"EC P-{self.size}"
        return f"{self.kind} {self.size}"


@dataclass(frozen=True)
class CertificateInfo:
    fingerprint: str
    public_key_fingerprint: str
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    key: KeyInfo

    @property
    def effective_not_after(self) -> dt.datetime:
        """When NetSuite stops accepting it: the certificate's own end, or two years after its
        start when that comes first (NetSuite cuts longer certificates to two years)."""
        return effective_not_after(self.not_before, self.not_after)

    @property
    def validity_cut(self) -> bool:
        """True when NetSuite will end this certificate before its own ``not_after``."""
        return self.effective_not_after < self.not_after

    def days_left(self, now: dt.datetime | None = None) -> int:
        """Whole days until NetSuite stops accepting it; negative once expired."""
        remaining = self.effective_not_after - (now or _utcnow())
        return remaining.days

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return (now or _utcnow()) >= self.effective_not_after

    @property
    def validity_days(self) -> int:
        return (self.not_after - self.not_before).days


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def effective_not_after(not_before: dt.datetime, not_after: dt.datetime) -> dt.datetime:
    """The earlier of ``not_after`` and ``not_before`` + :data:`MAX_VALIDITY_DAYS`."""
    return min(not_after, not_before + dt.timedelta(days=MAX_VALIDITY_DAYS))


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _as_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, str):
        try:
            return pem.encode("ascii")
        except UnicodeEncodeError:
            raise NotPemError(
                "The pasted text contains characters that never appear in a PEM file; paste the "
                "file's content exactly as it is, including the BEGIN and END lines."
            ) from None
    if isinstance(pem, bytes):
        return pem
    raise NotPemError("Paste the PEM text of the file, including the BEGIN and END lines.")


def _blocks(data: bytes) -> list[tuple[str, bytes]]:
    return [(m.group(1).decode(), m.group(0)) for m in _PEM_BLOCK.finditer(data)]


def _key_kind_error(key: object) -> CertificateError | None:
    """``None`` when NetSuite accepts this key type and size, else the error to raise."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        size = key.key_size
        if size < 3072:
            return WeakKeyError(
                f"RSA {size}-bit keys are refused by NetSuite; generate RSA 3072 or 4096 or "
                "EC P-256."
            )
        if size not in RSA_SIZES:
            return UnsupportedKeyError(
                f"NetSuite accepts RSA keys of 3072 or 4096 bits, not {size}; generate RSA "
                "3072 or 4096 or EC P-256."
            )
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name not in _CURVES:
            return UnsupportedKeyError(
                f"NetSuite accepts EC keys on P-256, P-384 or P-521, not {key.curve.name}; "
                "generate an EC P-256 or RSA 3072 key."
            )
        return None
    name = type(key).__name__.replace("_", "").replace("PrivateKey", "").replace(
        "PublicKey", ""
    )
    return UnsupportedKeyError(
        f"NetSuite does not accept {name or 'this kind of'} keys; generate RSA 3072 or 4096 or "
        "EC P-256."
    )


def load_private_key(pem: str | bytes):
    """The private key in ``pem`` (PKCS#1, PKCS#8 or SEC1), checked against NetSuite's rules.

    Always the full check, RSA consistency included: this is for keys as they arrive (pasted,
    uploaded, generated). A key that already passed it when stored is loaded faster with
    :func:`load_stored_private_key`.
    """
    return _load_private_key(pem, validate=True)


def load_stored_private_key(pem: str | bytes):
    """A private key that was validated when it was stored, loaded once per process.

    cryptography's RSA consistency check costs ~150 ms for a 3072-bit key; paying it on every
    client and every token mint buys nothing for a key that passed :func:`load_private_key`
    before it was saved. This skips that check (``unsafe_skip_rsa_key_validation``) and keeps
    the loaded key in a small per-process cache, keyed by a SHA-256 of the PEM, in memory only
    (never written anywhere). NetSuite's rules (type, size, no passphrase) are still applied.
    """
    data = _as_bytes(pem).strip()
    digest = hashlib.sha256(data).hexdigest()
    with _KEY_CACHE_LOCK:
        key = _KEY_CACHE.get(digest)
        if key is not None:
            _KEY_CACHE.move_to_end(digest)
            return key
    key = _load_private_key(data, validate=False)
    with _KEY_CACHE_LOCK:
        _KEY_CACHE[digest] = key
        while len(_KEY_CACHE) > KEY_CACHE_SIZE:
            _KEY_CACHE.popitem(last=False)
    return key


def clear_key_cache() -> None:
    """Forget every loaded key (a test, or a process that wants them gone from memory)."""
    with _KEY_CACHE_LOCK:
        _KEY_CACHE.clear()


def key_cache_size() -> int:
    with _KEY_CACHE_LOCK:
        return len(_KEY_CACHE)


def _refuse_extra_content(data: bytes, blocks: list[tuple[str, bytes]]) -> None:
    """A key as it arrives is exactly one PEM block, with nothing but whitespace around it:
    what is kept is then that key (re-serialised), never something pasted with it."""
    labels = ", ".join(label for label, _ in blocks)
    if len(blocks) > 1:
        raise ExtraPemContentError(
            f"The pasted text holds {len(blocks)} PEM blocks ({labels}); paste exactly one "
            "private key, from its -----BEGIN line to its -----END line, and nothing else."
        )
    outside = data.replace(blocks[0][1], b"", 1)
    if outside.strip():
        raise ExtraPemContentError(
            "The pasted text has more than the key around it; paste exactly one private key, "
            "from its -----BEGIN line to its -----END line, and nothing else."
        )


def _load_private_key(pem: str | bytes, *, validate: bool):
    data = _as_bytes(pem).strip()
    if not data:
        raise NotPemError(
            "No private key was given; paste the whole content of the key file (key.pem)."
        )
    blocks = _blocks(data)
    labels = [label for label, _ in blocks]
    if "ENCRYPTED PRIVATE KEY" in labels or b"Proc-Type: 4,ENCRYPTED" in data:
        raise EncryptedKeyError(
            "This private key is protected by a passphrase; NetSuite's flow needs it without "
            "one. Export it with openssl pkey -in key.pem -out key-plain.pem (or generate it "
            "with -nodes) and paste that."
        )
    if "OPENSSH PRIVATE KEY" in labels:
        raise UnsupportedKeyError(
            "This is an OpenSSH key; paste a PEM private key (BEGIN PRIVATE KEY), for example "
            "from openssl req -x509 -newkey rsa:3072 ... -nodes."
        )
    key_blocks = [block for label, block in blocks if label.endswith("PRIVATE KEY")]
    if validate and key_blocks:
        _refuse_extra_content(data, blocks)
    if not key_blocks:
        if "CERTIFICATE" in labels:
            raise CertificateInsteadOfKeyError(
                "This is a certificate, not the private key. Paste the key file (key.pem, "
                "starting with -----BEGIN PRIVATE KEY-----); the certificate is what you upload "
                "to NetSuite."
            )
        if "PUBLIC KEY" in labels or "RSA PUBLIC KEY" in labels:
            raise PublicKeyInsteadOfPrivateKeyError(
                "This is a public key; NetSuite's flow needs the private key. Paste the key "
                "file (starting with -----BEGIN PRIVATE KEY-----)."
            )
        if "CERTIFICATE REQUEST" in labels:
            raise CertificateInsteadOfKeyError(
                "This is a certificate signing request, not the private key. Paste the key file "
                "(starting with -----BEGIN PRIVATE KEY-----)."
            )
        raise NotPemError(
            "This is not a PEM private key. Paste the whole content of the key file, from "
            "-----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----."
        )
    try:
        key = serialization.load_pem_private_key(
            key_blocks[0], password=None, unsafe_skip_rsa_key_validation=not validate
        )
    except TypeError:
        raise EncryptedKeyError(
            "This private key is protected by a passphrase; paste it without one (openssl pkey "
            "-in key.pem -out key-plain.pem)."
        ) from None
    except UnsupportedAlgorithm:
        raise UnsupportedKeyError(
            "This key uses an algorithm NetSuite does not accept; generate RSA 3072 or 4096 or "
            "EC P-256."
        ) from None
    except ValueError:
        raise NotPemError(
            "The private key is damaged or incomplete; paste the whole file again, including "
            "the BEGIN and END lines and every line between them."
        ) from None
    problem = _key_kind_error(key)
    if problem is not None:
        raise problem
    return key


def load_certificate(pem: str | bytes, *, check_key: bool = True) -> x509.Certificate:
    """The first certificate in ``pem``; with ``check_key``, its key must suit NetSuite.

    A certificate once parsed is kept (a few per process, like the keys of
    :func:`load_stored_private_key`; a certificate is public): every connection test and
    every client of a subscription checks the same one again."""
    return _load_certificate(_as_bytes(pem).strip(), check_key)


@functools.lru_cache(maxsize=32)
def _load_certificate(data: bytes, check_key: bool) -> x509.Certificate:
    if not data:
        raise NotPemError("No certificate was given; paste the content of cert.pem.")
    blocks = _blocks(data)
    cert_blocks = [block for label, block in blocks if label in ("CERTIFICATE", "X509 CERTIFICATE")]
    labels = [label for label, _ in blocks]
    if not cert_blocks:
        if any(label.endswith("PRIVATE KEY") for label in labels):
            raise KeyInsteadOfCertificateError(
                "This is a private key, not the certificate. Keep the private key secret and "
                "paste the certificate (cert.pem, starting with -----BEGIN CERTIFICATE-----)."
            )
        if any(label.endswith("PUBLIC KEY") for label in labels):
            raise CertificateError(
                "This is a bare public key; NetSuite needs an X.509 certificate (cert.pem, "
                "starting with -----BEGIN CERTIFICATE-----)."
            )
        raise NotPemError(
            "This is not a PEM certificate. Paste the whole content of cert.pem, from "
            "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_blocks[0])
        # cryptography parses names and extensions only when they are read: a damaged issuer
        # would otherwise pass here and fail later, in describe_certificate.
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        cert.extensions  # noqa: B018
    except (ValueError, x509.InvalidVersion):
        # InvalidVersion (a version field other than v1 or v3) is not a ValueError.
        raise NotPemError(
            "The certificate is damaged or incomplete; paste the whole file again, including "
            "the BEGIN and END lines."
        ) from None
    if check_key:
        try:
            public_key = cert.public_key()
        except (ValueError, UnsupportedAlgorithm):
            raise UnsupportedKeyError(
                "The certificate's key uses an algorithm NetSuite does not accept; generate RSA "
                "3072 or 4096 or EC P-256."
            ) from None
        problem = _key_kind_error(public_key)
        if problem is not None:
            raise problem
    return cert


def _public_key(key):
    return key.public_key() if hasattr(key, "private_bytes") else key


def public_key_fingerprint(key) -> str:
    der = _public_key(key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return colon_hex(hashlib.sha256(der).digest())


def describe_key(key) -> KeyInfo:
    """Kind, size, fingerprint and JWT algorithm of a private or public key."""
    public = _public_key(key)
    fingerprint = public_key_fingerprint(public)
    if isinstance(public, rsa.RSAPublicKey):
        return KeyInfo("RSA", public.key_size, fingerprint, "PS256")
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in _CURVES:
        return KeyInfo("EC", public.curve.key_size, fingerprint, _CURVES[public.curve.name][1])
    problem = _key_kind_error(public)
    raise problem or UnsupportedKeyError("NetSuite does not accept this key.")


@functools.lru_cache(maxsize=32)  # CertificateInfo is frozen, a certificate immutable
def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        fingerprint=colon_hex(cert.fingerprint(hashes.SHA256())),
        public_key_fingerprint=public_key_fingerprint(cert.public_key()),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key=describe_key(cert.public_key()),
    )


def check_key_matches_certificate(private_key, certificate: x509.Certificate) -> None:
    if public_key_fingerprint(private_key) != public_key_fingerprint(certificate.public_key()):
        raise KeyCertificateMismatchError(
            "The private key does not belong to this certificate. Use the key file generated "
            "together with the certificate uploaded to NetSuite, or generate a new pair and "
            "upload the new certificate."
        )


def check_certificate_current(
    certificate: x509.Certificate, now: dt.datetime | None = None
) -> None:
    """Raise :class:`CertificateExpiredError` when NetSuite would refuse it for its dates.

    The end that counts is NetSuite's: a certificate valid for more than two years stops
    working two years after its start, whatever its own ``not_after`` says.
    """
    now = now or _utcnow()
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    end = effective_not_after(not_before, not_after)
    if now >= end:
        day = end.date().isoformat()
        cut = (
            f" (NetSuite cuts certificates to two years; the certificate itself says "
            f"{not_after.date().isoformat()})"
            if end < not_after
            else ""
        )
        raise CertificateExpiredError(
            f"The certificate expired on {day}{cut}. Generate a new key and certificate, upload "
            "the certificate in NetSuite and save the new Certificate ID and private key here."
        )
    if now < not_before:
        day = not_before.isoformat(timespec="seconds")
        raise CertificateExpiredError(
            f"The certificate is not valid before {day}; check this server's clock or generate "
            "a new certificate."
        )


def generate_private_key(key_type: str = "rsa3072"):
    if key_type == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if key_type == "rsa4096":
        return rsa.generate_private_key(public_exponent=65537, key_size=4096)
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"key_type must be one of {', '.join(KEY_TYPES)}, not {key_type!r}.")


def private_key_to_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def self_signed_certificate(
    key,
    *,
    days: int = 365,
    common_name: str = "iPaaS NetSuite integration",
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A self-signed certificate shaped like ``openssl req -x509`` makes one."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ValueError(
            f"days must be between 1 and {MAX_VALIDITY_DAYS}: NetSuite cuts certificates to two "
            "years."
        )
    start = (not_before or _utcnow()).astimezone(dt.UTC).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public = key.public_key()
    digest = hashes.SHA384() if getattr(getattr(key, "curve", None), "key_size", 0) >= 384 else (
        hashes.SHA256()
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    return builder.sign(key, digest)


def generate_key_and_certificate(
    key_type: str = "rsa3072",
    days: int = 365,
    common_name: str = "iPaaS NetSuite integration",
    not_before: dt.datetime | None = None,
) -> tuple[str, str]:
    """``(private_key_pem, certificate_pem)``: an unencrypted PKCS#8 key and its certificate."""
    if key_type not in KEY_TYPES:
        raise ValueError(f"key_type must be one of {', '.join(KEY_TYPES)}, not {key_type!r}.")
    if not common_name or len(common_name) > 64:
        raise ValueError("common_name must be 1 to 64 characters.")
    # Validate days before the slow RSA generation.
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ValueError(
            f"days must be between 1 and {MAX_VALIDITY_DAYS}: NetSuite cuts certificates to two "
            "years."
        )
    key = generate_private_key(key_type)
    cert = self_signed_certificate(key, days=days, common_name=common_name, not_before=not_before)
    return private_key_to_pem(key), cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
