"""Everything at once on one NetSuite account: three real ``db_worker`` processes initializing
three subscriptions, while a web request thread switches webhooks, all within the account's
two slots.

The simulator's account allows 2 requests in flight and answers 429 (REST) or
SSS_REQUEST_LIMIT_EXCEEDED (RESTlet) past that; each subscription's Concurrent Connections is
2. The workers and this process count against the same leases in the database store
(``NETSUITE_THROTTLE_STORE=database``, a file on SQLite, the test database on PostgreSQL), so
the simulator's own counters must show the cap reached and never passed, every job must end
succeeded and every record must be stored exactly once. Run it on both databases::

    pytest tests/subscriptions/test_governance_combined.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME pytest tests/subscriptions/...
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.urls import reverse

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Job, Record, Role
from subscriptions.services import initialization
from tests import factories
from tests.processes import ProcessGroup, db_worker, django_env

ACCOUNT = "1234567"
SLOTS = 2
COUNTS = {"customercategory": 2500, "location": 2000, "paymentmethod": 1200, "shipitem": 1500}
# Customer, Location and Sales Order deployments (the simulator's Webhook Manager list).
DEPLOYMENTS = (245, 248, 250)
TOGGLES = 12


def toggling(subscription, user, outcomes: list, stop: threading.Event) -> None:
    """A person switching webhook flags through the web views while the jobs run."""
    client = factories.logged_in_client(user)
    url = reverse("subscriptions:webhook_toggle", args=[subscription.pk])
    try:
        for n in range(TOGGLES):
            if stop.is_set():
                return
            deployment = DEPLOYMENTS[n % len(DEPLOYMENTS)]
            flag = ("create", "update", "delete")[n % 3]
            data = {"deployment": str(deployment), "flag": flag}
            on = n % 2 == 0
            if on:
                data[flag] = "on"
            response = client.post(url, data, HTTP_HX_REQUEST="true")
            outcomes.append(
                (
                    deployment,
                    flag,
                    on,
                    response.status_code,
                    "not saved" in response.content.decode(),
                )
            )
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_three_workers_and_webhook_toggles_stay_within_the_accounts_two_slots(
    netsuite_sim, settings, make_user, tmp_path
):
    sim = netsuite_sim.sim
    sim.state.record_counts.update(COUNTS)
    sim.state.latency = 0.05
    subscriptions = [
        netsuite_sim.subscription(f"Combined {n}", concurrent_connections=SLOTS) for n in range(3)
    ]
    sim.set_governance(ACCOUNT, account_limit=SLOTS)
    # This process (the web side) counts in the store the workers count in.
    settings.NETSUITE_THROTTLE_STORE = "database"
    settings.NETSUITE_SLOT_WAIT = 60.0
    settings.NETSUITE_TIMEOUT_READ = 5.0
    support = make_user("sue-support", Role.SUPPORT)

    group = ProcessGroup(tmp_path / "workers")
    env = django_env(
        NETSUITE_BASE_URL=sim.base_url,
        NETSUITE_SIMULATOR="1",
        NETSUITE_THROTTLE_STORE="database",
        NETSUITE_SLOT_WAIT="60",
        NETSUITE_TIMEOUT_READ="5",
        JOB_HEARTBEAT_SECONDS="0.5",
    )
    outcomes: list = []
    stop = threading.Event()
    web = threading.Thread(target=toggling, args=(subscriptions[0], support, outcomes, stop))
    try:
        for n in range(3):
            group.start(f"worker-{n}", db_worker(f"combined-{n}"), env)
        jobs = [
            initialization.initialization_start(subscription=s, types=None, actor=COMMAND_LINE)
            for s in subscriptions
        ]
        group.wait_for(
            lambda: Job.objects.filter(
                pk__in=[j.pk for j in jobs], status=Job.Status.RUNNING
            ).exists(),
            60,
            "a worker to start a job",
        )
        web.start()
        group.wait_for(
            lambda: (
                not Job.objects.filter(pk__in=[j.pk for j in jobs], status__in=Job.ACTIVE).exists()
            ),
            240,
            "every job to end",
        )
        web.join(timeout=120)
    finally:
        stop.set()
        group.stop()
        if web.is_alive():
            web.join(timeout=30)

    stats = sim.stats()
    # The simulator's own count: the cap was reached, never passed.
    assert stats["rejected_429"] == 0, stats
    assert stats["restlet_limit_errors"] == 0, stats
    assert stats["accounts"][ACCOUNT]["max_in_flight"] == SLOTS, stats
    assert stats["calls"]["suiteql"] >= 3 * sum(-(-n // 1000) for n in COUNTS.values())

    with sim.state.lock:
        expected = {t: set(sim.state.accounts[ACCOUNT].records[t]) for t in COUNTS}
    for job, subscription in zip(jobs, subscriptions, strict=True):
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, (job.error, job.log)
        for record_type, ids in expected.items():
            stored = list(
                Record.objects.filter(
                    subscription=subscription, record_type=record_type
                ).values_list("internal_id", flat=True)
            )
            assert len(stored) == len(ids) and set(stored) == ids, (subscription, record_type)
            assert job.counts[record_type]["created"] == len(ids)  # each stored once

    # Every switch reached NetSuite and was confirmed there, none refused on the way.
    assert len(outcomes) == TOGGLES
    assert all(status == 200 and not refused for *_, status, refused in outcomes), outcomes
    flags = sim.webhook_flags(ACCOUNT)
    final = {}
    for deployment, flag, on, *_ in outcomes:
        final[(deployment, flag)] = on
    for (deployment, flag), on in final.items():
        assert flags[deployment][flag] is on, (deployment, flag, flags[deployment])
