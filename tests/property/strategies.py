"""Strategies and checks the property tests share; a plain module, not a test module."""

from __future__ import annotations

import base64
import contextlib
import json

from hypothesis import strategies as st

# Text as people and scripts send it, lone surrogates and control characters included
# (Hypothesis leaves surrogates out of st.text() by default; JSON's \ud800 brings them in).
any_char = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    # Drawn often on purpose: among a million code points Hypothesis rarely picks these.
    st.sampled_from(["\x00", "\ud800", "\udfff", "\x1b", "\u2028", "\ufeff", "\n", " "]),
)
any_text = st.text(any_char, max_size=60)

# What the host of a URL can be smuggled with.
URL_SEPARATORS = [
    "#",
    "/",
    "?",
    "@",
    ":",
    "\\",
    ".",
    "%2F",
    "%40",
    "%23",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\x00",
    "\u3002",
    "\uff0e",
    "\uff20",
    "\u2215",
    ".evil.example",
    "@evil.example",
    "#@evil.example",
    "/../",
    "..",
    "-",
    "_",
    "__",
]
nasty = st.sampled_from(URL_SEPARATORS)

# Account IDs as NetSuite writes them, and as people paste them (lower case, host labels).
plausible_account = st.from_regex(r"\A[0-9A-Za-z]{1,12}(?:[_-][0-9A-Za-z]{1,5})?\Z")
account_input = st.one_of(
    plausible_account,
    any_text,
    st.builds(lambda a, s, b: a + s + b, plausible_account, nasty, st.text(max_size=12)),
    st.builds(lambda s, a: s + a, nasty, plausible_account),
)


# What people paste where a key or a certificate belongs.
PEM_LABELS = [
    "PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "CERTIFICATE",
    "CERTIFICATE REQUEST",
    "PUBLIC KEY",
    "X509 CRL",
]


def mutated(text: str, data) -> str:
    """``text`` with a few random edits: characters flipped, dropped or inserted, a cut."""
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        if not chars:
            break
        at = data.draw(st.integers(0, len(chars) - 1), label="at")
        edit = data.draw(st.sampled_from(["flip", "drop", "insert", "cut", "swap_label"]))
        if edit == "flip":
            chars[at] = data.draw(st.sampled_from("AZaz09+/=-\n \x00é"), label="char")
        elif edit == "drop":
            del chars[at]
        elif edit == "insert":
            chars.insert(at, data.draw(st.sampled_from("A+/=\n-\r\x00é"), label="char"))
        elif edit == "cut":
            chars = chars[:at]
        else:
            joined = "".join(chars)
            new = data.draw(st.sampled_from(PEM_LABELS), label="label")
            for old in PEM_LABELS:
                if f"BEGIN {old}-----" in joined:
                    joined = joined.replace(f"BEGIN {old}-----", f"BEGIN {new}-----", 1)
                    break
            chars = list(joined)
    return "".join(chars)


def der_mutated(pem: str, data) -> str:
    """``pem`` with a few bytes of its DER changed and encoded again: what still decodes as
    base64 and reaches the ASN.1 parser, where text edits mostly stop at base64."""
    lines = pem.strip().splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("-----END"))
    rest, lines = lines[end + 1 :], lines[: end + 1]  # only the first block is changed
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    for _ in range(data.draw(st.integers(1, 3), label="bytes changed")):
        at = data.draw(st.integers(0, len(der) - 1), label="byte at")
        der[at] = data.draw(st.integers(0, 255), label="byte")
    body = base64.b64encode(bytes(der)).decode()
    chunks = (body[i : i + 64] for i in range(0, len(body), 64))
    return "\n".join([lines[0], *chunks, lines[-1], *rest]) + "\n"


def any_mutation(pem: str, data) -> str:
    if data.draw(st.booleans(), label="DER-level"):
        return der_mutated(pem, data)
    return mutated(pem, data)


def windows(pem: str, size: int = 16) -> set[str]:
    """Every ``size``-character window of a PEM's base64 body (its lines joined); the BEGIN
    and END lines are not secret, even when a mutation took a dash off them."""
    body = "".join(line.strip() for line in pem.splitlines() if line.strip() and "---" not in line)
    return {body[i : i + size] for i in range(0, max(1, len(body) - size + 1))}


def secret_windows(pem: str, size: int = 16) -> set[str]:
    """The windows of a key's PEM body that are not also windows of its public key.

    The public half (an EC key's curve and point, an RSA modulus) is in the key file and in
    its certificate alike, and pages show certificates: the same bytes at the same base64
    alignment there are not a leak. Which windows line up depended on the length of the
    certificate's subject, so a check on every window failed for some names and not others.
    A PEM that does not load as a key (a mutated paste) keeps every window.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    every = {w for w in windows(pem, size) if len(w) == size}
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        return every
    shown: set[str] = set()
    for shift in range(3):
        shown |= windows(base64.b64encode(bytes(shift) + public).decode(), size)
    return every - shown


def leaked_window(text: str, pem: str, size: int = 16) -> str | None:
    """The first secret window of ``pem`` (see :func:`secret_windows`) found in ``text``
    (lines joined too), else None."""
    flat = "".join(text.split())
    for window in secret_windows(pem, size):
        if window in text or window in flat:
            return window
    return None


def json_of(text):
    """JSON values of every shape whose strings are drawn from ``text``."""
    return st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(10**30), 10**30),
            st.floats(allow_nan=False, allow_infinity=False),
            text,
        ),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=12,
    )


json_values = json_of(any_text)
# What a database stores as it came: text without NUL and without lone surrogates.
storable_json = json_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
)


def dumps(value) -> bytes:
    """JSON as a sender would write it; lone surrogates survive as \\ud800 escapes."""
    return json.dumps(value).encode("ascii")


@contextlib.contextmanager
def rolled_back():
    """One example's database work, undone at its end (a savepoint in the test's transaction),
    so every example starts from the fixtures' state."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)
