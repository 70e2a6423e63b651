"""verify_audit_chain finds edited and deleted events; PostgreSQL refuses both outright, and
TRUNCATE too. The chain is keyed: a hash recomputed without the key does not fit."""

import hashlib
import io
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from subscriptions import audit
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AppendOnlyError, AuditEvent
from subscriptions.models.audit import LEGACY_SCHEME, chain_key_id
from tests.factories import append_events

TRIGGER = "subscriptions_auditevent_append_only"
KEYING_TRIGGER = "subscriptions_auditkeying_append_only"


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
    # The events and the keying point (migration 0018) are both append-only.
    guards = (("subscriptions_auditevent", TRIGGER), ("subscriptions_auditkeying", KEYING_TRIGGER))
    with connection.cursor() as cursor:
        for table, trigger in guards:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table, trigger in guards:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


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


def test_an_anchor_on_an_empty_trail_fails(db):
    """The anchored event is gone when every event is: an empty trail is no proof."""
    anchor = f"7:{'a' * 64}"
    code, output = run_verify_with("--anchor", anchor)
    assert code == 1
    assert output == (
        "broken at event 7: the anchored event is gone "
        "(events were removed from the end of the trail)\n"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_truncate_of_the_audit_table(five):
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE subscriptions_auditevent")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE subscriptions_auditevent RESTART IDENTITY CASCADE")
    assert AuditEvent.objects.count() == 5
    assert run_verify() == (0, "intact, 5 events\n")


# The keyed chain ---------------------------------------------------------------------------


def plain_sha256(event: AuditEvent) -> str:
    """What someone with table access but without the key can compute: the old scheme."""
    event = AuditEvent.objects.get(pk=event.pk)
    event.hash_scheme = LEGACY_SCHEME
    return hashlib.sha256(event.canonical()).hexdigest()


def test_new_events_are_keyed_and_the_key_is_not_in_the_database(db, settings):
    with transaction.atomic():
        event = audit.record(actor=COMMAND_LINE, action="test.keyed")
    key = settings.AUDIT_CHAIN_KEYS[0]
    assert event.hash_scheme == f"hmac-sha256:{chain_key_id(key)}"
    stored = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert key not in repr(stored)
    assert stored["hash"] != hashlib.sha256(event.canonical()).hexdigest()


def test_an_event_rewritten_with_a_recomputed_plain_hash_is_detected(five):
    target = AuditEvent.objects.get(pk=five[4].pk)  # the newest: no next link to break
    target.reason = "nothing to see"
    with tampering():
        raw_update(target.pk, reason=target.reason)
        raw_update(target.pk, hash=plain_sha256(target))
    code, output = run_verify()
    assert code == 1
    assert output == f"broken at event {target.pk}: its content does not match its hash (edited)\n"


def test_an_event_relabelled_as_plain_sha256_after_the_chain_was_keyed_is_detected(five):
    target = AuditEvent.objects.get(pk=five[4].pk)
    target.reason = "nothing to see"
    with tampering():
        raw_update(target.pk, reason=target.reason, hash_scheme=LEGACY_SCHEME)
        raw_update(target.pk, hash=plain_sha256(target))
    code, output = run_verify()
    assert code == 1
    assert output.startswith(
        f"broken at event {target.pk}: it has a plain hash after the chain was keyed"
    )


def test_a_whole_trail_rewritten_as_plain_sha256_is_caught_by_the_anchor(five):
    """Rewritten from its first event, the trail would look like one from before the chain
    was keyed; the keying record says it was keyed before the first event (the review's
    finding F1), and the anchor kept outside the database tells too."""
    head = f"{five[4].pk}:{AuditEvent.objects.get(pk=five[4].pk).hash}"
    previous = audit.GENESIS
    with tampering():
        for event in five:
            event = AuditEvent.objects.get(pk=event.pk)
            event.hash_scheme, event.prev_hash = LEGACY_SCHEME, previous
            event.hash = previous = hashlib.sha256(event.canonical()).hexdigest()
            raw_update(
                event.pk, hash_scheme=LEGACY_SCHEME, prev_hash=event.prev_hash, hash=event.hash
            )
    code, output = run_verify()
    assert code == 1
    assert output.startswith(f"broken at event {five[0].pk}: it has a plain hash")
    # The first broken link is reported, with the anchor as without.
    assert run_verify_with("--anchor", head) == (code, output)


def test_a_tail_relabelled_as_plain_sha256_is_detected_without_an_anchor(five):
    previous = five[1].hash
    with tampering():
        for event in five[2:]:
            event = AuditEvent.objects.get(pk=event.pk)
            event.hash_scheme, event.prev_hash = LEGACY_SCHEME, previous
            event.hash = previous = hashlib.sha256(event.canonical()).hexdigest()
            raw_update(
                event.pk, hash_scheme=LEGACY_SCHEME, prev_hash=event.prev_hash, hash=event.hash
            )
    code, output = run_verify()
    assert code == 1
    assert output.startswith(
        f"broken at event {five[2].pk}: it has a plain hash after the chain was keyed"
    )


def test_events_from_before_the_chain_was_keyed_still_verify(db):
    from tests.subscriptions.test_review_findings import upgrade_keying_point

    older = append_events([{"action": f"old.{i}"} for i in range(3)], legacy=True)
    upgrade_keying_point()  # migration 0018 on an installation upgraded with these
    assert all(e.hash_scheme == LEGACY_SCHEME for e in older)
    assert older[0].hash == hashlib.sha256(older[0].canonical()).hexdigest()
    with transaction.atomic():
        audit.record(actor=COMMAND_LINE, action="test.after_upgrade")
    assert run_verify() == (0, "intact, 4 events (3 from before the chain was keyed)\n")
    # An old event is still checked by its own scheme.
    with tampering():
        raw_update(older[1].pk, reason="rewritten")
    assert run_verify()[1].startswith(f"broken at event {older[1].pk}: its content")


def test_a_rotated_key_keeps_verifying_older_events_while_it_is_listed(db, settings):
    old_key = settings.AUDIT_CHAIN_KEYS[0]
    new_key = "a-newer-audit-chain-key-" + "n" * 32
    append_events([{"action": "by.old.key"}])
    with override_settings(AUDIT_CHAIN_KEYS=[new_key, old_key]):
        with transaction.atomic():
            newer = audit.record(actor=COMMAND_LINE, action="by.new.key")
        assert newer.hash_scheme == f"hmac-sha256:{chain_key_id(new_key)}"
        assert run_verify() == (0, "intact, 2 events\n")
    with override_settings(AUDIT_CHAIN_KEYS=[new_key]):
        code, output = run_verify()
    assert code == 1
    assert f"chain key {chain_key_id(old_key)} is not among AUDIT_CHAIN_KEYS" in output


def test_the_detail_page_flags_an_event_it_cannot_verify(db, auditor_client):
    from django.urls import reverse

    event = append_events([{"action": "test.x"}])[0]
    url = reverse("subscriptions:audit_detail", args=[event.pk])
    assert auditor_client.get(url).context["hash_matches"] is True
    with override_settings(AUDIT_CHAIN_KEYS=["another-key-entirely-" + "z" * 32]):
        response = auditor_client.get(url)
    assert response.status_code == 200
    assert response.context["hash_matches"] is False
