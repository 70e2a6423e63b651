"""Rotate through NetSuite: generate, upload through the rotation endpoint, save the ID, test,
activate; list what NetSuite holds beside ours; revoke the previous one. All against the
simulator over real HTTP."""

import datetime as dt

import pytest
from django.urls import reverse

from netsuite import certificates as nscert
from netsuite.rotation import PERMISSION
from subscriptions.models import AuditEvent, Certificate, Subscription
from subscriptions.services import certificates as service
from subscriptions.services import rotation as rotation_service
from subscriptions.services.connection import connection_test_run
from subscriptions.services.subscriptions import subscription_update
from tests import factories
from tests.html import buttons, forms, links, parse, table_rows, urls

pytestmark = pytest.mark.django_db

ACCOUNT = "1234567"
ROTATE = {"rotate-key_type": "ec-p256", "rotate-days": "365"}


def url(name, subscription, *args):
    return reverse(f"subscriptions:{name}", args=[subscription.pk, *args])


def sim_certificates(netsuite_sim, subscription) -> dict[str, dict]:
    return {c["certificate_id"]: c for c in netsuite_sim.sim.certificates(subscription.consumer_id)}


def tokens_for(netsuite_sim, certificate_id) -> list:
    with netsuite_sim.sim.state.lock:
        return [t for t in netsuite_sim.sim.state.tokens.values()
                if t.certificate_id == certificate_id]


def certs(subscription, status):
    return list(Certificate.objects.filter(subscription=subscription, status=status))


# -- the whole rotation ----------------------------------------------------------------------


def test_rotation_through_netsuite_activates_the_new_certificate(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    netsuite_sim.sim.update_integration(subscription.consumer_id, role=1042, entity=77)
    # The active certificate was mapped before the integration's mapping changed: the new one
    # must follow the active certificate's listed role and entity, not the defaults.
    response = admin_client_.post(url("certificate_rotate", subscription), ROTATE, **htmx_headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rotated through NetSuite" in html, html
    steps = parse(response).by_id("rotation-steps").find_all("li")
    assert [s.find(class_="badge").text for s in steps] == ["done"] * 6

    after = Subscription.objects.get(pk=subscription.pk)
    new = Certificate.objects.get(subscription=subscription, status="active")
    assert new.pk != old.pk and new.key_label == "EC P-256"
    assert new.certificate_id and after.certificate_id == new.certificate_id
    assert after.private_key_fingerprint == new.public_key_fingerprint
    old.refresh_from_db()
    assert old.status == "retired" and old.retired_at is not None
    assert not certs(subscription, "staged")

    listed = sim_certificates(netsuite_sim, subscription)
    assert set(listed) == {old.certificate_id, new.certificate_id}
    assert listed[new.certificate_id]["fingerprint"] == new.fingerprint
    assert (listed[new.certificate_id]["role"], listed[new.certificate_id]["entity"]) == (
        listed[old.certificate_id]["role"], listed[old.certificate_id]["entity"]
    ) == (3, -5)
    assert not any(c["revoked"] for c in listed.values())
    # The section that came back shows the new state: the ID in use, the revoke offer.
    assert f"Certificate ID in use: {new.certificate_id}" in parse(response).text
    assert "Revoke the previous certificate in NetSuite" in parse(response).by_id(
        "previous-certificate"
    ).text

    actions = list(
        AuditEvent.objects.filter(subscription_id=subscription.pk)
        .order_by("id").values_list("action", flat=True)
    )
    rotation_events = [a for a in actions if a.startswith(("certificate.", "connection_test."))]
    assert rotation_events == [
        "certificate.staged", "certificate.uploaded_to_netsuite", "certificate.id_set",
        "connection_test.passed", "certificate.activated",
    ]
    uploaded = AuditEvent.objects.get(action="certificate.uploaded_to_netsuite")
    assert uploaded.changes["NetSuite Certificate ID"] == [None, new.certificate_id]
    assert uploaded.changes["signed in with Certificate ID"] == [None, old.certificate_id]
    assert "PRIVATE KEY" not in str(uploaded.changes)
    assert uploaded.reason == "Rotated through NetSuite"

    # A token minted with the new kid works for the subscription's own test.
    netsuite_sim.sim.revoke_tokens()
    test = connection_test_run(subscription=after, actor=admin_user)
    assert test.outcome == "passed", test.steps
    assert test.netsuite_certificate_id == new.certificate_id
    assert tokens_for(netsuite_sim, new.certificate_id)


def test_an_upload_answer_without_the_id_still_finds_it_in_the_list(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.configure(certificate_upload_answer="empty")
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert rotation.passed, rotation.problem
    new = Certificate.objects.get(subscription=subscription, status="active")
    listed = sim_certificates(netsuite_sim, subscription)
    matching = [cid for cid, c in listed.items() if c["fingerprint"] == new.fingerprint]
    assert matching == [new.certificate_id]
    assert Subscription.objects.get(pk=subscription.pk).certificate_id == new.certificate_id


def test_without_the_permission_the_manual_steps_remain_and_nothing_changed(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    netsuite_sim.sim.update_integration(subscription.consumer_id, can_manage_certificates=False)
    section = reverse("subscriptions:certificates", args=[subscription.pk])
    response = admin_client_.post(url("certificate_rotate", subscription), {**ROTATE,
                                                                            "next": section})
    assert response.status_code == 302 and response["Location"] == section
    page = admin_client_.get(section)
    text = parse(page).text
    assert PERMISSION in text
    assert "Permissions > Setup" in text
    assert "paste the Certificate ID" in text

    after = Subscription.objects.get(pk=subscription.pk)
    assert after.certificate_id == subscription.certificate_id
    assert after.private_key_fingerprint == subscription.private_key_fingerprint
    assert after.revision == subscription.revision
    assert [c.pk for c in certs(subscription, "active")] == [old.pk]
    staged = Certificate.objects.get(subscription=subscription, status="staged")
    assert staged.certificate_id == ""
    assert set(sim_certificates(netsuite_sim, subscription)) == {old.certificate_id}
    assert not AuditEvent.objects.filter(action="certificate.uploaded_to_netsuite").exists()
    failed = AuditEvent.objects.get(action="certificate.upload_to_netsuite_failed")
    assert failed.changes["HTTP status"] == [None, 403]
    # The manual steps are on the page: download the staged certificate, paste its ID.
    assert url("certificate_download", subscription, staged.pk) in links(page)
    assert url("certificate_set_id", subscription, staged.pk) in {f.action for f in forms(page)}


def test_a_failed_staged_test_leaves_the_active_certificate_in_use(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    netsuite_sim.sim.set_restlet_deployed(ACCOUNT, False)
    response = admin_client_.post(url("certificate_rotate", subscription), ROTATE, **htmx_headers)
    html = response.content.decode()
    assert "stopped at" in html and "Connection test with the new certificate" in html
    assert "Test with the staged certificate" in html  # what to do next, and its button
    steps = {s["data-step"]: s.find(class_="badge").text
             for s in parse(response).by_id("rotation-steps").find_all("li")}
    assert steps["upload"] == "done" and steps["test"] == "failed"
    assert steps["activate"] == "not run"

    after = Subscription.objects.get(pk=subscription.pk)
    assert after.certificate_id == old.certificate_id
    assert after.private_key_fingerprint == subscription.private_key_fingerprint
    old.refresh_from_db()
    assert old.status == "active"
    staged = Certificate.objects.get(subscription=subscription, status="staged")
    assert staged.certificate_id in sim_certificates(netsuite_sim, subscription)
    assert not AuditEvent.objects.filter(action="certificate.activated").exists()

    # The manual steps finish it once the cause is fixed.
    netsuite_sim.sim.set_restlet_deployed(ACCOUNT, True)
    assert connection_test_run(
        subscription=after, actor=admin_user, certificate=staged
    ).outcome == "passed"
    admin_client_.post(
        url("certificate_activate", subscription, staged.pk), {"confirmed": "1"}, **htmx_headers
    )
    staged.refresh_from_db()
    assert staged.status == "active"


def test_without_an_active_certificate_the_rotation_is_refused(netsuite_sim, admin_client_):
    subscription = netsuite_sim.subscription(certificate_row=False, certificate_id="")
    response = admin_client_.post(url("certificate_rotate", subscription), ROTATE,
                                  HTTP_HX_REQUEST="true")
    assert "has none yet" in response.content.decode()
    assert not Certificate.objects.filter(subscription=subscription).exists()


def test_an_invalid_validity_shows_the_confirmation_again(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("certificate_rotate", subscription), {**ROTATE, "rotate-days": "900"}
    )
    assert response.status_code == 400
    assert "less than or equal to 730" in response.content.decode()
    assert buttons(response)["Rotate now"]
    assert not certs(subscription, "staged")
    assert len(sim_certificates(netsuite_sim, subscription)) == 1


# -- confirmation ----------------------------------------------------------------------------


def test_the_rotation_is_confirmed_first_with_and_without_javascript(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    section = reverse("subscriptions:certificates", args=[subscription.pk])
    page = admin_client_.get(section)
    confirm = url("certificate_rotate_confirm", subscription)
    assert any(u.startswith(confirm) for u in urls(page))
    # Without JavaScript: a page of its own whose form posts the rotation and comes back.
    response = admin_client_.get(confirm, {"next": section})
    assert response.status_code == 200
    (form,) = [f for f in forms(response) if f.action == url("certificate_rotate", subscription)]
    assert form.method == "post" and form.fields["next"] == section
    assert form.buttons == ["Rotate now"]
    cancel = [a for a in parse(response).find_all("a", href=True) if a.text == "Cancel"]
    assert [a["href"] for a in cancel] == [section]
    # With HTMX: the confirmation takes the section's place; nothing happened yet.
    partial = admin_client_.get(confirm, {"next": section}, **htmx_headers)
    assert "<html" not in partial.content.decode()
    assert parse(partial).by_id("certificates").find("button").text == "Rotate now"
    assert not certs(subscription, "staged")
    # A next that leads elsewhere is not offered as the way back.
    response = admin_client_.get(confirm, {"next": "https://evil.example/"})
    assert "https://evil.example/" not in response.content.decode()


# -- revoke ----------------------------------------------------------------------------------


def test_after_activation_the_previous_certificate_can_be_revoked_in_netsuite(
    netsuite_sim, admin_client_, admin_user, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = Certificate.objects.get(subscription=subscription, status="active")
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert rotation.passed, rotation.problem
    section = reverse("subscriptions:certificates", args=[subscription.pk])
    page = admin_client_.get(section)
    offer = parse(page).by_id("previous-certificate")
    link = offer.find("a")
    assert link.text == "Revoke the previous certificate in NetSuite"
    confirm = admin_client_.get(link["href"])
    (form,) = [f for f in forms(confirm)
               if f.action == url("certificate_revoke_in_netsuite", subscription)]
    assert form.fields["certificate_id"] == old.certificate_id
    assert not sim_certificates(netsuite_sim, subscription)[old.certificate_id]["revoked"]

    response = admin_client_.post(form.action, form.fields, **htmx_headers)
    assert "NetSuite revoked the certificate" in response.content.decode()
    listed = sim_certificates(netsuite_sim, subscription)
    assert listed[old.certificate_id]["revoked"] is True
    new_id = Subscription.objects.get(pk=subscription.pk).certificate_id
    assert listed[new_id]["revoked"] is False
    event = AuditEvent.objects.get(action="certificate.revoked_in_netsuite")
    assert event.changes["NetSuite Certificate ID"] == [None, old.certificate_id]
    assert event.target_type == "certificate" and event.target_id == str(old.pk)
    # The offer is gone; the subscription still signs in with the new certificate.
    assert "previous-certificate" not in {e.get("id") for e in parse(
        admin_client_.get(section)).iter()}
    netsuite_sim.sim.revoke_tokens()
    assert connection_test_run(subscription=subscription, actor=admin_user).outcome == "passed"


def test_revoking_the_active_certificate_is_refused(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    active_id = subscription.certificate_id
    confirm = admin_client_.get(
        url("certificate_revoke_confirm", subscription), {"certificate_id": active_id}
    )
    assert "This is the active certificate" in confirm.content.decode()
    assert url("certificate_revoke_in_netsuite", subscription) not in {
        f.action for f in forms(confirm)
    }
    response = admin_client_.post(
        url("certificate_revoke_in_netsuite", subscription), {"certificate_id": active_id},
        **htmx_headers,
    )
    assert "would stop the integration" in response.content.decode()
    assert sim_certificates(netsuite_sim, subscription)[active_id]["revoked"] is False
    assert not AuditEvent.objects.filter(action__startswith="certificate.revoke").exists()


def test_netsuite_refusing_a_revoke_is_shown_and_recorded(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("certificate_revoke_in_netsuite", subscription), {"certificate_id": "no-such-id"},
        **htmx_headers,
    )
    html = response.content.decode()
    assert "NetSuite did not revoke the certificate no-such-id" in html
    assert "NONEXISTENT_ID" in html
    event = AuditEvent.objects.get(action="certificate.revoke_failed")
    assert event.changes["HTTP status"] == [None, 404]


# -- what NetSuite holds, beside ours --------------------------------------------------------


def test_the_netsuite_listing_marks_the_drift(
    netsuite_sim, admin_client_, support_client, admin_user, ec_pair, htmx_headers
):
    # The key in use was typed into the form (no row); an older row is still "active" here
    # although NetSuite revoked it; NetSuite holds two certificates nobody recorded here, one
    # of them expiring; the staged one has a Certificate ID NetSuite does not know.
    subscription = netsuite_sim.subscription(pair=ec_pair, certificate_row=False)
    in_use = subscription.certificate_id
    _key_a, pem_a = nscert.generate_key_and_certificate("ec-p256")
    revoked_id = netsuite_sim.register(subscription.consumer_id, pem_a)
    netsuite_sim.sim.revoke_certificate(revoked_id)
    factories.active_certificate(subscription, pem_a, revoked_id)
    _key_c, pem_c = nscert.generate_key_and_certificate("ec-p256", days=400)
    unknown_id = netsuite_sim.register(subscription.consumer_id, pem_c)
    _key_d, pem_d = nscert.generate_key_and_certificate("ec-p256", days=10)
    expiring_id = netsuite_sim.register(subscription.consumer_id, pem_d)
    staged = service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    service.certificate_set_id(certificate=staged, certificate_id="typo-id", actor=admin_user)

    # Not asked on a page view: only on request.
    netsuite_sim.sim.reset_stats()
    admin_client_.get(reverse("subscriptions:certificates", args=[subscription.pk]))
    assert netsuite_sim.stats()["token_requests"] == 0

    response = admin_client_.get(url("certificate_netsuite_list", subscription), **htmx_headers)
    assert response.status_code == 200
    rows = {r["data-certificate-id"]: r for r in parse(response).find_all("tr")
            if r.get("data-certificate-id")}
    assert set(rows) == {in_use, revoked_id, unknown_id, expiring_id, "typo-id"}

    def marks(cid):
        # The drift is the Differences column's (a "revoked" badge sits among NetSuite's facts).
        differences = rows[cid].find("td", data_label="Differences")
        return [b.text for b in differences.find_all(class_="badge")]

    assert marks(in_use) == []
    assert marks(revoked_id) == [
        "Revoked in NetSuite but active here: rotate now, the subscription cannot sign in with it"
    ]
    assert marks(unknown_id) == ["Not known here: not uploaded or recorded through this dashboard"]
    assert "Expires in 9 days" in marks(expiring_id)
    assert marks("typo-id") == ["Not in NetSuite: our staged is not in NetSuite's list"]
    # Role and entity names as NetSuite lists them.
    # (the algorithm beside them in one cell, so the table fits 1,280 px).
    cells = [c.text for c in rows[unknown_id].find_all("td")]
    assert "EC · Administrator / Entity -5" in cells

    # Revoke links for what may be revoked: not the one in use, not a revoked one.
    revoke = url("certificate_revoke_confirm", subscription)
    offered = {u for u in urls(response) if u.startswith(revoke)}
    assert len(offered) == 2
    assert all(unknown_id in u or expiring_id in u for u in offered)
    # Support may look (nothing secret), but gets no revoke control.
    support = support_client.get(url("certificate_netsuite_list", subscription), **htmx_headers)
    assert support.status_code == 200
    assert len(table_rows(support, "netsuite-certificates")) == 5
    assert not any(u.startswith(revoke) for u in urls(support))


def test_a_listing_netsuite_refuses_shows_ours_with_the_problem(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.update_integration(subscription.consumer_id, can_manage_certificates=False)
    response = admin_client_.get(url("certificate_netsuite_list", subscription))
    assert response.status_code == 200
    section = parse(response).by_id("netsuite-certificates")
    assert PERMISSION in section.text
    rows = table_rows(response, "netsuite-certificates")
    assert len(rows) == 1 and "not read from NetSuite" in rows[0]
    assert subscription.certificate_id[:20] in section.text


# -- permissions -----------------------------------------------------------------------------


def test_support_and_auditors_cannot_rotate_or_revoke(
    netsuite_sim, admin_user, support_client, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    previous = Certificate.objects.get(subscription=subscription, status="retired")
    before = sim_certificates(netsuite_sim, subscription)
    events = AuditEvent.objects.count()
    section = reverse("subscriptions:certificates", args=[subscription.pk])
    controls = (
        url("certificate_rotate_confirm", subscription),
        url("certificate_rotate", subscription),
        url("certificate_revoke_confirm", subscription),
        url("certificate_revoke_in_netsuite", subscription),
    )
    for client in (support_client, auditor_client):
        page = client.get(section)
        offered = urls(page)
        assert not any(u.startswith(controls) for u in offered), offered
        assert "previous-certificate" not in page.content.decode()
        assert client.get(controls[0]).status_code == 403
        assert client.post(controls[1], ROTATE).status_code == 403
        assert client.get(
            controls[2], {"certificate_id": previous.certificate_id}
        ).status_code == 403
        assert client.post(
            controls[3], {"certificate_id": previous.certificate_id}
        ).status_code == 403
        # The method is checked first: a wrong one is a 405 for everybody.
        assert client.get(controls[1]).status_code == 405
    assert sim_certificates(netsuite_sim, subscription) == before
    assert AuditEvent.objects.count() == events
    assert len(certs(subscription, "active")) == 1 and not certs(subscription, "staged")


def test_the_key_typed_into_the_form_is_the_one_rotated_from(
    netsuite_sim, admin_user, ec_pair
):
    """The active credentials sign the upload, whatever Certificate row is marked active."""
    subscription = netsuite_sim.subscription(pair=ec_pair)
    key_b, pem_b = nscert.generate_key_and_certificate("ec-p256")
    id_b = netsuite_sim.register(subscription.consumer_id, pem_b)
    subscription_update(
        subscription=subscription,
        data={"private_key": key_b, "certificate_id": id_b},
        expected_revision=subscription.revision,
        actor=admin_user,
    )
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert rotation.passed, rotation.problem
    uploaded = AuditEvent.objects.get(action="certificate.uploaded_to_netsuite")
    assert uploaded.changes["signed in with Certificate ID"] == [None, id_b]
    assert dt.datetime.now(dt.UTC) < Certificate.objects.get(
        subscription=subscription, status="active"
    ).not_after


def test_netsuite_refusing_the_upload_keeps_the_staged_certificate_for_the_manual_steps(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    for _ in range(4):  # five active certificates: NetSuite's limit
        netsuite_sim.register(
            subscription.consumer_id, nscert.generate_key_and_certificate("ec-p256")[1]
        )
    before = sim_certificates(netsuite_sim, subscription)
    rotation = rotation_service.certificate_rotate_through_netsuite(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    assert not rotation.passed
    assert rotation.failed_step.key == "upload"
    assert "five active certificates" in rotation.problem.message
    assert "revoke" in rotation.problem.hint and "Download the staged certificate" in (
        rotation.problem.hint
    )
    assert sim_certificates(netsuite_sim, subscription) == before
    staged = Certificate.objects.get(subscription=subscription, status="staged")
    assert staged.certificate_id == ""
    assert Subscription.objects.get(pk=subscription.pk).certificate_id == (
        subscription.certificate_id
    )
    assert AuditEvent.objects.filter(action="certificate.upload_to_netsuite_failed").exists()
