"""Certificates: generate, download, upload, stage, test, activate without downtime, expiry."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from netsuite import certificates as nscert
from subscriptions.models import AuditEvent, Certificate, Subscription
from subscriptions.services import certificates as service
from subscriptions.services.connection import connection_test_run
from tests.html import badges, buttons, ids, parse

pytestmark = pytest.mark.django_db
# What the confirmation step of Activate and Discard posts.
CONFIRMED = {"confirmed": "1"}


def url(name, subscription, *args):
    return reverse(f"subscriptions:{name}", args=[subscription.pk, *args])


def staged(subscription):
    return Certificate.objects.get(subscription=subscription, status="staged")


def test_generate_stages_an_rsa_3072_certificate_by_default(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("certificate_generate", subscription), {"key_type": "rsa3072", "days": "365"}
    )
    assert response.status_code == 302
    cert = staged(subscription)
    assert cert.key_label == "RSA 3072"
    assert cert.not_after - cert.not_before == dt.timedelta(days=365)
    assert cert.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    # The active pair is untouched until activation.
    before = Subscription.objects.get(pk=subscription.pk)
    assert before.private_key_fingerprint == subscription.private_key_fingerprint
    assert before.revision == subscription.revision
    event = AuditEvent.objects.get(action="certificate.staged")
    assert event.changes["key"] == [None, "RSA 3072"]
    assert "PRIVATE KEY" not in str(event.changes)


def test_ec_p256_and_the_validity_are_choices_within_limits(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("certificate_generate", subscription), {"key_type": "ec-p256", "days": "731"},
        **htmx_headers,
    )
    assert response.status_code == 200
    assert "less than or equal to 730" in response.content.decode()
    assert not Certificate.objects.filter(status="staged").exists()
    response = admin_client_.post(
        url("certificate_generate", subscription), {"key_type": "ec-p256", "days": "730"},
        **htmx_headers,
    )
    assert "A new EC P-256 certificate is staged" in response.content.decode()
    assert staged(subscription).key_label == "EC P-256"
    response = admin_client_.post(
        url("certificate_generate", subscription), {"key_type": "dsa", "days": "30"}
    )
    assert response.status_code == 400


def test_download_gives_the_pem_and_the_page_prints_the_netsuite_steps(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    cert = staged(subscription)
    response = admin_client_.get(url("certificate_download", subscription, cert.pk))
    assert response["Content-Type"] == "application/x-pem-file"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in body
    page = admin_client_.get(url("certificates", subscription)).content.decode()
    assert "OAuth 2.0 Client Credentials Setup" in page
    assert "Download certificate" in page


def test_rotation_stage_register_paste_test_activate(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old_active = Certificate.objects.get(subscription=subscription, status="active")
    service.certificate_generate(subscription=subscription, actor=admin_user, key_type="ec-p256")
    cert = staged(subscription)

    # Activation is refused before a Certificate ID and a passed test.
    activate = url("certificate_activate", subscription, cert.pk)
    assert buttons(admin_client_.get(url("certificates", subscription)))["Activate"].has(
        "disabled"
    )
    response = admin_client_.post(activate, CONFIRMED, **htmx_headers)
    assert "Paste the Certificate ID" in response.content.decode()
    assert staged(subscription).pk == cert.pk

    certificate_id = netsuite_sim.register(subscription.consumer_id, cert.certificate_pem)
    response = admin_client_.post(
        url("certificate_set_id", subscription, cert.pk),
        {"certificate_id": f"  {certificate_id} "},
        **htmx_headers,
    )
    assert "Certificate ID saved" in response.content.decode()
    response = admin_client_.post(activate, CONFIRMED, **htmx_headers)
    assert "must pass" in response.content.decode()

    # The staged test signs with the staged pair while the active one keeps working.
    test = connection_test_run(
        subscription=subscription, actor=admin_user, certificate=staged(subscription)
    )
    assert test.outcome == "passed", test.steps
    assert test.netsuite_certificate_id == certificate_id
    assert not buttons(admin_client_.get(url("certificates", subscription)))["Activate"].has(
        "disabled"
    )

    response = admin_client_.post(activate, CONFIRMED, **htmx_headers)
    assert "is now active" in response.content.decode()
    subscription_after = Subscription.objects.get(pk=subscription.pk)
    assert subscription_after.certificate_id == certificate_id
    assert subscription_after.private_key_fingerprint == cert.public_key_fingerprint
    assert subscription_after.revision == subscription.revision + 1
    assert nscert.describe_key(
        nscert.load_private_key(subscription_after.private_key)
    ).fingerprint == cert.public_key_fingerprint
    cert.refresh_from_db()
    old_active.refresh_from_db()
    assert cert.status == "active" and cert.private_key == ""
    assert old_active.status == "retired" and old_active.retired_at is not None
    assert old_active.fingerprint  # kept for the audit
    event = AuditEvent.objects.get(action="certificate.activated")
    assert event.changes["certificate"] == [old_active.fingerprint, cert.fingerprint]
    assert event.changes["private_key"][1].startswith("***CHANGED***")
    # The new pair works for the subscription's own test.
    assert connection_test_run(subscription=subscription_after, actor=admin_user).outcome == (
        "passed"
    )


def test_a_new_certificate_id_needs_a_new_passing_test(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    certificate_id = netsuite_sim.register(subscription.consumer_id, cert.certificate_pem)
    cert = service.certificate_set_id(certificate=cert, certificate_id=certificate_id, actor=None)
    connection_test_run(subscription=subscription, actor=admin_user, certificate=cert)
    cert = service.certificate_set_id(certificate=cert, certificate_id="another-id", actor=None)
    with pytest.raises(service.CertificateActionError, match="must pass"):
        service.certificate_activate(certificate=cert, actor=admin_user)


def test_a_failing_staged_test_keeps_the_active_pair(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    cert = service.certificate_set_id(certificate=cert, certificate_id="typo-id", actor=None)
    test = connection_test_run(subscription=subscription, actor=admin_user, certificate=cert)
    assert test.outcome == "failed"
    with pytest.raises(service.CertificateActionError):
        service.certificate_activate(certificate=cert, actor=admin_user)
    assert connection_test_run(subscription=subscription, actor=admin_user).outcome == "passed"


def test_upload_refuses_a_key_that_does_not_match_the_certificate(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    other_key, other_cert = nscert.generate_key_and_certificate("ec-p256")
    response = admin_client_.post(
        url("certificate_upload", subscription),
        {
            "private_key_file": SimpleUploadedFile("key.pem", ec_pair[0].encode()),
            "certificate_file": SimpleUploadedFile("cert.pem", other_cert.encode()),
        },
        **htmx_headers,
    )
    html = response.content.decode()
    assert "does not belong to this certificate" in html
    # The message's id is the one the control's aria-describedby names.
    assert "does not belong to this certificate" in parse(response).by_id(
        "id_certificate_file_error"
    ).text
    described_by = parse(response).find("input", name="certificate_file")["aria-describedby"]
    assert described_by.split() == ["id_certificate_file_helptext", "id_certificate_file_error"]
    assert set(described_by.split()) <= ids(response)
    assert not Certificate.objects.filter(status="staged").exists()
    assert ec_pair[0].splitlines()[1] not in html


def test_upload_refuses_a_certificate_where_the_key_belongs(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("certificate_upload", subscription),
        {
            "private_key_file": SimpleUploadedFile("key.pem", ec_pair[1].encode()),
            "certificate_file": SimpleUploadedFile("cert.pem", ec_pair[1].encode()),
        },
    )
    assert response.status_code == 400
    assert "This is a certificate, not the private key" in response.content.decode()


def test_upload_stages_a_matching_pair(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
    response = admin_client_.post(
        url("certificate_upload", subscription),
        {
            "private_key_file": SimpleUploadedFile("key.pem", key_pem.encode()),
            "certificate_file": SimpleUploadedFile("cert.pem", cert_pem.encode()),
        },
    )
    assert response.status_code == 302
    cert = staged(subscription)
    assert cert.source == "uploaded"
    assert cert.certificate_pem.strip() == cert_pem.strip()


def test_a_second_generation_retires_the_first_staged_certificate(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    first = service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    second = service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    first.refresh_from_db()
    assert first.status == "retired" and first.private_key == ""
    assert staged(subscription).pk == second.pk


def test_discard_wipes_the_staged_key(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    admin_client_.post(url("certificate_discard", subscription, cert.pk), CONFIRMED)
    cert.refresh_from_db()
    assert cert.status == "retired" and cert.private_key == ""
    assert AuditEvent.objects.filter(action="certificate.discarded").count() == 1


def test_expiry_shows_days_left_and_warns_from_30_days(netsuite_sim, admin_client_):
    pair = nscert.generate_key_and_certificate("ec-p256", days=25)
    subscription = netsuite_sim.subscription(pair=pair)
    shown = badges(admin_client_.get(url("certificates", subscription)))
    assert any(kind == "warn" and "days left, renew it" in text for kind, text in shown), shown
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    expired = nscert.generate_key_and_certificate("ec-p256", days=5, not_before=past)
    old = netsuite_sim.subscription("Old", pair=expired)
    shown = badges(admin_client_.get(url("certificates", old)))
    assert any(kind == "bad" and text.startswith("expired") for kind, text in shown), shown


def test_support_and_auditors_see_the_certificate_but_no_buttons(
    netsuite_sim, support_client, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    for client in (support_client, auditor_client):
        html = client.get(url("certificates", subscription)).content.decode()
        assert "Certificate SHA-256" in html
        assert "Generate certificate" not in html and "Activate" not in html
        assert "Download certificate" not in html
        assert subscription.private_key_fingerprint not in html


def test_in_simulator_mode_the_staged_certificate_can_be_registered_from_the_page(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    response = admin_client_.post(
        url("certificate_register_in_simulator", subscription, cert.pk), **htmx_headers
    )
    assert "Registered in the simulator" in response.content.decode()
    cert.refresh_from_db()
    assert cert.certificate_id
    # The field shows the ID it saved, not an empty box under "Saved".
    field = parse(response.content.decode()).find("input", name="certificate_id")
    assert field["value"] == cert.certificate_id
    test = connection_test_run(subscription=subscription, actor=admin_user, certificate=cert)
    assert test.outcome == "passed"
    event = AuditEvent.objects.get(action="certificate.id_set")
    assert event.reason == "Registered in the simulator"


def test_outside_simulator_mode_there_is_no_registration(
    netsuite_sim, admin_client_, ec_pair, settings
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    # A base URL without simulator mode is a proxy in front of NetSuite: no such endpoint.
    settings.NETSUITE_SIMULATOR = False
    assert "Register in the simulator" not in admin_client_.get(
        url("certificates", subscription)
    ).content.decode()
    response = admin_client_.post(
        url("certificate_register_in_simulator", subscription, cert.pk), HTTP_HX_REQUEST="true"
    )
    assert "Only in simulator mode" in response.content.decode()
    cert.refresh_from_db()
    assert cert.certificate_id == ""


def test_a_refused_certificate_id_is_named_unsaved_and_the_staged_test_waits_for_a_good_one(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    certificate_id = netsuite_sim.register(subscription.consumer_id, cert.certificate_pem)
    service.certificate_set_id(certificate=cert, certificate_id=certificate_id, actor=None)
    page = admin_client_.get(url("certificates", subscription)).content.decode()
    assert "Test with the staged certificate" in page
    field = parse(page).find("input", name="certificate_id")
    assert field["value"] == certificate_id

    response = admin_client_.post(
        url("certificate_set_id", subscription, cert.pk),
        {"certificate_id": "copied badly"},
        **htmx_headers,
    )
    html = response.content.decode()
    assert "A Certificate ID has no spaces" in html
    assert f"keeps the ID <code>{certificate_id}</code>" in html
    # No button that would silently test the previous ID beside the refused one.
    assert "Test with the staged certificate" not in html
    assert parse(html).find("input", name="certificate_id")["value"] == "copied badly"
    cert.refresh_from_db()
    assert cert.certificate_id == certificate_id


@pytest.mark.parametrize("action", ["certificate_activate", "certificate_discard"])
def test_activate_and_discard_ask_first_and_change_nothing_until_confirmed(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers, action
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    certificate_id = netsuite_sim.register(subscription.consumer_id, cert.certificate_pem)
    cert = service.certificate_set_id(certificate=cert, certificate_id=certificate_id, actor=None)
    assert connection_test_run(
        subscription=subscription, actor=admin_user, certificate=cert
    ).outcome == "passed"
    before = (Subscription.objects.get(pk=subscription.pk).revision, AuditEvent.objects.count())

    for headers in (htmx_headers, {}):
        response = admin_client_.post(url(action, subscription, cert.pk), **headers)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Nothing has changed yet" in html
        assert certificate_id in html
        (form,) = [f for f in parse(html).find_all("form") if f.find("input", name="confirmed")]
        assert form["action"] == url(action, subscription, cert.pk)
        cert.refresh_from_db()
        assert cert.status == "staged"
        assert (
            Subscription.objects.get(pk=subscription.pk).revision,
            AuditEvent.objects.count(),
        ) == before

    response = admin_client_.post(url(action, subscription, cert.pk), CONFIRMED, **htmx_headers)
    cert.refresh_from_db()
    if action == "certificate_activate":
        assert "is now active" in response.content.decode()
        assert cert.status == "active"
        assert Subscription.objects.get(pk=subscription.pk).certificate_id == certificate_id
    else:
        assert "was discarded" in response.content.decode()
        assert cert.status == "retired"
