"""Two subscriptions of one NetSuite integration on this dashboard: "Use this dashboard" names
the one whose events the entry sends now, and a certificate another subscription signs in
with is never revoked from here (refused by the service, not offered by the page). Against
the simulator over real HTTP. (The browser's half: tests/e2e/test_shared_integrations.py.)"""

import pytest
from django.urls import reverse

from netsuite import certificates as nscert
from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, Certificate
from subscriptions.services import rotation as rotation_service
from subscriptions.services.auth_details import auth_details_use_dashboard
from subscriptions.services.certificates import CertificateActionError
from tests import factories
from tests.html import forms, parse, urls

pytestmark = pytest.mark.django_db

ACCOUNT = "1234567"
RECORD = "customrecord_otg_ipaas_auth_details"


def url(name, subscription, *args):
    return reverse(f"subscriptions:{name}", args=[subscription.pk, *args])


def sharing(netsuite_sim, acme, name="Beta", account=ACCOUNT):
    """A second subscription of Acme's integration record, signing in with a certificate of
    its own that NetSuite lists for that integration."""
    key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
    certificate_id = netsuite_sim.register(acme.consumer_id, cert_pem)
    other, _key = factories.make_subscription(
        SYSTEM,
        name=name,
        inventory_search_days=0,
        consumer_id=acme.consumer_id,
        account_id=account,
        certificate_id=certificate_id,
        api_url=factories.api_url(ACCOUNT),
        api_throttle_limit=1000,
        concurrent_connections=3,
        private_key=key_pem,
    )
    factories.active_certificate(other, cert_pem, certificate_id)
    return other


def revoked(netsuite_sim, acme, certificate_id) -> bool:
    listed = {c["certificate_id"]: c for c in netsuite_sim.sim.certificates(acme.consumer_id)}
    return listed[certificate_id]["revoked"]


# -- certificates ---------------------------------------------------------------------------


def test_the_service_refuses_to_revoke_another_subscriptions_active_certificate(
    netsuite_sim, admin_user, ec_pair
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    beta = sharing(netsuite_sim, acme)
    with pytest.raises(CertificateActionError) as refused:
        rotation_service.certificate_revoke_in_netsuite(
            subscription=acme, certificate_id=beta.certificate_id, actor=admin_user
        )
    assert refused.value.message == (
        "“Beta” on this dashboard signs in with this certificate, so revoking it would stop "
        "its integration. Rotate “Beta” to a new certificate first, then revoke this one."
    )
    assert refused.value.field == "certificate_id"
    assert revoked(netsuite_sim, acme, beta.certificate_id) is False
    assert not AuditEvent.objects.filter(action__startswith="certificate.revoke").exists()


def test_the_listing_names_who_holds_each_certificate_and_offers_no_revoke_for_beta(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    beta = sharing(netsuite_sim, acme)
    # Gamma (same account) kept an old certificate of the integration as retired.
    gamma = sharing(netsuite_sim, acme, name="Gamma")
    _key, old_pem = nscert.generate_key_and_certificate("ec-p256")
    retired_id = netsuite_sim.register(acme.consumer_id, old_pem)
    Certificate.objects.filter(subscription=gamma).update(
        certificate_id=retired_id, status=Certificate.Status.RETIRED
    )
    _key, stray_pem = nscert.generate_key_and_certificate("ec-p256")
    stray_id = netsuite_sim.register(acme.consumer_id, stray_pem)
    # The same Certificate ID in another NetSuite account is another certificate.
    factories.make_subscription(
        SYSTEM, name="Elsewhere", account_id="7654321", certificate_id=stray_id,
        api_url=factories.api_url("7654321"),
    )

    table = rotation_service.certificate_netsuite_table(subscription=acme)
    rows = {row.certificate_id: row for row in table.rows}
    assert [u.subscription_name for u in rows[beta.certificate_id].signing_elsewhere] == ["Beta"]
    assert rows[beta.certificate_id].revocable is False
    assert rows[beta.certificate_id].marks == [], "another subscription's, not drift"
    assert [(u.subscription_name, u.status) for u in rows[retired_id].elsewhere] == [
        ("Gamma", "retired")
    ]
    assert rows[retired_id].revocable is True
    assert rows[stray_id].elsewhere == [] and rows[stray_id].revocable is True

    response = admin_client_.get(url("certificate_netsuite_list", acme), **htmx_headers)
    html = {r["data-certificate-id"]: r for r in parse(response).find_all("tr")
            if r.get("data-certificate-id")}

    def here(cid):
        return html[cid].find("td", data_label="Here").text

    assert here(beta.certificate_id) == "Used by “Beta” on this dashboard, which signs in with it"
    assert here(retired_id) == "Used by “Gamma” on this dashboard (its retired certificate)"
    assert here(stray_id) == "Not used by any subscription on this dashboard"
    assert "Not revoked from here: “Beta” signs in with it." in html[beta.certificate_id].text
    revoke = url("certificate_revoke_confirm", acme)
    offered = {u for u in urls(response) if u.startswith(revoke)}
    assert not any(beta.certificate_id in u for u in offered)
    assert any(retired_id in u for u in offered) and any(stray_id in u for u in offered)


def test_the_revoke_step_for_beta_certificate_says_why_and_has_no_revoke_button(
    netsuite_sim, admin_client_, ec_pair
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    beta = sharing(netsuite_sim, acme)
    confirm = admin_client_.get(
        url("certificate_revoke_confirm", acme), {"certificate_id": beta.certificate_id}
    )
    assert confirm.status_code == 200
    alert = parse(confirm).find(role="alert")
    assert alert.text.startswith("Another subscription signs in with this certificate.")
    assert "“Beta”" in alert.text
    assert url("certificate_revoke_in_netsuite", acme) not in {f.action for f in forms(confirm)}
    # Posted anyway (an old page, a crafted request): refused with Beta's name, nothing sent.
    response = admin_client_.post(
        url("certificate_revoke_in_netsuite", acme), {"certificate_id": beta.certificate_id},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "“Beta” on this dashboard signs in with this certificate" in (
        response.content.decode()
    )
    assert revoked(netsuite_sim, acme, beta.certificate_id) is False


def test_an_unknown_certificate_step_says_no_subscription_uses_it(
    netsuite_sim, admin_client_, ec_pair
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    _key, pem = nscert.generate_key_and_certificate("ec-p256")
    stray_id = netsuite_sim.register(acme.consumer_id, pem)
    confirm = admin_client_.get(
        url("certificate_revoke_confirm", acme), {"certificate_id": stray_id}
    )
    assert "not used by any subscription on this dashboard" in parse(confirm).by_id(
        "certificates"
    ).text
    (form,) = [f for f in forms(confirm) if f.action == url("certificate_revoke_in_netsuite", acme)]
    admin_client_.post(form.action, form.fields)
    assert revoked(netsuite_sim, acme, stray_id) is True


# -- Auth Details: "Use this dashboard" ------------------------------------------------------


def use_dashboard_form(client, subscription, entry_id):
    page = client.get(url("auth_details", subscription))
    (form,) = [f for f in forms(page)
               if f.action == url("auth_details_use_dashboard", subscription, entry_id)]
    return form


def test_use_this_dashboard_names_the_subscription_that_will_stop_receiving_events(
    netsuite_sim, admin_client_, ec_pair
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    beta = sharing(netsuite_sim, acme)
    beta_url = f"http://testserver/hooks/netsuite/{beta.pk}/"
    auth_details_use_dashboard(
        subscription=beta, entry_id="2", inbound_url=beta_url, allow_http=True, actor=SYSTEM
    )
    form = use_dashboard_form(admin_client_, acme, 2)
    assert form.fields["shown_webhook_url"] == beta_url

    netsuite_sim.sim.reset_stats()
    step = admin_client_.post(form.action, form.fields, HTTP_HX_REQUEST="true")
    assert step.status_code == 200
    assert step.context["receiving"] == "Beta"
    note = parse(step).find(role="note")
    assert note.text.startswith("“Beta” receives this entry's events now.")
    assert "“Beta” stops receiving events" in note.text
    assert netsuite_sim.stats()["requests"] == 0, "nothing sent before the confirmation"

    (confirmed,) = [f for f in forms(step) if f.fields.get("confirmed") == "1"]
    admin_client_.post(confirmed.action, confirmed.fields, HTTP_HX_REQUEST="true")
    assert netsuite_sim.record(RECORD, "2")["custrecord_otg_ipaas_webhook"] == (
        f"http://testserver/hooks/netsuite/{acme.pk}/"
    )
    # Now Acme's own: asking again names nobody.
    again = admin_client_.post(
        form.action, use_dashboard_form(admin_client_, acme, 2).fields, HTTP_HX_REQUEST="true"
    )
    assert again.context["receiving"] == ""
    assert parse(again).find(role="note") is None


@pytest.mark.parametrize(
    "shown",
    [
        "https://api.ipaas.com/hookapi/v2/iPaaS1",  # iPaaS.com itself
        "http://other-dashboard.example/hooks/netsuite/{beta}/",  # another dashboard's host
        "http://testserver/hooks/netsuite/999999/",  # no such subscription here
        "",
    ],
)
def test_an_entry_not_pointing_at_another_subscription_here_names_nobody(
    netsuite_sim, admin_client_, ec_pair, shown
):
    acme = netsuite_sim.subscription(pair=ec_pair)
    beta = sharing(netsuite_sim, acme)
    step = admin_client_.post(
        url("auth_details_use_dashboard", acme, 2),
        {"name": "Sandbox", "token_set": "1", "shown_tracking_guid": "",
         "shown_webhook_url": shown.format(beta=beta.pk)},
    )
    assert step.status_code == 200
    assert step.context["receiving"] == ""
