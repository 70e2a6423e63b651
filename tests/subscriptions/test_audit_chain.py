"""verify_audit_chain finds edited and deleted events; PostgreSQL refuses both outright."""

import io
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from subscriptions.models import AppendOnlyError, AuditEvent
from tests.factories import append_events

TRIGGER = "subscriptions_auditevent_append_only"


def run_verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


@contextmanager
def tampering():
    """Let the test write to the audit table the way an intruder with table access could."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE subscriptions_auditevent DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE subscriptions_auditevent ENABLE TRIGGER {TRIGGER}")


def raw_update(pk, **fields):
    """Change a row behind the application's back, as an intruder with table access could."""
    assignments = ", ".join(f"{name} = %s" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE subscriptions_auditevent SET {assignments} WHERE id = %s",
            [*fields.values(), pk],
        )


def raw_delete(pk):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM subscriptions_auditevent WHERE id = %s", [pk])


@pytest.fixture
def five(db):
    return append_events([{"action": f"test.{i}", "reason": f"r{i}"} for i in range(5)])


def test_an_untouched_trail_is_intact(five):
    assert run_verify() == (0, "intact, 5 events\n")


def test_an_empty_trail_is_intact(db):
    assert run_verify() == (0, "intact, 0 events\n")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_update_and_delete_of_audit_events(five):
    target = five[2]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw_update(target.pk, reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw_delete(target.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM subscriptions_auditevent")
    assert AuditEvent.objects.get(pk=target.pk).reason == "r2"
    assert AuditEvent.objects.count() == 5
    assert run_verify()[0] == 0


def test_an_edited_event_is_reported(five):
    target = five[2]
    with tampering():
        raw_update(target.pk, reason="nothing to see")
    code, output = run_verify()
    assert code == 1
    assert output == f"broken at event {target.pk}: its content does not match its hash (edited)\n"


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(five):
    target = AuditEvent.objects.get(pk=five[2].pk)
    target.reason = "nothing to see"
    with tampering():
        raw_update(target.pk, reason=target.reason, hash=target.compute_hash())
    code, output = run_verify()
    assert code == 1
    assert output.startswith(f"broken at event {five[3].pk}: its previous-hash does not match")


def test_a_deleted_event_in_the_middle_is_reported(five):
    with tampering():
        raw_delete(five[1].pk)
    code, output = run_verify()
    assert code == 1
    assert output.startswith(f"broken at event {five[2].pk}: its previous-hash does not match")
    assert "deleted or inserted" in output


def test_the_first_broken_link_is_the_one_reported(five):
    with tampering():
        raw_update(five[3].pk, action="test.changed")
        raw_update(five[1].pk, actor_name="mallory")
    code, output = run_verify()
    assert (code, output.split(":")[0]) == (1, f"broken at event {five[1].pk}")


def test_the_application_itself_never_updates_or_deletes_events(five):
    event = AuditEvent.objects.get(pk=five[2].pk)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "r2"
    assert run_verify() == (0, "intact, 5 events\n")


def test_a_forked_chain_cannot_be_stored(five):
    from django.db import IntegrityError

    last = AuditEvent.objects.order_by("-id").first()
    twin = AuditEvent(
        created_at=last.created_at,
        actor_name="mallory",
        action="test.fork",
        prev_hash=last.prev_hash,
    )
    twin.hash = twin.compute_hash()
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)


def run_verify_with(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_an_anchor_kept_earlier_detects_events_removed_from_the_end(five):
    code, output = run_verify_with("--print-head")
    assert code == 0
    head = output.splitlines()[1].removeprefix("head ")
    assert head == f"{five[4].pk}:{AuditEvent.objects.get(pk=five[4].pk).hash}"
    assert run_verify_with("--anchor", head)[0] == 0

    # The chain alone cannot see a cut at its end ...
    with tampering():
        raw_delete(five[4].pk)
    assert run_verify() == (0, "intact, 4 events\n")
    # ... the anchor can.
    code, output = run_verify_with("--anchor", head)
    assert code == 1
    assert output.startswith(f"broken at event {five[4].pk}: the anchored event is gone")


def test_an_anchor_detects_a_rewritten_tail(five):
    head = f"{five[4].pk}:{AuditEvent.objects.get(pk=five[4].pk).hash}"
    target = AuditEvent.objects.get(pk=five[4].pk)
    target.reason = "rewritten"
    with tampering():
        raw_update(target.pk, reason=target.reason, hash=target.compute_hash())
    assert run_verify()[0] == 0
    code, output = run_verify_with("--anchor", head)
    assert code == 1
    assert "differs from the anchor" in output


def test_a_malformed_anchor_is_refused_with_the_expected_form(five):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ID:HASH"):
        call_command("verify_audit_chain", "--anchor", "not-an-anchor")
