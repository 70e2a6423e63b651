"""Private keys and certificates as people paste and upload them, for any bytes whatsoever.

Arbitrary text and bytes, and valid PEMs with a few characters flipped, dropped, inserted or
cut off, are either read or refused with a ``CertificateError`` (a form error, a service
refusal), never anything else; and no refusal, form error or re-rendered form carries any
16-character piece of the key that was pasted.
"""

from __future__ import annotations

from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import event, given, settings
from hypothesis import strategies as st

from netsuite import certificates as nscert
from tests import factories

from .strategies import PEM_LABELS, any_mutation, any_text, leaked_window, rolled_back

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def pem_like(label: str, body: str) -> str:
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


random_pem = st.builds(
    pem_like,
    st.sampled_from([*PEM_LABELS, "X"]),
    st.text(st.sampled_from(BASE64), max_size=400),
)
arbitrary_input = st.one_of(any_text, st.binary(max_size=600), random_pem)


@cache  # the same PEMs for every example: Hypothesis replays draws against them
def valid_pems() -> dict[str, str]:
    ec = factories.ec_key()
    return {
        "EC PKCS#8": factories.key_pem(ec),
        "EC SEC1": factories.key_pem(ec, factories.TRADITIONAL),
        "EC P-384": factories.key_pem(factories.ec_key("P-384")),
        "EC encrypted": factories.key_pem(ec, password=b"secret passphrase"),
        "certificate": factories.certificate_pem(ec),
        "public key": factories.public_pem(ec),
        "key and certificate": factories.key_pem(ec) + factories.certificate_pem(ec),
    }


def assert_refusal_is_clean(exc: nscert.CertificateError, pasted: str, original: str) -> None:
    assert exc.message and exc.hint
    for text in (exc.message, exc.hint, str(exc), repr(exc)):
        assert leaked_window(text, original) is None, text
        assert leaked_window(text, pasted) is None, text


def read_key(pasted):
    """``load_private_key`` as the form and the services call it, for any input."""
    try:
        key = nscert.load_private_key(pasted)
    except nscert.CertificateError as exc:
        return None, exc
    nscert.describe_key(key)  # what the form shows next: type and fingerprint
    return key, None


@settings(max_examples=200)
@given(arbitrary_input)
def test_any_text_or_bytes_is_read_or_refused_with_a_certificate_error(value):
    _key, refusal = read_key(value)
    if refusal is not None:
        event(type(refusal).__name__)
    try:
        nscert.load_stored_private_key(value)
    except nscert.CertificateError:
        pass
    try:
        nscert.load_certificate(value)
    except nscert.CertificateError:
        pass


@settings(max_examples=200)
@given(st.sampled_from(sorted(valid_pems())), st.data())
def test_a_mutated_pem_is_read_or_refused_and_the_refusal_shows_none_of_it(name, data):
    original = valid_pems()[name]
    pasted = any_mutation(original, data)
    _key, refusal = read_key(pasted)
    if refusal is None:
        event("still a key")
        return
    event(type(refusal).__name__)
    assert_refusal_is_clean(refusal, pasted, original)


@settings(max_examples=25)
@given(st.sampled_from(["PKCS#8", "PKCS#1"]), st.data())
def test_a_mutated_rsa_key_is_read_or_refused_and_the_refusal_shows_none_of_it(fmt, data):
    # Few examples: a mutation that leaves the key intact costs cryptography's RSA check.
    key = factories.rsa_key(3072)
    original = factories.key_pem(key, factories.PKCS8 if fmt == "PKCS#8" else factories.TRADITIONAL)
    pasted = any_mutation(original, data)
    _key, refusal = read_key(pasted)
    if refusal is not None:
        assert_refusal_is_clean(refusal, pasted, original)


@settings(max_examples=200)
@given(st.data())
def test_a_mutated_certificate_is_read_or_refused_and_whatever_is_read_can_be_described(data):
    original = valid_pems()["certificate"]
    pasted = any_mutation(original, data)
    try:
        cert = nscert.load_certificate(pasted)
    except nscert.CertificateError as exc:
        event(type(exc).__name__)
        assert exc.message
        return
    event("still a certificate")
    info = nscert.describe_certificate(cert)
    assert info.fingerprint
    try:
        nscert.check_certificate_current(cert)
    except nscert.CertificateError:
        pass


# --- the forms and the upload, on the Django side ------------------------------------------


def key_input(data) -> tuple[str, str]:
    """``(original, pasted)``: a valid PEM mutated, or random text (its own original)."""
    if data.draw(st.booleans(), label="mutate a valid PEM"):
        original = valid_pems()[data.draw(st.sampled_from(sorted(valid_pems())))]
        return original, any_mutation(original, data)
    pasted = data.draw(st.one_of(any_text, random_pem), label="random")
    return pasted, pasted


@pytest.mark.django_db
@settings(max_examples=80)
@given(st.data())
def test_the_forms_key_field_refuses_a_bad_key_without_echoing_it(data):
    from subscriptions.forms.subscription import SubscriptionForm

    original, pasted = key_input(data)
    as_file = data.draw(st.booleans(), label="uploaded as a file")
    if as_file:
        raw = data.draw(
            st.one_of(st.binary(max_size=300), st.just(pasted.encode("utf-8", "surrogatepass")))
        )
        form = SubscriptionForm(
            data=factories.create_form_data(private_key_pem=""),
            files={"private_key_file": SimpleUploadedFile("key.pem", raw)},
        )
    else:
        form = SubscriptionForm(data=factories.create_form_data(private_key_pem=pasted))
    form.is_valid()
    errors = " ".join(form.errors.get("private_key_pem", []))
    if errors:
        event("refused")
        assert leaked_window(errors, original) is None, errors
        assert leaked_window(errors, pasted) is None, errors
    html = form.render()
    assert leaked_window(html, original) is None
    assert leaked_window(html, pasted) is None


@pytest.fixture
def subscription():
    from subscriptions.actors import SYSTEM

    subscription, _key = factories.make_subscription(SYSTEM)
    return subscription


@pytest.mark.django_db
@settings(max_examples=60)
@given(st.data())
def test_an_uploaded_pair_is_staged_or_refused_and_the_refusal_shows_no_key(subscription, data):
    from subscriptions.actors import SYSTEM
    from subscriptions.forms.certificates import UploadCertificateForm
    from subscriptions.services.certificates import certificate_upload
    from subscriptions.services.errors import ServiceError

    key = factories.ec_key()
    key_pem, cert_pem = valid_pems()["EC PKCS#8"], valid_pems()["certificate"]
    part = data.draw(st.sampled_from(["key", "certificate", "both"]), label="mutated")
    pasted_key = any_mutation(key_pem, data) if part in ("key", "both") else key_pem
    pasted_cert = any_mutation(cert_pem, data) if part in ("certificate", "both") else cert_pem
    form = UploadCertificateForm(
        data={},
        files={
            "private_key_file": SimpleUploadedFile("key.pem", pasted_key.encode()),
            "certificate_file": SimpleUploadedFile("cert.pem", pasted_cert.encode()),
        },
    )
    if not form.is_valid():
        event("form refused")
        assert leaked_window(str(form.errors), key_pem) is None
        return
    with rolled_back():
        try:
            staged = certificate_upload(
                subscription=subscription,
                private_key_pem=form.cleaned_data["private_key_file"],
                certificate_pem=form.cleaned_data["certificate_file"],
                actor=SYSTEM,
            )
        except ServiceError as exc:
            event(f"refused: {next(iter(exc.errors), '-')}")
            for text in (exc.message, str(exc.errors), exc.problem.message):
                assert leaked_window(text, key_pem) is None, text
            return
        event("staged")
        assert staged.public_key_fingerprint == factories.fingerprint(key)


def test_a_certificate_whose_issuer_is_damaged_is_refused_when_it_is_read():
    # What the property above found: cryptography reads names lazily, so this certificate
    # loaded and only describe_certificate (staging an upload) failed, with a bare ValueError.
    import base64

    from cryptography.hazmat.primitives import serialization

    cert = nscert.load_certificate(valid_pems()["certificate"])
    der = cert.public_bytes(serialization.Encoding.DER)
    name = cert.issuer.public_bytes()
    at = der.index(name)
    # The issuer's last byte ends its common name, a UTF8String: 0xff is no UTF-8.
    damaged = der[:at] + name[:-1] + b"\xff" + der[at + len(name) :]
    pem = pem_like("CERTIFICATE", base64.b64encode(damaged).decode())
    with pytest.raises(nscert.NotPemError, match="damaged"):
        nscert.load_certificate(pem)
