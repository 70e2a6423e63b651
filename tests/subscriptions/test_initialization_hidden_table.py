"""Initialization of a type the role may not read: the job fails naming the type and saying
which permissions to give, and nothing of that type is stored."""

import pytest

from subscriptions.models import Job, Record
from tests.subscriptions.test_jobs_initialization import run_worker, start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _caps_off_the_database(settings):
    # As in test_jobs_initialization.py: the page threads must not wait on this test's
    # open transaction for a database-kept cap.
    settings.NETSUITE_THROTTLE_STORE = "cache"


def test_a_type_hidden_from_the_role_fails_the_job_with_what_to_give_it(
    netsuite_sim, django_capture_on_commit_callbacks
):
    subscription = netsuite_sim.subscription()
    netsuite_sim.sim.update_integration(subscription.consumer_id, denied_records=["location"])
    job = start(subscription, ["location"], capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "location" in job.error["message"]
    assert "SuiteAnalytics Workbook" in job.error["hint"]
    assert not Record.objects.filter(subscription=subscription, record_type="location").exists()

    # Once the role may read it, a retry stores every row.
    netsuite_sim.sim.update_integration(subscription.consumer_id, denied_records=[])
    job = start(subscription, ["location"], capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.log
    assert Record.objects.filter(subscription=subscription, record_type="location").exists()
