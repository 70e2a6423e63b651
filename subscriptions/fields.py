"""EncryptedTextField: secrets at rest under MultiFernet, each value tagged with its key id.

Stored form: ``enc:fernet:<key id>:<token>``. The key id is the first 8 hex digits of the
SHA-256 of the key, so operators can see which values still use an old key without the
key itself ever being written down. An unreadable value raises; it is never handed back as
ciphertext (that would let a form save the ciphertext as the new secret).
"""

import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc:fernet:"


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...]) -> tuple[str, dict[str, Fernet], MultiFernet]:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: give at least one key.")
    fernets = {}
    for key in keys:
        try:
            fernets[key_id(key)] = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key; generate one with "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from exc
    return key_id(keys[0]), fernets, MultiFernet(list(fernets.values()))


def keyring():
    return _keyring(tuple(k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()))


def encrypt(plaintext: str) -> str:
    newest_id, fernets, _ = keyring()
    token = fernets[newest_id].encrypt(plaintext.encode()).decode()
    return f"{PREFIX}{newest_id}:{token}"


def stored_key_id(stored: str) -> str | None:
    if not stored or not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].split(":", 1)[0]


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("The stored secret is not in the encrypted format.")
    kid, _, token = stored[len(PREFIX) :].partition(":")
    _, fernets, multi = keyring()
    fernet = fernets.get(kid)
    try:
        # A value whose id is unknown may still open with a key given under a new name.
        return (fernet or multi).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            f"A stored secret was encrypted with key {kid}, which is not among "
            "FIELD_ENCRYPTION_KEYS. Restore that key (any position) and run "
            "rotate_encryption_keys."
        ) from exc


def reencrypt(stored: str) -> str:
    """The same secret under the newest key (unchanged if it already uses it)."""
    newest_id, _, _ = keyring()
    if stored_key_id(stored) == newest_id:
        return stored
    return encrypt(decrypt(stored))


class EncryptedTextField(models.TextField):
    """A text column holding ciphertext; Python code sees plaintext, or '' when unset."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
