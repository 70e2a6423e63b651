"""Initialization jobs end to end in one process: the view or the command queues a job on
commit, django-tasks-db's worker (its real run loop, one batch) runs it against the simulator
over HTTP, and the records, counts, audit trail and pages say what happened."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from netsuite.alternate_ids import ALTERNATE_ID_TYPES
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, Job, Record
from subscriptions.services import initialization, jobs
from tests import html

SIM_TYPES = ("customercategory", "location", "paymentmethod", "shipitem")


def run_worker():
    """django-tasks-db's worker steps (claim, run) over every ready task, in this process.

    Its run loop closes the connection between tasks, which would close the test's own
    transaction; the loop itself runs as a real process in test_jobs_workers.py."""
    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
                    startup_delay=False, max_tasks=None, worker_id="in-test",
                    excluded_queue_names=[])
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)


def start(subscription, types=None, actor=COMMAND_LINE, capture=None):
    with capture(execute=True):
        return initialization.initialization_start(
            subscription=subscription, types=types, actor=actor
        )


def two_types_run(netsuite_sim, capture, *, records: int, connections: int, latency: float):
    """Customer categories and locations, ``records`` each, initialized with ``connections``
    while NetSuite answers in ``latency``: the subscription, the job (succeeded) and the
    simulator's counters of the run."""
    state = netsuite_sim.sim.state
    state.record_counts.update(customercategory=records, location=records)
    subscription = netsuite_sim.subscription(concurrent_connections=connections)
    job = start(subscription, ["customercategory", "location"], capture=capture)
    state.latency = latency
    netsuite_sim.sim.reset_stats()
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    return subscription, job, netsuite_sim.stats()


def sim_rows(netsuite_sim, record_type):
    with netsuite_sim.sim.state.lock:
        return dict(netsuite_sim.sim.state.accounts["1234567"].records[record_type])


def stored(subscription, record_type):
    return {
        r.internal_id: r
        for r in Record.objects.filter(subscription=subscription, record_type=record_type)
    }


@pytest.fixture(autouse=True)
def _caps_off_the_database(settings):
    # The job's page threads take the caps while the test holds its transaction open; a
    # database-kept cap would wait on that transaction (the real processes of
    # test_jobs_workers.py use the database store).
    settings.NETSUITE_THROTTLE_STORE = "cache"


@pytest.fixture
def subscription(netsuite_sim):
    return netsuite_sim.subscription()


def test_initialize_all_stores_exactly_the_simulators_records_and_twice_changes_nothing(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    job = start(subscription, capture=django_capture_on_commit_callbacks)
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    netsuite_sim.sim.reset_stats()
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert job.attempts == 1
    assert job.types[0] == "alternateidtype"
    for record_type in SIM_TYPES:
        expected = sim_rows(netsuite_sim, record_type)
        rows = stored(subscription, record_type)
        assert set(rows) == set(expected), record_type
        for internal_id, row in rows.items():
            name = expected[internal_id].get("name") or expected[internal_id]["itemId"]
            assert row.name == name
            assert row.inactive is False
        assert job.counts[record_type] == {
            "read": len(expected), "created": len(expected), "updated": 0, "unchanged": 0
        }
    codes = set(stored(subscription, "alternateidtype"))
    assert codes == {t.code for t in ALTERNATE_ID_TYPES}
    assert "EXTERNALID" in codes
    # One SuiteQL page per type (all under 1,000 rows); nothing queried for alternate IDs.
    assert netsuite_sim.stats()["calls"].get("suiteql") == 4
    assert job.progress_done == job.progress_total == sum(
        len(sim_rows(netsuite_sim, t)) for t in SIM_TYPES
    ) + len(ALTERNATE_ID_TYPES)
    assert AuditEvent.objects.filter(action="job.succeeded", target_id=str(job.pk)).count() == 1

    before = {
        (r.record_type, r.internal_id): (r.pk, r.content_hash, r.fetched_at)
        for r in Record.objects.filter(subscription=subscription)
    }
    again = start(subscription, capture=django_capture_on_commit_callbacks)
    run_worker()
    again.refresh_from_db()
    assert again.status == Job.Status.SUCCEEDED
    after = {
        (r.record_type, r.internal_id): (r.pk, r.content_hash, r.fetched_at)
        for r in Record.objects.filter(subscription=subscription)
    }
    assert after == before
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again.counts.values())


def test_pages_of_1000_in_parallel_cover_every_record_once(
    netsuite_sim, django_capture_on_commit_callbacks
):
    netsuite_sim.sim.state.record_counts["customercategory"] = 3500
    subscription = netsuite_sim.subscription(concurrent_connections=3)
    netsuite_sim.sim.reset_stats()
    job = start(subscription, ["customercategory"], capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert len(stored(subscription, "customercategory")) == 3500
    stats = netsuite_sim.stats()
    assert stats["calls"]["suiteql"] == 4
    assert stats["rejected_429"] == 0
    assert job.checkpoint["types"]["customercategory"]["pages"] == [0, 1000, 2000, 3000]
    queries = [r for r in netsuite_sim.sim.state.requests_seen if r["kind"] == "suiteql"]
    assert {q["query"] for q in queries} == {
        f"limit=1000&offset={o}" for o in (0, 1000, 2000, 3000)
    }


@pytest.mark.parametrize(
    ("connections", "most"),
    [pytest.param(4, range(2, 5), id="4 connections"), pytest.param(1, [1], id="1 connection")],
)
def test_pages_are_in_flight_together_up_to_the_concurrent_connections(
    netsuite_sim, django_capture_on_commit_callbacks, connections, most
):
    """The simulator counts the calls it holds at once: with every call slowed down, the job's
    pages overlap (never more than Concurrent Connections); with one connection they never
    do. A job that fetched its pages one by one would show 1 in both cases."""
    subscription, job, stats = two_types_run(
        netsuite_sim, django_capture_on_commit_callbacks,
        records=3000, connections=connections, latency=0.25,
    )
    assert stats["calls"]["suiteql"] == 6  # three pages of each type
    assert stats["rejected_429"] == 0
    assert stats["accounts"]["1234567"]["in_flight"] == 0
    assert stats["max_in_flight"] in most, stats
    assert len(stored(subscription, "customercategory")) == 3000
    assert len(stored(subscription, "location")) == 3000


def test_slots_the_first_pages_leave_idle_read_second_pages_at_once(
    netsuite_sim, django_capture_on_commit_callbacks
):
    """Two types of two pages each, four connections: the second pages are guessed beside
    the first ones, so all four calls are in flight together (without the guesses the first
    round would hold two, and the job would take two rounds of NetSuite's latency)."""
    subscription, job, stats = two_types_run(
        netsuite_sim, django_capture_on_commit_callbacks, records=2000, connections=4, latency=0.5
    )
    assert stats["calls"]["suiteql"] == 4  # no page read twice, none for nothing
    assert stats["max_in_flight"] == 4, stats
    assert stats["rejected_429"] == 0
    for record_type in ("customercategory", "location"):
        assert len(stored(subscription, record_type)) == 2000
        assert job.checkpoint["types"][record_type] == {"pages": [0, 1000], "total": 2000}
        assert job.counts[record_type]["created"] == 2000


def test_a_guessed_page_beyond_a_small_type_costs_one_call_and_changes_nothing(
    netsuite_sim, django_capture_on_commit_callbacks
):
    subscription = netsuite_sim.subscription(concurrent_connections=3)
    netsuite_sim.sim.reset_stats()
    job = start(subscription, ["customercategory"], capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    expected = sim_rows(netsuite_sim, "customercategory")
    assert set(stored(subscription, "customercategory")) == set(expected)
    # The first page and two guesses (1000, 2000) in the slots it left idle.
    assert netsuite_sim.stats()["calls"]["suiteql"] == 3
    assert job.checkpoint["types"]["customercategory"]["total"] == len(expected)
    assert job.counts["customercategory"] == {
        "read": len(expected), "created": len(expected), "updated": 0, "unchanged": 0
    }
    assert job.progress_done == job.progress_total == len(expected)


def test_a_refused_guess_is_asked_for_again_once_the_total_says_it_exists(
    netsuite_sim, django_capture_on_commit_callbacks, settings
):
    """NetSuite refuses the first two calls (the first page and the guess beside it): the
    first page is retried patiently as ever, the guess is no failure, and the page it guessed
    is read as an ordinary page once the first page's total says it exists."""
    settings.NETSUITE_RETRY_MAX_ATTEMPTS = 1  # the transport hands the 503 straight back
    netsuite_sim.sim.state.record_counts["customercategory"] = 1500
    subscription = netsuite_sim.subscription(concurrent_connections=2)
    job = start(subscription, ["customercategory"], capture=django_capture_on_commit_callbacks)
    netsuite_sim.sim.reset_stats()
    netsuite_sim.sim.state.add_fault(kind="suiteql", status=503, count=2)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert len(stored(subscription, "customercategory")) == 1500
    assert job.checkpoint["types"]["customercategory"] == {"pages": [0, 1000], "total": 1500}
    offsets = [
        r["query"] for r in netsuite_sim.sim.state.requests_seen if r["kind"] == "suiteql"
    ]
    assert sorted(offsets) == sorted(
        ["limit=1000&offset=0", "limit=1000&offset=1000"] * 2
    )


def test_a_changed_record_is_updated_and_the_rest_left_alone(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    start(subscription, ["location"], capture=django_capture_on_commit_callbacks)
    run_worker()
    first = stored(subscription, "location")
    with netsuite_sim.sim.state.lock:
        netsuite_sim.sim.state.accounts["1234567"].records["location"]["3"]["isInactive"] = True
    job = start(subscription, ["location"], capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.counts["location"] == {"read": 12, "created": 0, "updated": 1, "unchanged": 11}
    now = stored(subscription, "location")
    assert now["3"].inactive is True and now["3"].fetched_at > first["3"].fetched_at
    assert now["4"].fetched_at == first["4"].fetched_at


def test_a_netsuite_refusal_fails_the_job_with_its_problem_and_retry_finishes_it(
    netsuite_sim, django_capture_on_commit_callbacks
):
    # As many connections as types: no slot is left for a guessed page, so the refused call
    # is one the job needs (a refused guess is no failure: see the read-ahead tests below).
    subscription = netsuite_sim.subscription(concurrent_connections=2)
    job = start(subscription, ["customercategory", "location"],
                capture=django_capture_on_commit_callbacks)
    netsuite_sim.sim.state.add_fault(kind="suiteql", status=400, count=1)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error["status"] == 400
    assert job.finished_at is not None
    assert AuditEvent.objects.filter(action="job.failed", target_id=str(job.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_retry(job=job, actor=COMMAND_LINE)
    with pytest.raises(jobs.JobRefused):
        jobs.job_retry(job=job, actor=COMMAND_LINE)  # queued, not failed
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert job.attempts == 2
    assert job.error is None
    assert len(stored(subscription, "customercategory")) == 25
    assert len(stored(subscription, "location")) == 12


def test_cancelled_before_a_worker_takes_it_nothing_runs(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    job = start(subscription, capture=django_capture_on_commit_callbacks)
    jobs.job_cancel(job=job, actor=COMMAND_LINE)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.attempts == 0
    assert not Record.objects.filter(subscription=subscription).exists()
    with pytest.raises(jobs.JobRefused):
        jobs.job_cancel(job=job, actor=COMMAND_LINE)


def test_one_initialization_at_a_time_and_unknown_types_are_refused(
    netsuite_sim, subscription, django_capture_on_commit_callbacks
):
    start(subscription, capture=django_capture_on_commit_callbacks)
    with pytest.raises(initialization.InitializationError):
        start(subscription, capture=django_capture_on_commit_callbacks)
    with pytest.raises(initialization.InitializationError):
        initialization.initialization_start(
            subscription=subscription, types=["customrecord_otg_ipaas_alternate_id_type"],
            actor=COMMAND_LINE,
        )
    assert Job.objects.count() == 1


def test_a_stale_running_job_is_resumed_from_its_checkpoint(
    netsuite_sim, subscription, django_capture_on_commit_callbacks, settings
):
    """In one process: a job left running by a worker that died after storing the alternate
    IDs and customer categories is queued again and finishes without reading those again."""
    job = start(subscription, capture=django_capture_on_commit_callbacks)
    run = jobs._claim(job.pk, "dead-worker")
    transfer = initialization.Transfer(run)
    transfer.alternate_ids()
    # Not stale yet: nothing is recovered.
    assert jobs.job_recover_stale() == []
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    )
    netsuite_sim.sim.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        assert [j.pk for j in jobs.job_recover_stale()] == [job.pk]
    # The lost worker may not write any more, whatever it still tries.
    with pytest.raises(jobs.JobStopped):
        transfer.mark_done("customercategory")
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert job.attempts == 2
    assert job.counts["alternateidtype"]["read"] == len(ALTERNATE_ID_TYPES)
    assert job.counts["alternateidtype"]["created"] == len(ALTERNATE_ID_TYPES)
    assert netsuite_sim.stats()["calls"]["suiteql"] == 4
    assert AuditEvent.objects.filter(action="job.resumed", target_id=str(job.pk)).count() == 1


# -- pages and permissions ------------------------------------------------------------------


def test_administrator_initializes_from_the_page_support_watches(
    netsuite_sim, subscription, admin_client_, support_client, auditor_client, htmx_headers,
    django_capture_on_commit_callbacks,
):
    url = reverse("subscriptions:initialization_start", args=[subscription.pk])
    assert support_client.post(url, {"type": "location"}).status_code == 403
    assert auditor_client.post(url, {"type": "location"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, {"type": "location"}, **htmx_headers)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.types == ["location"]
    assert f"job {job.pk}" in response.content.decode()

    progress = reverse("subscriptions:job_detail", args=[job.pk]) + "?part=progress"
    running = support_client.get(progress, **htmx_headers).content.decode()
    assert 'hx-trigger="every' in running
    run_worker()
    done = support_client.get(progress, **htmx_headers)
    assert done.status_code == 200
    assert "hx-trigger" not in done.content.decode()
    assert 'data-status="succeeded"' in done.content.decode()

    page = support_client.get(reverse("subscriptions:jobs"))
    assert page.status_code == 200
    assert reverse("subscriptions:job_detail", args=[job.pk]) in html.urls(page)
    assert auditor_client.get(reverse("subscriptions:jobs")).status_code == 403

    records = support_client.get(
        reverse("subscriptions:records", args=[subscription.pk, "location"]), {"q": "Location 1"}
    )
    assert records.status_code == 200
    rows = html.table_rows(records, "records")
    assert {row[1] for row in rows} == {"Location 1", "Location 10", "Location 11",
                                        "Location 12"}
    section = support_client.get(reverse("subscriptions:subscription_jobs", args=[subscription.pk]))
    assert url not in html.form_actions(section)  # support sees, but may not start


def test_the_subscription_page_offers_initialize_per_type_and_all(
    netsuite_sim, subscription, admin_client_, htmx_headers
):
    section = admin_client_.get(
        reverse("subscriptions:subscription_jobs", args=[subscription.pk]), **htmx_headers
    )
    url = reverse("subscriptions:initialization_start", args=[subscription.pk])
    forms = [f for f in html.forms(section) if f.action == url]
    assert sorted(f.fields.get("type") for f in forms) == sorted(
        [*initialization.DATA_TYPES, "all"]
    )
    detail = admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk]))
    assert reverse("subscriptions:subscription_jobs", args=[subscription.pk]) in html.urls(detail)


def test_cancel_and_retry_from_the_job_page(
    netsuite_sim, subscription, admin_client_, support_client, django_capture_on_commit_callbacks
):
    job = start(subscription, capture=django_capture_on_commit_callbacks)
    cancel = reverse("subscriptions:job_cancel", args=[job.pk])
    assert support_client.post(cancel).status_code == 403
    assert admin_client_.post(cancel).status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert admin_client_.post(cancel).status_code == 302  # refused, flashed
    retry = reverse("subscriptions:job_retry", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client_.post(retry).status_code == 302
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_initialize_data_command_waits_and_prints_per_type(netsuite_sim, settings, capsys):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    subscription = netsuite_sim.subscription("Cmd Co")
    call_command("initialize_data", "cmd co", "--type", "shipitem", "--type", "paymentmethod",
                 "--wait")
    out = capsys.readouterr().out
    assert "Shipping Method: 8 read, 8 stored (8 new" in out
    assert "Payment Method: 10 read, 10 stored (10 new" in out
    assert "succeeded" in out
    assert len(stored(subscription, "shipitem")) == 8
    assert Job.objects.get().types == ["paymentmethod", "shipitem"]


def test_the_jobs_page_threads_log_with_the_jobs_ids(
    netsuite_sim, subscription, django_capture_on_commit_callbacks, caplog
):
    """The threads that read the pages are the pool's, started without the job's context: a
    JSON log line from one of them named no job until they were given a copy of it."""
    from subscriptions.middleware import RequestIdLogFilter

    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level("DEBUG", logger="netsuite")
    job = start(subscription, capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    in_threads = [r for r in caplog.records if r.threadName.startswith(f"job{job.pk}")]
    assert len(in_threads) >= len(SIM_TYPES)  # an answer's line per page, at least
    assert {(r.job_id, r.subscription_id) for r in in_threads} == {
        (str(job.pk), str(subscription.pk))
    }
