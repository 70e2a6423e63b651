"""Inventory polling end to end in one process: a poll is queued (by a person, the view or
the scheduler's service), django-tasks-db's worker runs it against the simulator over HTTP,
and the simulator answers the SuiteQL window strictly, as NetSuite would.

The simulator's inventory item n was last changed n days and an hour before its account was
made, so a window of the last N days holds items 1 to N - 1; ``change_record`` stamps a change
now.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from netsuite.records import suiteql_timestamp
from subscriptions.actors import COMMAND_LINE, SCHEDULER
from subscriptions.models import AuditEvent, InventoryLevel, Job, Record, Subscription
from subscriptions.services import jobs, polling
from subscriptions.services.errors import InvalidInput
from tests import html
from tests.subscriptions.conftest import ACCOUNT

# Its autouse fixture too: the caps kept off the database (the page threads take them while
# the test holds its transaction open).
from tests.subscriptions.test_jobs_initialization import (  # noqa: F401
    _caps_off_the_database,
    run_worker,
)

ITEMS = "inventoryitem"


@pytest.fixture
def subscription(netsuite_sim):
    return netsuite_sim.subscription()


def poll(subscription, capture, actor=COMMAND_LINE) -> Job:
    with capture(execute=True):
        job = polling.polling_start(subscription=subscription, actor=actor)
    run_worker()
    job.refresh_from_db()
    return job


def stored(subscription) -> dict[str, Record]:
    return {
        r.internal_id: r
        for r in Record.objects.filter(subscription=subscription, record_type=ITEMS)
    }


def sim_items(netsuite_sim) -> dict[str, dict]:
    with netsuite_sim.sim.state.lock:
        return {
            k: dict(v) for k, v in netsuite_sim.sim.state.accounts[ACCOUNT].records[ITEMS].items()
        }


def change(netsuite_sim, item_id: str, **fields) -> None:
    netsuite_sim.sim.change_record(ACCOUNT, ITEMS, "updated", record_id=item_id, fields=fields)


def test_first_poll_with_days_0_reads_every_item_then_only_what_changed(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    first = poll(subscription, django_capture_on_commit_callbacks)
    assert first.status == Job.Status.SUCCEEDED, first.log
    expected = sim_items(netsuite_sim)
    assert len(expected) == 30
    rows = stored(subscription)
    assert set(rows) == set(expected)
    assert rows["7"].name == "ITEM-00007"
    assert rows["7"].fields["displayname"] == "Inventory item 7"
    assert first.counts[ITEMS] == {"read": 30, "created": 30, "updated": 0, "unchanged": 0}
    assert first.params["window"]["from"] is None
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == dt.datetime.fromisoformat(
        first.params["window"]["to"]
    )

    change(netsuite_sim, "4", displayName="Blue widget")
    change(netsuite_sim, "21", isInactive=True)
    netsuite_sim.sim.reset_stats()
    second = poll(subscription, django_capture_on_commit_callbacks)
    assert second.status == Job.Status.SUCCEEDED, second.log
    assert second.counts[ITEMS] == {"read": 2, "created": 0, "updated": 2, "unchanged": 0}
    assert (
        second.params["window"]["from"]
        == (subscription.inventory_polled_until - polling.CLOCK_MARGIN).isoformat()
    )
    rows = stored(subscription)
    assert rows["4"].fields["displayname"] == "Blue widget"
    assert rows["21"].inactive is True
    # One query for the items changed, one for the stock levels that moved (none).
    assert netsuite_sim.stats()["calls"]["suiteql"] == 2

    before = {iid: (r.content_hash, r.fetched_at) for iid, r in stored(subscription).items()}
    third = poll(subscription, django_capture_on_commit_callbacks)
    assert third.status == Job.Status.SUCCEEDED
    # The two changed items are still within the clock margin: read again, stored as they were.
    assert third.counts[ITEMS]["created"] == third.counts[ITEMS]["updated"] == 0
    assert {
        iid: (r.content_hash, r.fetched_at) for iid, r in stored(subscription).items()
    } == before


def test_with_search_days_each_poll_reads_the_last_n_days(
    netsuite_sim, django_capture_on_commit_callbacks
):
    subscription = netsuite_sim.subscription(inventory_search_days=7)
    first = poll(subscription, django_capture_on_commit_callbacks)
    assert first.status == Job.Status.SUCCEEDED, first.log
    start, end = first.window
    assert end - start == dt.timedelta(days=7)
    assert first.params["search_days"] == 7
    assert set(stored(subscription)) == {str(n) for n in range(1, 7)}
    assert first.counts[ITEMS] == {"read": 6, "created": 6, "updated": 0, "unchanged": 0}

    # A window of N days ignores where the last poll ended: the same six, plus a change.
    change(netsuite_sim, "25", displayName="Back in stock")
    second = poll(subscription, django_capture_on_commit_callbacks)
    assert second.counts[ITEMS] == {"read": 7, "created": 1, "updated": 0, "unchanged": 6}
    assert stored(subscription)["25"].fields["displayname"] == "Back in stock"
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == second.window[1]


def test_more_than_a_page_is_read_in_pages_and_each_item_stored_once(
    netsuite_sim, django_capture_on_commit_callbacks
):
    netsuite_sim.sim.state.record_counts[ITEMS] = 2500
    # One location: a level per item, so the levels page as the items do.
    netsuite_sim.sim.state.record_counts["location"] = 1
    subscription = netsuite_sim.subscription(concurrent_connections=2)
    netsuite_sim.sim.reset_stats()
    job = poll(subscription, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert len(stored(subscription)) == 2500
    assert job.checkpoint["types"][ITEMS]["pages"] == [0, 1000, 2000]
    assert job.checkpoint["types"]["inventorylevel"]["pages"] == [0, 1000, 2000]
    assert job.progress_done == job.progress_total == 5000
    assert netsuite_sim.stats()["calls"]["suiteql"] == 6

    # 1,200 items changed: the second poll pages through exactly those.
    for n in range(1, 1201):
        change(netsuite_sim, str(n), displayName=f"Renamed {n}")
    netsuite_sim.sim.reset_stats()
    again = poll(subscription, django_capture_on_commit_callbacks)
    assert again.counts[ITEMS] == {"read": 1200, "created": 0, "updated": 1200, "unchanged": 0}
    assert again.checkpoint["types"][ITEMS]["pages"] == [0, 1000]
    # Two pages of items, one (empty) of levels: renaming moves no stock.
    assert netsuite_sim.stats()["calls"]["suiteql"] == 3
    assert Record.objects.filter(subscription=subscription, record_type=ITEMS).count() == 2500


def test_a_poll_resumed_from_its_checkpoint_reads_only_the_pages_not_stored(
    netsuite_sim, django_capture_on_commit_callbacks, settings
):
    """A worker that stored page 0 and died: another resumes the same window from page 1000."""
    from subscriptions.integration import client_for
    from subscriptions.services.initialization import Transfer, fetch_page

    netsuite_sim.sim.state.record_counts[ITEMS] = 2100
    netsuite_sim.sim.state.record_counts["location"] = 1
    subscription = netsuite_sim.subscription()
    with django_capture_on_commit_callbacks(execute=True):
        job = polling.polling_start(subscription=subscription, actor=COMMAND_LINE)
    run = jobs._claim(job.pk, "dead-worker")
    data_type = polling.inventory_type(job.params["window"]["from"])
    transfer = Transfer(run, {ITEMS: data_type})
    with client_for(subscription) as client:
        transfer._store_page(ITEMS, 0, fetch_page(client, data_type.query, 0))
    assert len(stored(subscription)) == 1000
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    )
    netsuite_sim.sim.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        assert [j.pk for j in jobs.job_recover_stale()] == [job.pk]
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert job.attempts == 2
    # Item pages 1000 and 2000 only, then the three pages of levels.
    assert netsuite_sim.stats()["calls"]["suiteql"] == 5
    assert job.counts[ITEMS] == {"read": 2100, "created": 2100, "updated": 0, "unchanged": 0}
    assert len(stored(subscription)) == 2100
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == job.window[1]


def test_a_failed_poll_moves_nothing_and_its_retry_reads_the_same_window(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    poll(subscription, django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    polled_until = subscription.inventory_polled_until
    change(netsuite_sim, "3", displayName="Changed while NetSuite was down")
    netsuite_sim.sim.state.add_fault(kind="suiteql", status=400, count=1)
    failed = poll(subscription, django_capture_on_commit_callbacks)
    assert failed.status == Job.Status.FAILED
    assert failed.error["status"] == 400
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == polled_until
    assert AuditEvent.objects.filter(action="job.failed", target_id=str(failed.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_retry(job=failed, actor=COMMAND_LINE)
    run_worker()
    failed.refresh_from_db()
    assert failed.status == Job.Status.SUCCEEDED, failed.log
    assert failed.counts[ITEMS]["updated"] == 1
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == failed.window[1] > polled_until


def test_an_older_poll_succeeding_late_never_moves_the_window_back(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    netsuite_sim.sim.state.add_fault(kind="suiteql", status=400, count=1)
    old = poll(subscription, django_capture_on_commit_callbacks)
    assert old.status == Job.Status.FAILED
    # Queued an hour ago, as far as its window says.
    hour_ago = (old.window[1] - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    Job.objects.filter(pk=old.pk).update(
        params={**old.params, "window": {"from": None, "to": hour_ago}}
    )
    new = poll(subscription, django_capture_on_commit_callbacks)
    assert new.status == Job.Status.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_retry(job=old, actor=COMMAND_LINE)
    run_worker()
    old.refresh_from_db()
    assert old.status == Job.Status.SUCCEEDED
    assert old.window[1] < new.window[1]
    subscription.refresh_from_db()
    assert subscription.inventory_polled_until == new.window[1]


def test_one_poll_at_a_time(netsuite_sim, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = polling.polling_start(subscription=subscription, actor=COMMAND_LINE)
    with pytest.raises(polling.PollingError, match=f"job {first.pk}"):
        polling.polling_start(subscription=subscription, actor=COMMAND_LINE)
    assert Job.objects.filter(kind=Job.Kind.INVENTORY_POLL).count() == 1


# -- the simulator answers the window strictly, as NetSuite would ----------------------------


def suiteql(subscription, query: str) -> list[dict]:
    from subscriptions.integration import client_for

    with client_for(subscription) as client:
        return list(client.records.suiteql(query))


def test_the_simulator_filters_by_lastmodifieddate_and_refuses_what_netsuite_would(
    netsuite_sim, subscription
):
    from netsuite.errors import NetSuiteError

    since = timezone.now() - dt.timedelta(days=3, hours=2)
    rows = suiteql(
        subscription,
        "SELECT id, itemid FROM item WHERE itemtype = 'InvtPart' AND lastmodifieddate >= "
        f"{suiteql_timestamp(since)} ORDER BY id",
    )
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert suiteql(subscription, "SELECT id FROM item WHERE itemtype = 'Kit' ORDER BY id") == []
    # The same moment in another zone is the same moment.
    east = since.astimezone(dt.timezone(dt.timedelta(hours=5)))
    moment = east.strftime("%Y-%m-%d %H:%M:%S +05:00")
    rows = suiteql(
        subscription,
        f"SELECT id FROM item WHERE lastmodifieddate >= TO_TIMESTAMP_TZ('{moment}', "
        "'YYYY-MM-DD HH24:MI:SS TZH:TZM') ORDER BY id",
    )
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    refused = [
        # A bare string is no datetime in SuiteQL.
        "SELECT id FROM item WHERE lastmodifieddate >= '2026-01-01 00:00:00' ORDER BY id",
        # A format the literal does not match.
        "SELECT id FROM item WHERE lastmodifieddate >= "
        "TO_TIMESTAMP_TZ('2026-01-01', 'YYYY-MM-DD HH24:MI:SS TZH:TZM') ORDER BY id",
        "SELECT id FROM item WHERE lastmodifieddate >= "
        "TO_TIMESTAMP_TZ('2026-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY id",
        "SELECT id FROM item WHERE nosuchfield = 'x' ORDER BY id",
        "SELECT id FROM item WHERE itemtype = 'InvtPart' OR isinactive = 'T' ORDER BY id",
    ]
    for query in refused:
        with pytest.raises(NetSuiteError) as caught:
            suiteql(subscription, query)
        assert caught.value.status == 400, query


# -- the scheduler's enqueue ---------------------------------------------------------------


def test_enqueue_due_queues_each_due_subscription_once_per_interval(
    netsuite_sim, django_capture_on_commit_callbacks
):
    on = netsuite_sim.subscription("On Co")
    polling.polling_settings_set(subscription=on, actor=COMMAND_LINE, enabled=True, minutes=60)
    netsuite_sim.subscription("Off Co")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        queued = polling.polling_enqueue_due(now=now)
    assert [(j.subscription_id, j.actor_name) for j in queued] == [(on.pk, SCHEDULER.name)]
    assert polling.polling_enqueue_due(now=now + dt.timedelta(hours=2)) == []  # still queued
    run_worker()
    job = Job.objects.get(pk=queued[0].pk)
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert polling.polling_enqueue_due(now=job.created_at + dt.timedelta(minutes=59)) == []
    later = polling.polling_enqueue_due(now=job.created_at + dt.timedelta(minutes=60))
    assert [j.subscription_id for j in later] == [on.pk]
    assert Job.objects.filter(kind=Job.Kind.INVENTORY_POLL).count() == 2


def _enqueue_in_threads(n: int, now) -> list[list[int]]:
    import threading

    from django.db import connection

    barrier = threading.Barrier(n)
    results: list[list[int]] = [[] for _ in range(n)]
    errors: list[BaseException] = []

    def scheduler(i: int) -> None:
        try:
            barrier.wait()
            results[i] = [job.subscription_id for job in polling.polling_enqueue_due(now=now)]
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_queue_each_poll_exactly_once():
    from subscriptions.actors import SYSTEM
    from tests import factories

    due = []
    for n in range(6):
        subscription, _key = factories.make_subscription(SYSTEM, name=f"Due {n}")
        polling.polling_settings_set(
            subscription=subscription, actor=SYSTEM, enabled=True, minutes=30
        )
        due.append(subscription.pk)
    factories.make_subscription(SYSTEM, name="Not polled")
    now = timezone.now()
    results = _enqueue_in_threads(2, now)
    assert sorted(results[0] + results[1]) == sorted(due)
    polls = Job.objects.filter(kind=Job.Kind.INVENTORY_POLL)
    assert sorted(polls.values_list("subscription_id", flat=True)) == sorted(due)
    assert AuditEvent.objects.filter(action="job.started").count() == len(due)
    # And again at the same moment: nothing is due any more.
    assert _enqueue_in_threads(2, now) == [[], []]


# -- pages and permissions ------------------------------------------------------------------


def section(client, subscription, **headers):
    return client.get(reverse("subscriptions:subscription_jobs", args=[subscription.pk]), **headers)


def test_administrator_polls_now_and_sets_polling_others_only_see_it(
    netsuite_sim,
    subscription,
    admin_client_,
    support_client,
    auditor_client,
    htmx_headers,
    django_capture_on_commit_callbacks,
):
    start_url = reverse("subscriptions:polling_start", args=[subscription.pk])
    settings_url = reverse("subscriptions:polling_settings", args=[subscription.pk])
    on = {"inventory_polling_enabled": "on", "inventory_polling_minutes": "15"}
    for client in (support_client, auditor_client):
        assert client.post(start_url).status_code == 403
        assert client.post(settings_url, on).status_code == 403
    assert not Job.objects.exists()
    subscription.refresh_from_db()
    assert subscription.inventory_polling_enabled is False

    page = section(support_client, subscription)
    assert page.status_code == 200
    assert not {start_url, settings_url} & html.form_actions(page)
    assert html.text_of(page, "polling").count("Off") >= 1
    assert (
        auditor_client.get(
            reverse("subscriptions:subscription_jobs", args=[subscription.pk])
        ).status_code
        == 403
    )

    admin_page = section(admin_client_, subscription)
    assert {start_url, settings_url} <= html.form_actions(admin_page)

    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client_.post(start_url, **htmx_headers)
    job = Job.objects.get()
    assert f"Inventory poll queued as job {job.pk}" in answer.content.decode()
    again = admin_client_.post(start_url, **htmx_headers)
    assert f"already queued (job {job.pk})" in again.content.decode()
    assert "cancel it, then poll again" in again.content.decode()
    assert Job.objects.count() == 1
    run_worker()

    answer = admin_client_.post(settings_url, on, **htmx_headers)
    assert "Inventory polling is on, every 15 minutes." in answer.content.decode()
    subscription.refresh_from_db()
    assert (subscription.inventory_polling_enabled, subscription.inventory_polling_minutes) == (
        True,
        15,
    )
    event = AuditEvent.objects.get(action="polling.settings_changed")
    assert event.actor_name == "alice-admin"
    assert event.subscription_id == subscription.pk
    assert event.changes == {
        "inventory_polling_enabled": [False, True],
        "inventory_polling_minutes": [60, 15],
    }
    # Saved again unchanged: nothing recorded.
    admin_client_.post(settings_url, on, **htmx_headers)
    assert AuditEvent.objects.filter(action="polling.settings_changed").count() == 1

    page = section(support_client, subscription)
    facts = html.definitions(page)
    assert facts["Scheduled polling"] == "On, every 15 minutes"
    assert "manage.py run_scheduler" in facts["Next poll"]
    rows = html.table_rows(page, "last-poll")
    assert rows[0][0] == f"#{job.pk}"
    assert rows[0][1] == "Succeeded"
    assert rows[0][3:] == ["Items", "30", "30", "0", "0"]
    levels = InventoryLevel.objects.filter(subscription=subscription).count()
    assert levels > 30
    assert rows[1][3:] == ["Stock levels", str(levels), str(levels), "0", "0"]
    assert facts["Inventory items stored here"].startswith("30")
    records = support_client.get(reverse("subscriptions:records", args=[subscription.pk, ITEMS]))
    assert records.status_code == 200
    assert len(html.table_rows(records, "records")) == 30

    detail = support_client.get(reverse("subscriptions:job_detail", args=[job.pk]))
    assert "every inventory item (the first poll)" in html.definitions(detail)["Window"]
    listing = support_client.get(reverse("subscriptions:jobs"))
    assert "Inventory poll: Inventory Item, Inventory level, every item" in listing.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"inventory_polling_enabled": "on", "inventory_polling_minutes": "4"},
            "greater than or equal to 5",
        ),
        (
            {"inventory_polling_enabled": "on", "inventory_polling_minutes": "20000"},
            "less than or equal to 10080",
        ),
        (
            {"inventory_polling_enabled": "on", "inventory_polling_minutes": "soon"},
            "Enter a whole number",
        ),
        ({"inventory_polling_enabled": "on"}, "This field is required"),
    ],
)
def test_bad_polling_settings_change_nothing_and_say_what_to_do(
    netsuite_sim, subscription, admin_client_, htmx_headers, data, message
):
    url = reverse("subscriptions:polling_settings", args=[subscription.pk])
    answer = admin_client_.post(url, data, **htmx_headers)
    text = answer.content.decode()
    assert "The polling settings were not saved; nothing changed." in text
    assert message in text
    subscription.refresh_from_db()
    assert (subscription.inventory_polling_enabled, subscription.inventory_polling_minutes) == (
        False,
        60,
    )
    assert not AuditEvent.objects.filter(action="polling.settings_changed").exists()
    # Without JavaScript: back to the page, the same refusal flashed.
    plain = admin_client_.post(url, data, follow=True)
    assert "nothing changed" in plain.content.decode()
    assert message in plain.content.decode()


def test_the_service_refuses_what_the_form_would(netsuite_sim, subscription):
    for minutes in (4, 10081, "15", True, None):
        with pytest.raises(InvalidInput):
            polling.polling_settings_set(
                subscription=subscription, actor=COMMAND_LINE, enabled=True, minutes=minutes
            )
    subscription.refresh_from_db()
    assert subscription.inventory_polling_enabled is False
    # The database refuses it too, whoever writes.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(inventory_polling_minutes=1)


def test_audit_trail_of_a_poll(
    netsuite_sim, subscription, admin_user, django_capture_on_commit_callbacks
):
    job = poll(subscription, django_capture_on_commit_callbacks, actor=admin_user)
    started = AuditEvent.objects.get(action="job.started", target_id=str(job.pk))
    assert started.actor_name == "alice-admin"
    assert started.changes["kind"] == [None, "inventory_poll"]
    assert "every inventory item" in started.changes["what"][1]
    succeeded = AuditEvent.objects.get(action="job.succeeded", target_id=str(job.pk))
    assert succeeded.changes[ITEMS] == [None, "read 30, created 30, updated 0, unchanged 0"]
