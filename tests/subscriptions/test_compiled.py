"""Queries compiled once (``subscriptions.compiled``) and the one-row insert built once
(``bulk_sql.insert_one``): the same rows and values as the ORM's own calls, on each database."""

import datetime as dt

import pytest
from django.utils import timezone

from netsuite import certificates as nscert
from subscriptions import compiled
from subscriptions.actors import COMMAND_LINE
from subscriptions.bulk_sql import insert_one, insert_rows
from subscriptions.integration import credentials_for, subscription_with_credentials
from subscriptions.models import ConnectionTest, InboundEvent, Subscription
from tests.factories import active_certificate, make_subscription

pytestmark = pytest.mark.django_db


def _named(pk):
    return Subscription.objects.filter(pk=pk).values_list("name")


def _tests_of(pk):
    return ConnectionTest.objects.filter(subscription_id=pk)


def _newest_name(_value):
    return Subscription.objects.order_by("-pk").values_list("name")[:1]


@pytest.fixture
def pair():
    return nscert.generate_key_and_certificate("ec-p256", days=30)


def test_credentials_read_in_one_query_match_the_ones_read_apart(pair, django_assert_num_queries):
    key_pem, cert_pem = pair
    subscription, _key = make_subscription(COMMAND_LINE, private_key=key_pem)
    active_certificate(subscription, cert_pem, "CERT-1")
    apart = credentials_for(Subscription.objects.without_secrets().get(pk=subscription.pk))
    for _ in range(2):  # the second one runs what the first compiled
        with django_assert_num_queries(1):
            read = subscription_with_credentials(subscription.pk)
            together = credentials_for(read)
        assert together == apart
        assert together.private_key_pem == key_pem
        assert together.certificate_pem == cert_pem
        assert read.name == subscription.name
        # The secrets stay unread as before: no decrypted key on the row itself.
        assert "private_key" in read.get_deferred_fields()


def test_a_compiled_row_has_every_value_the_orm_reads(pair):
    # The instance is made from the cursor's row with the converters worked out once per
    # connection: dates, decimals, choices and JSON come out as the ORM's own read gives them.
    key_pem, cert_pem = pair
    subscription, _key = make_subscription(COMMAND_LINE, private_key=key_pem)
    active_certificate(subscription, cert_pem, "CERT-3")
    orm = Subscription.objects.with_credentials().get(pk=subscription.pk)
    for _ in range(2):
        read = subscription_with_credentials(subscription.pk)
        assert read.get_deferred_fields() == orm.get_deferred_fields()
        for field in Subscription._meta.concrete_fields:
            if field.attname not in orm.get_deferred_fields():
                assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
        assert read.sealed_private_key == orm.sealed_private_key
        assert read.active_certificate_pem == orm.active_certificate_pem == cert_pem
        assert read._state.db == "default" and not read._state.adding


def test_a_certificate_of_another_key_goes_along_with_neither(pair):
    key_pem, _cert = pair
    _other_key, other_cert = nscert.generate_key_and_certificate("ec-p256", days=30)
    subscription, _key = make_subscription(COMMAND_LINE, private_key=key_pem)
    active_certificate(subscription, other_cert, "CERT-2")
    read = subscription_with_credentials(subscription.pk)
    assert credentials_for(read).certificate_pem is None
    assert credentials_for(read) == credentials_for(Subscription.objects.get(pk=subscription.pk))


def test_a_missing_row_is_the_models_does_not_exist():
    with pytest.raises(Subscription.DoesNotExist):
        subscription_with_credentials(987_654)


def test_values_deletes_and_their_counts(pair):
    key_pem, _cert = pair
    first, _ = make_subscription(COMMAND_LINE, name="First", private_key=key_pem)
    second, _ = make_subscription(COMMAND_LINE, name="Second", private_key=key_pem)
    assert compiled.first_value(_named, first.pk) == "First"
    assert compiled.first_value(_named, second.pk) == "Second"
    assert compiled.first_value(_named, 987_654) is None
    assert compiled.first_value(_newest_name) == "Second"
    for subscription, count in ((first, 3), (second, 2)):
        for _ in range(count):
            ConnectionTest.objects.create(subscription=subscription)
    assert compiled.delete(_tests_of, first.pk) == 3
    assert list(ConnectionTest.objects.values_list("subscription_id", flat=True)) == [
        second.pk,
        second.pk,
    ]


def test_a_value_where_the_query_has_none_is_refused():
    with pytest.raises(ValueError, match="do not match"):
        compiled.first_value(_newest_name, 1)
    with pytest.raises(ValueError, match="do not match"):
        compiled.first_value(_named)


def test_insert_one_stores_what_save_stores(pair):
    key_pem, _cert = pair
    subscription, _ = make_subscription(COMMAND_LINE, private_key=key_pem)
    steps = [{"key": "settings", "status": "ok", "detail": "Account 1234567 – ✓"}]
    finished = timezone.now() - dt.timedelta(minutes=1)
    built, saved = (
        ConnectionTest(
            subscription=subscription,
            outcome=ConnectionTest.Outcome.PASSED,
            steps=steps,
            finished_at=finished,
            actor_name="Ann",
        )
        for _ in range(2)
    )
    insert_one(built)
    saved.save(force_insert=True)
    assert built.pk is not None and built.pk != saved.pk
    assert not built._state.adding
    fields = ["subscription_id", "outcome", "steps", "finished_at", "actor_name"]
    stored = ConnectionTest.objects.filter(pk__in=[built.pk, saved.pk])
    rows = {row["id"]: row for row in stored.values("id", *fields, "started_at")}
    assert {k: rows[built.pk][k] for k in fields} == {k: rows[saved.pk][k] for k in fields}
    assert rows[built.pk]["started_at"] is not None  # its default, as save fills it in


def test_a_bulk_insert_the_database_refuses_is_djangos_error_and_stores_nothing():
    # On PostgreSQL the rows go through psycopg's own cursor: its errors still arrive as
    # Django's, as they do on SQLite, so callers (and Django's own connection care) see one
    # kind.
    from django.db import IntegrityError, transaction

    subscription, _ = make_subscription(COMMAND_LINE)
    now = timezone.now()
    row = [subscription.pk, None, "updated", "customer/updated", "1", "", "k1", now]  # no module
    row += ["webhook", "", "", "", {"scope": "customer/updated"}]
    names = (
        "subscription_id", "module", "event", "scope", "external_id", "event_id", "dedup_key",
        "received_at", "source", "remote_addr", "request_id", "user_agent", "payload",
    )  # fmt: skip
    for rows in ([row, [*row[:6], "k2", *row[7:]]], [row]):
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_rows(InboundEvent, names, rows)
    assert not InboundEvent.objects.filter(subscription=subscription).exists()
