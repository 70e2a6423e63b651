"""The NetSuite actions of a subscription: connection test, certificates, webhooks, iPaaS Auth
Details and governance.

Thin views: parse, authorise, call a service, render. Each action answers an HTMX request with
the partial it changed (``"template.html#partial"``) and a plain form post with a redirect back
and a message, so every action works without JavaScript too. A NetSuite failure is never a
500: the services turn it into ``error_info`` dicts that the templates show with NetSuite's
code, detail and hint.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from netsuite.restlet import MODULE_LABELS

from .. import selectors_netsuite as selectors
from ..forms_netsuite import (
    AuthDetailsForm,
    CertificateIdForm,
    GenerateCertificateForm,
    GovernanceApplyForm,
    UploadCertificateForm,
)
from ..models import Subscription
from ..models_netsuite import Certificate, ConnectionTest
from ..netsuite_glue import error_text
from ..permissions import P, require
from ..services import auth_details as auth_details_service
from ..services import certificates as certificate_service
from ..services import connection as connection_service
from ..services import governance as governance_service
from ..services import webhooks as webhook_service
from ..services.subscriptions import ConflictError

CERTIFICATE_STEPS_TEMPLATE = "subscriptions/actions/certificates.html"
CONNECTION_TEMPLATE = "subscriptions/actions/connection.html"
WEBHOOKS_TEMPLATE = "subscriptions/actions/webhooks.html"
AUTH_DETAILS_TEMPLATE = "subscriptions/actions/auth_details.html"
GOVERNANCE_TEMPLATE = "subscriptions/actions/governance.html"

TEST_FINISHED_EVENT = "netsuite-test-finished"
ACTIVATED_EVENT = "netsuite-certificate-activated"


# -- helpers ---------------------------------------------------------------------------------


def _subscription(pk) -> Subscription:
    # Pages never need the secrets themselves; services read them when they call NetSuite.
    return get_object_or_404(
        Subscription.objects.defer("private_key", "webhook_api_key"), pk=pk
    )


def _htmx(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _back(request, subscription):
    """Where a plain form post returns: the page it came from, if it is ours, else detail."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("subscriptions:detail", pk=subscription.pk)


def _notice_ok(message: str) -> dict:
    return {"level": "success", "message": message}


def _notice_error(info: dict) -> dict:
    return {"level": "error", **info}


def _notice_refused(message: str) -> dict:
    return {"level": "error", "message": message, "code": "", "detail": "", "hint": ""}


def _flash(request, notice: dict | None) -> None:
    if not notice:
        return
    if notice["level"] == "success":
        messages.success(request, notice["message"])
    elif notice.get("code") or notice.get("hint") or notice.get("detail"):
        messages.error(request, error_text(notice))
    else:
        messages.error(request, notice["message"])


def _has(request, codename: str) -> bool:
    return request.user.has_perm(P + codename)


def panel_context(request, subscription: Subscription) -> dict:
    """Everything the NetSuite panel on the subscription page shows (local data only)."""
    return {
        "subscription": subscription,
        "test": selectors.latest_own_test(subscription),
        "overview": selectors.certificate_overview(subscription),
        "generate_form": GenerateCertificateForm(),
        "upload_form": UploadCertificateForm(),
        "id_form": CertificateIdForm(),
        "return_to": request.get_full_path(),
        "simulator": bool(settings.NETSUITE_BASE_URL),
    }


# -- connection test -------------------------------------------------------------------------


def _staged_from_post(request, subscription) -> Certificate | None:
    raw = request.POST.get("certificate")
    if not raw:
        return None
    if not _has(request, "manage_certificates"):
        raise PermissionDenied
    try:
        return Certificate.objects.defer("private_key").get(
            pk=int(raw), subscription=subscription
        )
    except (ValueError, Certificate.DoesNotExist):
        raise Http404("No such certificate on this subscription.") from None


def _test_summary(test: ConnectionTest) -> dict:
    if test.outcome == ConnectionTest.Outcome.PASSED:
        what = "with the staged certificate " if test.is_staged else ""
        return _notice_ok(
            f"Connection test {what}passed: {len(test.steps)} steps in {test.duration_ms} ms."
        )
    failed = test.failed_step or {"label": "?", "error": None}
    info = failed.get("error") or {"message": "failed", "code": "", "detail": "", "hint": ""}
    return _notice_error(
        {**info, "message": f"Connection test failed at “{failed['label']}”: {info['message']}"}
    )


def _render_test(request, test: ConnectionTest):
    context = {"test": test}
    if test.outcome == ConnectionTest.Outcome.RUNNING and len(test.steps) < len(
        connection_service.STEPS
    ):
        context["next_label"] = connection_service.STEPS[len(test.steps)][1]
    response = render(request, f"{CONNECTION_TEMPLATE}#test", context)
    if test.outcome != ConnectionTest.Outcome.RUNNING:
        trigger_client_event(response, TEST_FINISHED_EVENT, {"staged": test.is_staged})
    return response


@require_POST
@require("run_connection_test")
def connection_test(request, pk):
    subscription = _subscription(pk)
    staged = _staged_from_post(request, subscription)
    try:
        if _htmx(request):
            test = connection_service.connection_test_start(
                subscription=subscription, actor=request.user, certificate=staged
            )
            return _render_test(request, test)
        test = connection_service.connection_test_run(
            subscription=subscription, actor=request.user, certificate=staged
        )
    except connection_service.ConnectionTestError as exc:
        if _htmx(request):
            return render(
                request,
                f"{CONNECTION_TEMPLATE}#refused",
                {"notice": _notice_refused(str(exc)), "staged": staged is not None},
            )
        messages.error(request, str(exc))
        return _back(request, subscription)
    _flash(request, _test_summary(test))
    return _back(request, subscription)


@require_POST
@require("run_connection_test")
def connection_test_step(request, pk, test_pk):
    test = get_object_or_404(ConnectionTest, pk=test_pk, subscription_id=pk)
    if test.is_staged and not _has(request, "manage_certificates"):
        raise PermissionDenied
    test = connection_service.connection_test_step(test=test, actor=request.user)
    return _render_test(request, test)


@require_GET
@require("view_subscription")
def connection_tests(request, pk):
    subscription = _subscription(pk)
    context = {
        "subscription": subscription,
        "tests": selectors.connection_history(subscription, limit=connection_service.HISTORY_KEPT),
        "health": selectors.subscription_health(subscription),
        "nav": "subscriptions",
    }
    return render(request, CONNECTION_TEMPLATE, context)


# -- certificates ----------------------------------------------------------------------------


def _certificates(request, subscription, *, notice=None, status=200, **forms):
    context = {
        "subscription": subscription,
        "overview": selectors.certificate_overview(subscription),
        "generate_form": forms.get("generate_form") or GenerateCertificateForm(),
        "upload_form": forms.get("upload_form") or UploadCertificateForm(),
        "id_form": forms.get("id_form") or CertificateIdForm(),
        "notice": notice,
        "return_to": request.POST.get("next") or request.get_full_path(),
        "simulator": bool(settings.NETSUITE_BASE_URL),
        "nav": "subscriptions",
    }
    name = f"{CERTIFICATE_STEPS_TEMPLATE}#section" if _htmx(request) else CERTIFICATE_STEPS_TEMPLATE
    return render(request, name, context, status=200 if _htmx(request) else status)


def _certificate_done(request, subscription, notice):
    if _htmx(request):
        return _certificates(request, subscription, notice=notice)
    _flash(request, notice)
    return _back(request, subscription)


@require_GET
@require("view_subscription")
def certificates(request, pk):
    return _certificates(request, _subscription(pk))


@require_POST
@require("manage_certificates")
def certificate_generate(request, pk):
    subscription = _subscription(pk)
    form = GenerateCertificateForm(request.POST)
    if not form.is_valid():
        return _certificates(request, subscription, status=400, generate_form=form)
    try:
        cert = certificate_service.certificate_generate(
            subscription=subscription,
            actor=request.user,
            key_type=form.cleaned_data["key_type"],
            days=form.cleaned_data["days"],
        )
    except certificate_service.CertificateActionError as exc:
        form.add_error(exc.field, exc.message)
        return _certificates(request, subscription, status=400, generate_form=form)
    return _certificate_done(
        request,
        subscription,
        _notice_ok(
            f"A new {cert.key_label} certificate is staged. Download it, upload it in NetSuite "
            "and paste the Certificate ID NetSuite shows."
        ),
    )


@require_POST
@sensitive_post_parameters("private_key_pem", "private_key_file")
@require("manage_certificates")
def certificate_upload(request, pk):
    subscription = _subscription(pk)
    form = UploadCertificateForm(request.POST, request.FILES)
    if not form.is_valid():
        return _certificates(request, subscription, status=400, upload_form=form)
    try:
        cert = certificate_service.certificate_upload(
            subscription=subscription,
            actor=request.user,
            private_key_pem=form.cleaned_data["private_key_file"],
            certificate_pem=form.cleaned_data["certificate_file"],
        )
    except certificate_service.CertificateActionError as exc:
        field = {"private_key": "private_key_file", "certificate": "certificate_file"}.get(
            exc.field or "", None
        )
        form.add_error(field, exc.message)
        return _certificates(request, subscription, status=400, upload_form=form)
    return _certificate_done(
        request,
        subscription,
        _notice_ok(
            f"The uploaded {cert.key_label} certificate is staged. Upload it in NetSuite too if "
            "it is not there yet, and paste its Certificate ID."
        ),
    )


def _staged_certificate(subscription, cert_pk) -> Certificate:
    return get_object_or_404(
        Certificate.objects.defer("private_key"), pk=cert_pk, subscription=subscription
    )


@require_POST
@require("manage_certificates")
def certificate_set_id(request, pk, cert_pk):
    subscription = _subscription(pk)
    cert = _staged_certificate(subscription, cert_pk)
    form = CertificateIdForm(request.POST)
    if not form.is_valid():
        return _certificates(request, subscription, status=400, id_form=form)
    try:
        certificate_service.certificate_set_id(
            certificate=cert, certificate_id=form.cleaned_data["certificate_id"], actor=request.user
        )
    except certificate_service.CertificateActionError as exc:
        form.add_error("certificate_id" if exc.field else None, exc.message)
        return _certificates(request, subscription, status=400, id_form=form)
    return _certificate_done(
        request,
        subscription,
        _notice_ok("Certificate ID saved. Now test the connection with the staged certificate."),
    )


@require_POST
@require("manage_certificates")
def certificate_register_in_simulator(request, pk, cert_pk):
    subscription = _subscription(pk)
    cert = _staged_certificate(subscription, cert_pk)
    try:
        cert = certificate_service.certificate_register_in_simulator(
            certificate=cert, actor=request.user
        )
    except certificate_service.CertificateActionError as exc:
        return _certificate_done(request, subscription, _notice_refused(exc.message))
    return _certificate_done(
        request,
        subscription,
        _notice_ok(
            f"Registered in the simulator; its Certificate ID {cert.certificate_id} is saved. "
            "Now test the connection with the staged certificate."
        ),
    )


@require_POST
@require("manage_certificates")
def certificate_activate(request, pk, cert_pk):
    subscription = _subscription(pk)
    cert = _staged_certificate(subscription, cert_pk)
    try:
        cert = certificate_service.certificate_activate(certificate=cert, actor=request.user)
    except certificate_service.CertificateActionError as exc:
        return _certificate_done(request, subscription, _notice_refused(exc.message))
    response = _certificate_done(
        request,
        subscription,
        _notice_ok(
            f"The {cert.key_label} certificate is now active: the subscription signs with its "
            "key and Certificate ID. The previous one is retired."
        ),
    )
    if _htmx(request):
        trigger_client_event(response, ACTIVATED_EVENT)
    return response


@require_POST
@require("manage_certificates")
def certificate_discard(request, pk, cert_pk):
    subscription = _subscription(pk)
    cert = _staged_certificate(subscription, cert_pk)
    try:
        certificate_service.certificate_discard(certificate=cert, actor=request.user)
    except certificate_service.CertificateActionError as exc:
        return _certificate_done(request, subscription, _notice_refused(exc.message))
    return _certificate_done(
        request, subscription, _notice_ok("The staged certificate was discarded.")
    )


@require_GET
@require("manage_certificates")
def certificate_download(request, pk, cert_pk):
    subscription = _subscription(pk)
    cert = get_object_or_404(
        Certificate.objects.defer("private_key"), pk=cert_pk, subscription=subscription
    )
    response = HttpResponse(cert.certificate_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{cert.download_name}"'
    return response


# -- webhooks --------------------------------------------------------------------------------


def _webhooks(request, subscription, table, *, partial="table"):
    context = {
        "subscription": subscription,
        "table": table,
        "return_to": request.POST.get("next") or request.get_full_path(),
        "nav": "subscriptions",
    }
    name = f"{WEBHOOKS_TEMPLATE}#{partial}" if _htmx(request) else WEBHOOKS_TEMPLATE
    return render(request, name, context)


@require_GET
@require("view_subscription")
def webhooks(request, pk):
    subscription = _subscription(pk)
    table = webhook_service.webhook_table(subscription=subscription)
    return _webhooks(request, subscription, table)


def _deployment_id(request) -> int | None:
    try:
        value = int(request.POST.get("deployment", ""))
    except ValueError:
        return None
    return value if value > 0 else None


@require_POST
@require("toggle_webhooks")
def webhook_toggle(request, pk):
    subscription = _subscription(pk)
    sdid = _deployment_id(request)
    flag = request.POST.get("flag") or None
    if sdid is None or (flag is not None and flag not in webhook_service.FLAGS):
        return HttpResponseBadRequest("A deployment id and a flag (create, update, delete).")
    if flag is not None:
        row = webhook_service.webhook_set(
            subscription=subscription,
            scriptdeploymentid=sdid,
            flag=flag,
            value=request.POST.get(flag) == "on",
            actor=request.user,
        )
    else:
        row = webhook_service.webhook_set(
            subscription=subscription,
            scriptdeploymentid=sdid,
            flags={f: request.POST.get(f) == "on" for f in webhook_service.FLAGS},
            actor=request.user,
        )
    if _htmx(request):
        return render(
            request,
            f"{WEBHOOKS_TEMPLATE}#row",
            {"subscription": subscription, "row": row, "return_to": request.POST.get("next", "")},
        )
    if row.error:
        _flash(request, _notice_error(row.error))
    else:
        messages.success(request, f"{row.label}: NetSuite confirmed the webhook flags.")
    return _back(request, subscription)


@require_POST
@require("toggle_webhooks")
def webhook_set_all(request, pk):
    subscription = _subscription(pk)
    module = request.POST.get("module") or None
    enabled = request.POST.get("enabled")
    if (module is not None and module not in MODULE_LABELS) or enabled not in ("1", "0"):
        return HttpResponseBadRequest("enabled is 1 or 0; module, when given, a known module.")
    result = webhook_service.webhook_set_all(
        subscription=subscription, enabled=enabled == "1", module=module, actor=request.user
    )
    return _bulk_done(request, subscription, result)


@require_POST
@require("toggle_webhooks")
def webhook_reapply(request, pk):
    subscription = _subscription(pk)
    result = webhook_service.webhook_reapply(subscription=subscription, actor=request.user)
    return _bulk_done(request, subscription, result)


def _bulk_done(request, subscription, result):
    table = result.table
    if _htmx(request):
        return _webhooks(request, subscription, table)
    if table.error:
        _flash(request, _notice_error(table.error))
    else:
        _flash(request, table.notice)
    return _back(request, subscription)


# -- iPaaS Auth Details ----------------------------------------------------------------------


def inbound_url(request, subscription) -> str:
    path = f"/hooks/netsuite/{subscription.pk}/"
    if settings.DASHBOARD_PUBLIC_URL:
        return settings.DASHBOARD_PUBLIC_URL + path
    return request.build_absolute_uri(path)


@require_GET
@require("view_subscription")
def auth_details(request, pk):
    subscription = _subscription(pk)
    listing = auth_details_service.auth_details_list(subscription=subscription)
    context = {
        "subscription": subscription,
        "listing": listing,
        "rows": [
            {"entry": e, "form": _auth_form(e.id, initial=_entry_initial(e))}
            for e in listing.entries
        ],
        "inbound_url": inbound_url(request, subscription),
        "return_to": request.get_full_path(),
        "nav": "subscriptions",
    }
    name = f"{AUTH_DETAILS_TEMPLATE}#section" if _htmx(request) else AUTH_DETAILS_TEMPLATE
    return render(request, name, context)


def _entry_initial(entry) -> dict:
    return {"webhook_url": entry.webhook_url, "tracking_guid": entry.tracking_guid}


def _auth_form(entry_id, data=None, initial=None) -> AuthDetailsForm:
    # One form per entry on the page: the prefix keeps their ids and labels apart.
    return AuthDetailsForm(data, initial=initial, prefix=f"entry{entry_id}")


def _posted_entry(request, entry_id):
    """The entry as the page showed it (for re-display only; NetSuite is not asked again)."""
    prefix = f"entry{entry_id}-"
    return auth_details_service.AuthDetailsEntry(
        id=str(entry_id),
        name=request.POST.get("name", "")[:100] or f"Entry {entry_id}",
        webhook_url=request.POST.get(prefix + "webhook_url", request.POST.get("webhook_url", "")),
        tracking_guid=request.POST.get(
            prefix + "tracking_guid", request.POST.get("tracking_guid", "")
        ),
        token_set=request.POST.get("token_set") == "1",
    )


def _entry_response(request, subscription, entry, form, notice, status=200):
    if _htmx(request):
        return render(
            request,
            f"{AUTH_DETAILS_TEMPLATE}#entry",
            {
                "subscription": subscription,
                "entry": entry,
                "form": form,
                "notice": notice,
                "inbound_url": inbound_url(request, subscription),
                "return_to": request.POST.get("next", ""),
            },
        )
    if status == 400:
        # Bad input without JavaScript: show the form again with its messages.
        return render(
            request,
            AUTH_DETAILS_TEMPLATE,
            {
                "subscription": subscription,
                "listing": auth_details_service.AuthDetailsList(entries=[entry]),
                "rows": [{"entry": entry, "form": form, "notice": notice}],
                "inbound_url": inbound_url(request, subscription),
                "return_to": request.POST.get("next", ""),
                "nav": "subscriptions",
            },
            status=400,
        )
    _flash(request, notice)
    return _back(request, subscription)


@require_POST
@sensitive_post_parameters("access_token")
@require("edit_auth_details")
def auth_details_edit(request, pk, entry_id):
    subscription = _subscription(pk)
    form = _auth_form(entry_id, request.POST)
    entry = _posted_entry(request, entry_id)
    if not form.is_valid():
        return _entry_response(request, subscription, entry, form, None, status=400)
    try:
        entry = auth_details_service.auth_details_update(
            subscription=subscription,
            entry_id=str(entry_id),
            webhook_url=form.cleaned_data["webhook_url"],
            tracking_guid=form.cleaned_data["tracking_guid"],
            access_token=form.cleaned_data["access_token"],
            actor=request.user,
        )
    except auth_details_service.AuthDetailsError as exc:
        for field, message in exc.errors.items():
            form.add_error(field, message)
        if exc.errors:
            return _entry_response(request, subscription, entry, form, None, status=400)
        return _entry_response(
            request, subscription, entry, form, _notice_error(exc.info or {"message": exc.message})
        )
    form = _auth_form(entry_id, initial=_entry_initial(entry))
    notice = _notice_ok(f"{entry.name}: NetSuite accepted the change.")
    return _entry_response(request, subscription, entry, form, notice)


@require_POST
@require("edit_auth_details")
def auth_details_use_dashboard(request, pk, entry_id):
    subscription = _subscription(pk)
    entry = _posted_entry(request, entry_id)
    form = _auth_form(entry_id, initial=_entry_initial(entry))
    try:
        entry = auth_details_service.auth_details_use_dashboard(
            subscription=subscription,
            entry_id=str(entry_id),
            inbound_url=inbound_url(request, subscription),
            allow_http=bool(settings.NETSUITE_BASE_URL),
            actor=request.user,
        )
    except auth_details_service.AuthDetailsError as exc:
        notice = _notice_error(exc.info) if exc.info else _notice_refused(exc.message)
        return _entry_response(request, subscription, entry, form, notice)
    form = _auth_form(entry_id, initial=_entry_initial(entry))
    notice = _notice_ok(
        f"{entry.name}: NetSuite now sends webhooks to this dashboard with the subscription's "
        "Webhook API Key."
    )
    return _entry_response(request, subscription, entry, form, notice)


# -- governance ------------------------------------------------------------------------------


def _governance(request, subscription, *, proposal=None, form=None, notice=None, status=200):
    context = {
        "subscription": subscription,
        "proposal": proposal,
        "apply_form": form,
        "notice": notice,
        "return_to": request.POST.get("next") or request.get_full_path(),
        "nav": "subscriptions",
    }
    name = f"{GOVERNANCE_TEMPLATE}#section" if _htmx(request) else GOVERNANCE_TEMPLATE
    return render(request, name, context, status=200 if _htmx(request) else status)


@require_http_methods(["GET", "POST"])
@require("change_subscription")
def governance(request, pk):
    subscription = _subscription(pk)
    if request.method == "GET":
        return _governance(request, subscription)
    try:
        proposal = governance_service.governance_detect(
            subscription=subscription, actor=request.user
        )
    except governance_service.GovernanceError as exc:
        return _governance(
            request, subscription, notice=_notice_error(exc.info or {"message": exc.message})
        )
    form = None
    if proposal.proposed is not None:
        form = GovernanceApplyForm(
            initial={
                "concurrent_connections": proposal.proposed,
                "revision": subscription.revision,
            }
        )
    return _governance(request, subscription, proposal=proposal, form=form)


@require_POST
@require("change_subscription")
def governance_apply(request, pk):
    subscription = _subscription(pk)
    form = GovernanceApplyForm(request.POST)
    if not form.is_valid():
        return _governance(request, subscription, form=form, status=400)
    try:
        subscription = governance_service.governance_apply(
            subscription=subscription,
            value=form.cleaned_data["concurrent_connections"],
            expected_revision=form.cleaned_data["revision"],
            actor=request.user,
        )
    except ConflictError:
        notice = _notice_refused(
            "Someone changed this subscription after the limits were detected; nothing was "
            "saved. Detect again to see the current values."
        )
    except governance_service.GovernanceError as exc:
        form.add_error("concurrent_connections", exc.message)
        return _governance(request, subscription, form=form, status=400)
    else:
        notice = _notice_ok(
            f"Concurrent Connections is now {subscription.concurrent_connections}."
        )
    if _htmx(request):
        return _governance(request, subscription, notice=notice)
    _flash(request, notice)
    return _back(request, subscription)
