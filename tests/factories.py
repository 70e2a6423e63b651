"""The one set of builders the tests and the benchmarks share; a plain module, not a test module.

Every subscription a test or a benchmark makes starts from the same seed values
(:func:`subscription_data`), so a new field or rule is taught to the suite in one place. Keys
are made here with ``cryptography`` directly, not with the application's helpers, so the
fingerprints the tests expect are computed independently of the code under test.

Benchmarks import this module from the repository root, after ``django.setup()``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.utils import timezone

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, Certificate, Role, Subscription
from subscriptions.models.audit import LEGACY_SCHEME

PASSWORD = "correct horse battery staple 42"
API_HOST_PATH = "suitetalk.api.netsuite.com/services/rest/record/v1"
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL  # PKCS#1 for RSA, SEC1 for EC


def api_url(account_id: str) -> str:
    """The REST URL NetSuite gives an account, spelled out here rather than asked of the app."""
    return f"https://{account_id.lower().replace('_', '-')}.{API_HOST_PATH}"


API_URL_SB1 = api_url("1234567_SB1")


# --- people ----------------------------------------------------------------------------------


def make_user(username: str, role: str = Role.ADMINISTRATOR, password: str = PASSWORD):
    """A person with a role, created by the service as the command line would."""
    from subscriptions.permissions import ensure_role_groups
    from subscriptions.services.users import user_create

    # Transactional tests (the browser ones) flush the tables, groups from migrations included.
    ensure_role_groups()
    return user_create(username=username, password=password, role=role, actor=COMMAND_LINE)


def logged_in_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def lock_out(username: str, *, address: str = "192.0.2.10") -> None:
    """Fail the real login view until axes locks ``username`` out at ``address``."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    client = Client(REMOTE_ADDR=address)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "wrong " + PASSWORD})


# --- keys ------------------------------------------------------------------------------------


@cache
def rsa_key(bits: int = 3072):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(curve: str = "P-256"):
    curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
    return ec.generate_private_key(curves[curve])


def key_pem(key, fmt=PKCS8, password: bytes | None = None) -> str:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def certificate_pem(key) -> str:
    """A self-signed certificate for the key: what people paste where the key belongs."""
    from netsuite.certificates import self_signed_certificate

    return self_signed_certificate(key).public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(key) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())


def pem_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM: the part that must never leave the database."""
    return [line for line in pem.splitlines() if line.strip() and not line.startswith("-----")]


def valid_key_pem() -> str:
    return key_pem(rsa_key(3072))


# --- subscriptions ---------------------------------------------------------------------------


def subscription_data(**overrides) -> dict:
    """The seed's fields and the throttling, as the services take them."""
    data = {
        "name": "Acme Production",
        "version": "v1.2",
        "inventory_search_days": 7,
        "environment": "Production",
        "consumer_id": "consumer-abc123",
        "account_id": "1234567_SB1",
        "private_key": valid_key_pem(),
        "certificate_id": "cert-id-42",
        "api_url": API_URL_SB1,
        "api_throttle_limit": 100,
        "api_throttle_seconds": 60,
        "ipaas_throttle_limit": 100,
        "ipaas_throttle_seconds": 60,
        "concurrent_connections": 5,
    }
    data.update(overrides)
    return data


def create_form_data(**overrides) -> dict:
    """What the create form posts: the same values as typed, with the Account ID in lower case
    and the API URL left blank, for the form to normalise the one and derive the other."""
    data = {name: str(value) for name, value in subscription_data().items()}
    data["private_key_pem"] = data.pop("private_key")
    data.update(account_id="1234567_sb1", api_url="", reason="")
    data.update(overrides)
    return data


def edit_form_data(subscription, **overrides) -> dict:
    """What the edit page's form posts: its hidden fields and every value as shown."""
    from subscriptions.forms.subscription import SubscriptionForm

    form = SubscriptionForm(instance=Subscription.objects.get(pk=subscription.pk))
    data = {}
    for name in form.fields:
        if name in ("private_key_pem", "private_key_file"):
            continue
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    data["private_key_pem"] = ""
    data.update(overrides)
    return data


def make_subscription(actor, **overrides):
    """``(subscription, webhook key)``: saved by the service, as the pages would save it."""
    from subscriptions.services.subscriptions import subscription_create

    return subscription_create(data=subscription_data(**overrides), actor=actor)


def unsaved_subscription(i: int, *, name: str | None = None, with_key: bool = True, **overrides):
    """The i-th of many subscriptions for ``bulk_create``, the way a data import leaves them.

    No key is stored (a list never reads it); ``with_key`` sets only the key's type and
    fingerprint, which is what the pages show.
    """
    account_id = str(1000000 + i)
    data = subscription_data(
        name=name or f"Subscription {i:06d}",
        consumer_id=f"consumer-{i}",
        account_id=account_id,
        certificate_id=f"cert-{i}",
        api_url=api_url(account_id),
    )
    del data["private_key"]
    if with_key:
        data.update(private_key_type="RSA 3072", private_key_fingerprint="ab:" * 31 + "ab")
    data.update(overrides)
    return Subscription(**data)


def active_certificate(subscription, certificate_pem: str, certificate_id: str) -> Certificate:
    """The active Certificate row a certificate uploaded through the dashboard leaves."""
    from netsuite import certificates as nscert

    info = nscert.describe_certificate(nscert.load_certificate(certificate_pem))
    return Certificate.objects.create(
        subscription=subscription,
        status=Certificate.Status.ACTIVE,
        certificate_pem=certificate_pem,
        certificate_id=certificate_id,
        fingerprint=info.fingerprint,
        public_key_fingerprint=info.public_key_fingerprint,
        key_label=info.key.label,
        not_before=info.not_before,
        not_after=info.not_after,
        created_by="fixture",
    )


# --- audit events ----------------------------------------------------------------------------


def chain_events(
    specs,
    *,
    previous: str | None = None,
    start=None,
    step=dt.timedelta(minutes=1),
    legacy: bool = False,
):
    """Unsaved events with chosen fields, linked and hashed as ``audit.record()`` links them.

    Each spec is a dict of AuditEvent fields; ``created_at`` defaults to ``start + i * step``.
    The chain continues from ``previous`` (a hash), or from the newest stored event.
    ``legacy`` hashes them with plain SHA-256, as events were written before the chain was
    keyed.
    """
    from subscriptions import audit

    if previous is None:
        previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        previous = previous or audit.GENESIS
    start = start or timezone.now() - dt.timedelta(days=30)
    events = []
    for i, spec in enumerate(specs):
        fields = {"actor_name": "someone", "action": "test.event", "created_at": start + i * step}
        fields.update(spec)
        event = AuditEvent(prev_hash=previous, **fields)
        if legacy:
            event.hash_scheme = LEGACY_SCHEME
            event.hash = event.compute_hash()
        else:
            event.seal()
        previous = event.hash
        events.append(event)
    return events


def append_events(specs, **chain) -> list[AuditEvent]:
    """Store :func:`chain_events` in bulk; return them as saved, oldest first."""
    events = chain_events(specs, **chain)
    AuditEvent.objects.bulk_create(events, batch_size=500)
    return list(AuditEvent.objects.order_by("-id")[: len(events)])[::-1]


def scrambled_times(n: int, day: dt.date, tz) -> list[dt.datetime]:
    """Times on one day, out of id order and often equal (a clock that stepped back)."""
    rng = random.Random(7)
    base = dt.datetime.combine(day, dt.time(8, 0), tzinfo=tz)
    return [base + dt.timedelta(minutes=rng.randrange(40)) for _ in range(n)]


def point_at_simulator(settings, simulator, **overrides) -> None:
    """Simulator mode against ``simulator``, with timeouts and retries short enough for tests
    (``overrides`` are further settings, e.g. ``NETSUITE_TIMEOUT_READ=5.0``)."""
    settings.NETSUITE_BASE_URL = simulator.base_url
    settings.NETSUITE_SIMULATOR = True
    settings.NETSUITE_RETRY_MAX_ATTEMPTS = 2
    settings.NETSUITE_RETRY_BASE_DELAY = 0.01
    for name, value in overrides.items():
        setattr(settings, name, value)


# --- inbound webhook events ------------------------------------------------------------------


def inbound_event(subscription, *, module="customer", event="updated", external_id="107",
                  received_at=None, **fields):
    """One stored inbound event, as the endpoint stores it (its key made unique by its id)."""
    from subscriptions.models import InboundEvent

    record_types = {"customer": "customer", "inventory_part": "inventoryitem",
                    "kit_item": "kititem", "location": "location",
                    "payment_method": "paymentmethod", "sales_order": "salesorder",
                    "shipping_item": "shipitem"}
    scope = f"{record_types[module]}/{event}"
    return InboundEvent.objects.create(
        subscription=subscription,
        module=module,
        event=event,
        scope=scope,
        external_id=str(external_id),
        dedup_key=hashlib.sha256(f"{scope}|{external_id}|{random.random()}".encode()).hexdigest(),
        received_at=received_at or timezone.now(),
        payload={"scope": scope, "external_id": str(external_id)},
        **fields,
    )
