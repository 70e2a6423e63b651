"""Set up from nothing: a subscription saved from Name, Account ID and Consumer ID alone is
"not ready", and the services refuse what needs NetSuite until the dashboard gave it a key
and NetSuite's Certificate ID; its checklist follows the stored state step by step.

The simulator is real (HTTP); nothing of the project is patched.
"""

import pytest
from django.urls import reverse

from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, Certificate, ConnectionTest, Job, WebhookState
from subscriptions.selectors.health import subscription_health
from subscriptions.selectors.setup_progress import setup_progress
from subscriptions.services import certificates as certificate_service
from subscriptions.services.connection import ConnectionTestError, connection_test_run
from subscriptions.services.errors import SETUP_NOT_FINISHED, InvalidInput
from subscriptions.services.initialization import initialization_start
from subscriptions.services.jobs import JobRefused
from subscriptions.services.polling import polling_settings_set, polling_start
from subscriptions.services.setup_check import setup_check_run
from subscriptions.services.subscriptions import subscription_create
from subscriptions.services.webhooks import (
    webhook_set_all,
    webhook_set_flag,
    webhook_table,
)
from tests import factories

pytestmark = pytest.mark.django_db

ACCOUNT = "1234567"


def bare(netsuite_sim, name="Fresh"):
    """A subscription as the form saves it from Name, Account ID and Consumer ID only."""
    consumer_id = netsuite_sim.sim.create_integration(ACCOUNT)
    data = factories.subscription_data(
        name=name,
        consumer_id=consumer_id,
        account_id=ACCOUNT,
        api_url=factories.api_url(ACCOUNT),
        private_key="",
        certificate_id="",
        inventory_search_days=0,
        api_throttle_limit=1000,
        concurrent_connections=3,
    )
    subscription, _key = subscription_create(data=data, actor=SYSTEM)
    return subscription


def test_the_form_saves_a_subscription_without_key_and_certificate_id(admin_client):
    data = factories.create_form_data(private_key_pem="", certificate_id="")
    response = admin_client.post(reverse("subscriptions:create"), data)
    assert response.status_code == 302
    from subscriptions.models import Subscription

    saved = Subscription.objects.get(name=data["name"])
    assert saved.private_key_fingerprint == ""
    assert saved.certificate_id == ""
    assert subscription_health(saved).label == "Set-up not finished"


def test_a_not_ready_subscription_refuses_the_connection_test(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    with pytest.raises(ConnectionTestError) as refused:
        connection_test_run(subscription=subscription, actor=admin_user)
    assert refused.value.problem.code == SETUP_NOT_FINISHED
    assert "Generate them in its Certificate section" in refused.value.message
    assert not ConnectionTest.objects.filter(subscription=subscription).exists()
    assert netsuite_sim.stats().get("token_requests", 0) == 0


def test_a_not_ready_subscription_refuses_webhook_toggles(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    before = AuditEvent.objects.count()
    row = webhook_set_flag(
        subscription=subscription, scriptdeploymentid=245, flag="update", value=True,
        actor=admin_user,
    )
    assert row.problem.code == SETUP_NOT_FINISHED
    bulk = webhook_set_all(subscription=subscription, enabled=True, actor=admin_user)
    assert bulk.table.problem.code == SETUP_NOT_FINISHED
    assert webhook_table(subscription=subscription).problem.code == SETUP_NOT_FINISHED
    # Nothing stored, nothing on record, nothing sent.
    assert not WebhookState.objects.filter(subscription=subscription).exists()
    assert AuditEvent.objects.count() == before
    assert netsuite_sim.flags() == {} or all(
        not any(flags.values()) for flags in netsuite_sim.flags().values()
    )


def test_a_not_ready_subscription_refuses_jobs_and_polling(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    with pytest.raises(JobRefused) as refused:
        initialization_start(subscription=subscription, types=None, actor=admin_user)
    assert refused.value.problem.code == SETUP_NOT_FINISHED
    with pytest.raises(JobRefused):
        polling_start(subscription=subscription, actor=admin_user)
    with pytest.raises(InvalidInput) as invalid:
        polling_settings_set(subscription=subscription, actor=admin_user, enabled=True, minutes=60)
    assert "Set-up not finished" in invalid.value.errors["inventory_polling_enabled"]
    assert not Job.objects.filter(subscription=subscription).exists()
    subscription.refresh_from_db()
    assert subscription.inventory_polling_enabled is False


def test_the_missing_certificate_id_is_named(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    subscription.refresh_from_db()
    with pytest.raises(ConnectionTestError) as refused:
        connection_test_run(subscription=subscription, actor=admin_user)
    assert "the Certificate ID is missing" in refused.value.message
    report = setup_check_run(subscription=subscription, actor=admin_user)
    assert report.problem.code == SETUP_NOT_FINISHED


def test_the_first_pair_is_in_use_at_once_and_the_checklist_follows(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    progress = setup_progress(subscription)
    assert [s.done for s in progress.steps] == [True, False, False, False, False]
    assert not progress.ready

    cert = certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    # No "activate": the subscription had no key, so the pair is its key now.
    assert cert.status == Certificate.Status.ACTIVE
    subscription.refresh_from_db()
    assert subscription.private_key_fingerprint == cert.public_key_fingerprint
    assert setup_progress(subscription).done_count == 2
    assert AuditEvent.objects.filter(action="certificate.installed").count() == 1

    cert = certificate_service.certificate_register_in_simulator(
        certificate=cert, actor=admin_user
    )
    subscription.refresh_from_db()
    assert subscription.certificate_id == cert.certificate_id != ""
    assert setup_progress(subscription).ready

    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.outcome == ConnectionTest.Outcome.PASSED
    assert setup_progress(subscription).done_count == 4

    report = setup_check_run(subscription=subscription, actor=admin_user)
    assert report.complete
    progress = setup_progress(subscription)
    assert progress.complete and progress.done_count == progress.total == 5
    assert subscription_health(subscription).label == "Healthy"


def test_the_active_certificate_id_is_set_only_while_there_is_none(netsuite_sim, admin_user):
    subscription = bare(netsuite_sim)
    cert = certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    certificate_service.certificate_set_id(
        certificate=cert, certificate_id="ABC123", actor=admin_user
    )
    subscription.refresh_from_db()
    assert subscription.certificate_id == "ABC123"
    cert.refresh_from_db()
    with pytest.raises(certificate_service.CertificateActionError):
        certificate_service.certificate_set_id(
            certificate=cert, certificate_id="OTHER", actor=admin_user
        )
    subscription.refresh_from_db()
    assert subscription.certificate_id == "ABC123"


def test_register_in_the_simulator_creates_the_integration_a_typed_consumer_id_names(
    netsuite_sim, admin_user
):
    """The simulator has no Manage Integrations page: a Consumer ID it has never seen gets
    its integration record from the shortcut, so the first run needs nothing outside."""
    data = factories.subscription_data(
        name="Typed", consumer_id="typed-consumer-0001", account_id=ACCOUNT,
        api_url=factories.api_url(ACCOUNT), private_key="", certificate_id="",
        inventory_search_days=0, api_throttle_limit=1000, concurrent_connections=3,
    )
    subscription, _key = subscription_create(data=data, actor=SYSTEM)
    assert "typed-consumer-0001" not in netsuite_sim.sim.state.integrations
    cert = certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    certificate_service.certificate_register_in_simulator(certificate=cert, actor=admin_user)
    assert netsuite_sim.sim.state.integrations["typed-consumer-0001"].account_id == ACCOUNT
    subscription.refresh_from_db()
    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.outcome == ConnectionTest.Outcome.PASSED
