"""Secrets at rest: readable under older keys, rotated to the newest, never handed back raw."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from subscriptions import fields
from subscriptions.models import AuditEvent, Subscription
from subscriptions.services.encryption import encrypted_fields
from tests import factories

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
LOST = Fernet.generate_key().decode()
SECRETS = ("private_key", "webhook_api_key")


def stored(pk, column):
    """The text in the database, read past the field's decryption."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM subscriptions_subscription WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def rotate(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("rotate_encryption_keys", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def make_subscription(admin_user, rsa_pem):
    """``make_subscription(keys, name)``: a subscription saved under these encryption keys."""

    def make(keys, name="Acme Production"):
        with override_settings(FIELD_ENCRYPTION_KEYS=keys):
            subscription, webhook_key = factories.make_subscription(
                admin_user, name=name, private_key=rsa_pem
            )
        return subscription.pk, webhook_key

    return make


def test_values_are_stored_encrypted_with_the_key_id(make_subscription):
    pk, webhook_key = make_subscription([OLD])
    for column in SECRETS:
        text = stored(pk, column)
        assert text.startswith(f"enc:fernet:{fields.key_id(OLD)}:")
    assert webhook_key not in stored(pk, "webhook_api_key")
    assert "PRIVATE KEY" not in stored(pk, "private_key")


def test_a_value_under_an_older_key_stays_readable(make_subscription):
    pk, webhook_key = make_subscription([OLD])
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        pem = Subscription.objects.get(pk=pk).private_key
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        subscription = Subscription.objects.get(pk=pk)
        assert subscription.webhook_api_key == webhook_key
        assert subscription.private_key == pem
        assert "BEGIN PRIVATE KEY" in pem


def test_rotation_moves_every_value_to_the_newest_key_and_keeps_the_plaintext(
    make_subscription,
):
    pk_a, key_a = make_subscription([OLD], "A")
    pk_b, key_b = make_subscription([OLD], "B")
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        before = {s.pk: (s.private_key, s.webhook_api_key, s.revision, s.updated_at)
                  for s in Subscription.objects.all()}

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        code, out, err = rotate()
        assert (code, err) == (0, "")
        assert out.startswith("re-encrypted 4 values; 0 remain on older keys")
        for pk in before:
            for column in SECRETS:
                assert stored(pk, column).startswith(f"enc:fernet:{fields.key_id(NEW)}:")

        # Running it again finds nothing left to do.
        assert rotate()[1].startswith("re-encrypted 0 values; 0 remain on older keys")

    # The old key can now be dropped.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        after = {s.pk: (s.private_key, s.webhook_api_key, s.revision, s.updated_at)
                 for s in Subscription.objects.all()}
    assert after == before
    assert {pk: values[1] for pk, values in after.items()} == {pk_a: key_a, pk_b: key_b}

    events = AuditEvent.objects.filter(action="encryption.keys_rotated").order_by("id")
    assert [e.changes for e in events] == [
        {"reencrypted": 4, "already_on_newest_key": 0, "changed_meanwhile": 0, "failed": 0,
         "remaining_on_older_keys": 0},
        {"reencrypted": 0, "already_on_newest_key": 4, "changed_meanwhile": 0, "failed": 0,
         "remaining_on_older_keys": 0},
    ]
    assert events[0].actor_name == "system (command line)"


def test_dry_run_writes_nothing(make_subscription):
    pk, _ = make_subscription([OLD])
    texts = [stored(pk, c) for c in SECRETS]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        code, out, _ = rotate("--dry-run")
    assert code == 0
    assert out.startswith("would re-encrypt 2 values; 2 remain on older keys")
    assert [stored(pk, c) for c in SECRETS] == texts
    assert not AuditEvent.objects.filter(action="encryption.keys_rotated").exists()


def test_an_unreadable_value_raises_and_is_never_returned_as_ciphertext(make_subscription):
    pk, _ = make_subscription([LOST])
    rows = Subscription.objects.filter(pk=pk)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        with pytest.raises(fields.DecryptionError) as exc:
            rows.get()
        assert stored(pk, "webhook_api_key") not in str(exc.value)
        assert fields.key_id(LOST) in str(exc.value)
        with pytest.raises(fields.DecryptionError):
            list(rows.values_list("webhook_api_key", flat=True))


def test_rotation_reports_unreadable_values_without_printing_them(make_subscription):
    good_pk, _ = make_subscription([OLD], "Readable")
    lost_pk, lost_key = make_subscription([LOST], "Lost")
    with override_settings(FIELD_ENCRYPTION_KEYS=[LOST]):
        lost_pem = Subscription.objects.get(pk=lost_pk).private_key
    lost_texts = [stored(lost_pk, c) for c in SECRETS]

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        code, out, err = rotate()
        # The readable one was rotated and still reads.
        assert Subscription.objects.get(pk=good_pk).webhook_api_key
    assert code == 1
    assert out.startswith("re-encrypted 2 values; 2 remain on older keys")
    for column in SECRETS:
        assert (
            f"cannot decrypt subscriptions.Subscription pk={lost_pk} field {column}: "
            f"its key {fields.key_id(LOST)} is not among FIELD_ENCRYPTION_KEYS"
        ) in err
    printed = out + err
    assert "enc:fernet" not in printed and lost_key not in printed
    assert all(text.split(":")[-1] not in printed for text in lost_texts)
    assert all(line not in printed for line in lost_pem.splitlines()[1:-1])
    assert [stored(lost_pk, c) for c in SECRETS] == lost_texts
    event = AuditEvent.objects.get(action="encryption.keys_rotated")
    assert event.changes["failed"] == 2 and event.changes["reencrypted"] == 2
    assert "enc:fernet" not in json.dumps(event.changes)


def test_every_encrypted_field_of_every_model_is_found(db):
    found = {(model._meta.label, f.name) for model, f in encrypted_fields()}
    assert {("subscriptions.Subscription", name) for name in SECRETS} <= found
    for model, f in encrypted_fields():
        assert isinstance(f, fields.EncryptedTextField)
        assert not model._meta.proxy
