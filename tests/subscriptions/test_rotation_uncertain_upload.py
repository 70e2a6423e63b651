"""Rotate through NetSuite when the upload's answer is lost: NetSuite's list decides.

Stored and then failed (a 503, a dropped connection): the rotation finds its certificate and
completes, with one copy in NetSuite. Failed before storing: the rotation stops at the upload
and says it did not happen and can be tried again. Against the simulator over real HTTP.
"""

import pytest

from subscriptions.models import AuditEvent, Certificate, Subscription
from subscriptions.services import rotation as rotation_service

pytestmark = pytest.mark.django_db


def fingerprints_in_netsuite(netsuite_sim, subscription) -> list[str]:
    return [c["fingerprint"] for c in netsuite_sim.sim.certificates(subscription.consumer_id)]


def upload_posts(netsuite_sim) -> int:
    return sum(1 for r in netsuite_sim.sim.requests_seen()
               if r["kind"] == "certificates" and r["method"] == "POST")


@pytest.mark.parametrize("fault", [{"status": 503}, {"action": "disconnect"}])
def test_an_upload_stored_before_failing_completes_the_rotation_once(
    netsuite_sim, admin_user, ec_pair, fault
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    netsuite_sim.sim.add_fault(
        kind="certificates", method="POST", after_store=True, count=5, **fault
    )
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert rotation.passed, rotation.problem
    new = Certificate.objects.get(subscription=subscription, status="active")
    assert upload_posts(netsuite_sim) == 1
    assert sorted(fingerprints_in_netsuite(netsuite_sim, subscription)) == sorted(
        [old.fingerprint, new.fingerprint]
    )
    assert Subscription.objects.get(pk=subscription.pk).certificate_id == new.certificate_id
    assert rotation.netsuite_certificate_id == new.certificate_id


@pytest.mark.parametrize("fault", [{"status": 503}, {"action": "disconnect"}])
def test_an_upload_that_did_not_happen_says_so_and_changes_nothing(
    netsuite_sim, admin_user, ec_pair, fault
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    netsuite_sim.sim.add_fault(kind="certificates", method="POST", count=5, **fault)
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert not rotation.passed and rotation.failed_step.key == "upload"
    assert "not uploaded" in rotation.problem.message
    assert "tried again" in rotation.problem.hint
    assert upload_posts(netsuite_sim) == 1
    assert fingerprints_in_netsuite(netsuite_sim, subscription) == [old.fingerprint]
    assert Certificate.objects.get(subscription=subscription, status="active").pk == old.pk
    assert Certificate.objects.filter(subscription=subscription, status="staged").exists()
    failed = AuditEvent.objects.get(action="certificate.upload_to_netsuite_failed")
    assert failed.changes["step"] == [None, "upload"]
