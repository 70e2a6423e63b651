"""Certificates: generate or upload a pair, give it its Certificate ID, activate or discard it;
or rotate through NetSuite in one go, list what NetSuite holds, revoke an old one there.

Every action answers an HTMX request with the certificate section it changed and a plain form
post with a redirect back and a message; bad input shows the section again with the form's
messages (400 without JavaScript).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from ..forms.certificates import CertificateIdForm, GenerateCertificateForm, UploadCertificateForm
from ..models import Certificate, NetSuiteSnapshot, Subscription
from ..permissions import require
from ..problems import Problem, Success
from ..selectors.certificates import (
    certificate_by_netsuite_id,
    certificate_overview,
    certificate_uses_elsewhere,
)
from ..selectors.subscriptions import subscription_get
from ..services import certificates as certificate_service
from ..services import rotation as rotation_service
from .htmx import CERTIFICATE_CHANGED, back, flash, is_partial, partial_or_page, return_to
from .snapshots import known_table, reads_live, snapshot_context

CERTIFICATES_TEMPLATE = "subscriptions/actions/certificates.html"
KIND = NetSuiteSnapshot.Kind.NETSUITE_CERTIFICATES
# Another certificate is in use: the Overview's Certificate ID and NetSuite summary and the
# webhook table ask for themselves again (this section is the answer itself).
ACTIVATED_EVENT = CERTIFICATE_CHANGED


def _section(request, subscription, *, notice=None, status=200, extra=None, **forms):
    overview = certificate_overview(subscription)
    staged_id = overview.staged.certificate_id if overview.staged is not None else ""
    context = {
        "subscription": subscription,
        "overview": overview,
        "generate_form": forms.get("generate_form") or GenerateCertificateForm(),
        "upload_form": forms.get("upload_form") or UploadCertificateForm(),
        # The field shows the ID saved (by hand or by "Register in the simulator"); a refused
        # one stays in the bound form with its error, and the saved one is named beside it.
        "id_form": forms.get("id_form") or CertificateIdForm(initial={"certificate_id": staged_id}),
        "notice": notice,
        "return_to": return_to(request),
        "simulator": settings.NETSUITE_SIMULATOR,
        "nav": "subscriptions",
        **(extra or {}),
    }
    name = partial_or_page(request, CERTIFICATES_TEMPLATE, "section")
    return render(request, name, context, status=200 if is_partial(request) else status)


def _done(request, subscription, notice: Problem | Success, extra=None):
    if is_partial(request):
        # Read again: the action may have changed it (an activation, a rotation).
        subscription = subscription_get(subscription.pk)
        return _section(request, subscription, notice=notice, extra=extra)
    flash(request, notice)
    return back(request, "subscriptions:detail", pk=subscription.pk)


def _form_action(
    request,
    pk,
    form,
    form_name: str,
    act: Callable[[Subscription, dict], Certificate],
    success: Callable[[Certificate], str],
    field_for: Callable[[str | None], str | None] = lambda field: field,
):
    """Validate ``form``, call the service, and show its refusal next to the right field."""
    subscription = subscription_get(pk)
    if not form.is_valid():
        return _section(request, subscription, status=400, **{form_name: form})
    try:
        cert = act(subscription, form.cleaned_data)
    except certificate_service.CertificateActionError as exc:
        form.add_error(field_for(exc.field), exc.message)
        return _section(request, subscription, status=400, **{form_name: form})
    return _done(request, subscription, Success(success(cert)))


def _staged_certificate(subscription, cert_pk) -> Certificate:
    return get_object_or_404(
        Certificate.objects.defer("private_key"), pk=cert_pk, subscription=subscription
    )


def _staged_action(
    request,
    pk,
    cert_pk,
    act,
    success: Callable[[Certificate], str],
    event: str | None = None,
    confirm: str = "",
):
    """An action on the staged certificate that takes no input: refusals become notices.

    With ``confirm`` (the name of its confirmation step) a post without ``confirmed=1``
    changes nothing and shows that step instead. ``event`` is sent to the page (HTMX) when
    the action succeeded.
    """
    subscription = subscription_get(pk)
    cert = _staged_certificate(subscription, cert_pk)
    if confirm and request.POST.get("confirmed") != "1":
        return _confirm(
            request, subscription, confirm, cert=cert, overview=certificate_overview(subscription)
        )
    try:
        cert = act(certificate=cert, actor=request.user)
    except certificate_service.CertificateActionError as exc:
        return _done(request, subscription, exc.problem)
    response = _done(request, subscription, Success(success(cert)))
    if event and is_partial(request):
        trigger_client_event(response, event)
    return response


@require_GET
@require("view_subscription")
def certificates(request, pk):
    subscription = subscription_get(pk)
    # A read-only viewer sees NetSuite's list as it last answered, without a call.
    return _section(
        request, subscription, extra=_netsuite_certificates(request, subscription, live=False)
    )


@require_POST
@require("manage_certificates")
def certificate_generate(request, pk):
    def generate(subscription, data):
        return certificate_service.certificate_generate(
            subscription=subscription, actor=request.user, key_type=data["key_type"],
            days=data["days"],
        )

    form = GenerateCertificateForm(request.POST)
    return _form_action(request, pk, form, "generate_form", generate, _generated)


def _generated(cert: Certificate) -> str:
    if cert.status == Certificate.Status.ACTIVE:
        return (
            f"The {cert.key_label} key and certificate are made and are this subscription's "
            "now (it had none). Download the certificate, upload it in NetSuite and paste the "
            "Certificate ID NetSuite shows."
        )
    return (
        f"A new {cert.key_label} certificate is staged. Download it, upload it in NetSuite "
        "and paste the Certificate ID NetSuite shows."
    )


_UPLOAD_FIELDS = {"private_key": "private_key_file", "certificate": "certificate_file"}


@require_POST
@sensitive_post_parameters("private_key_pem", "private_key_file")
@require("manage_certificates")
def certificate_upload(request, pk):
    def upload(subscription, data):
        return certificate_service.certificate_upload(
            subscription=subscription, actor=request.user,
            private_key_pem=data["private_key_file"], certificate_pem=data["certificate_file"],
        )

    form = UploadCertificateForm(request.POST, request.FILES)
    return _form_action(
        request, pk, form, "upload_form", upload, _uploaded,
        field_for=lambda field: _UPLOAD_FIELDS.get(field or ""),
    )


def _uploaded(cert: Certificate) -> str:
    if cert.status == Certificate.Status.ACTIVE:
        return (
            f"The uploaded {cert.key_label} key and certificate are this subscription's now "
            "(it had none). Upload the certificate in NetSuite too if it is not there yet, and "
            "paste its Certificate ID."
        )
    return (
        f"The uploaded {cert.key_label} certificate is staged. Upload it in NetSuite too if "
        "it is not there yet, and paste its Certificate ID."
    )


@require_POST
@require("manage_certificates")
def certificate_set_id(request, pk, cert_pk):
    def set_id(subscription, data):
        cert = _staged_certificate(subscription, cert_pk)
        return certificate_service.certificate_set_id(
            certificate=cert, certificate_id=data["certificate_id"], actor=request.user
        )

    form = CertificateIdForm(request.POST)
    return _form_action(
        request, pk, form, "id_form", set_id,
        _id_saved,
        field_for=lambda field: "certificate_id" if field else None,
    )


def _id_saved(cert: Certificate) -> str:
    if cert.status == Certificate.Status.ACTIVE:
        return "Certificate ID saved. Now test the connection (Connection section)."
    return "Certificate ID saved. Now test the connection with the staged certificate."


def _registered(cert: Certificate) -> str:
    if cert.status == Certificate.Status.ACTIVE:
        return (
            f"Registered in the simulator; its Certificate ID {cert.certificate_id} is saved. "
            "Now test the connection (Connection section)."
        )
    return (
        f"Registered in the simulator; its Certificate ID {cert.certificate_id} is saved. Now "
        "test the connection with the staged certificate."
    )


def _activated(cert: Certificate) -> str:
    return (
        f"The {cert.key_label} certificate is now active: the subscription signs with its key "
        "and Certificate ID. The previous one is retired."
    )


def _discarded(cert: Certificate) -> str:
    return "The staged certificate was discarded."


@require_POST
@require("manage_certificates")
def certificate_register_in_simulator(request, pk, cert_pk):
    act = certificate_service.certificate_register_in_simulator
    return _staged_action(request, pk, cert_pk, act, _registered)


@require_POST
@require("manage_certificates")
def certificate_activate(request, pk, cert_pk):
    act = certificate_service.certificate_activate
    return _staged_action(
        request, pk, cert_pk, act, _activated, event=ACTIVATED_EVENT, confirm="activate"
    )


@require_POST
@require("manage_certificates")
def certificate_discard(request, pk, cert_pk):
    act = certificate_service.certificate_discard
    return _staged_action(request, pk, cert_pk, act, _discarded, confirm="discard")


@require_GET
@require("manage_certificates")
def certificate_download(request, pk, cert_pk):
    subscription = subscription_get(pk)
    cert = _staged_certificate(subscription, cert_pk)
    response = HttpResponse(cert.certificate_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{cert.download_name}"'
    return response


# -- through NetSuite's certificate rotation endpoint -------------------------------------------

ROTATE_PREFIX = "rotate"


def _next(request) -> str:
    """Where the page that asked for a confirmation or a listing lives: a path of ours, or
    "" (a form's ``next`` is checked again by ``back``)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _confirm(request, subscription, confirm: str, *, status=200, **context):
    """The confirmation step before an action that changes NetSuite: the section's place for
    HTMX, a page of its own without JavaScript."""
    target = _next(request)
    context.update(
        subscription=subscription,
        confirm=confirm,
        return_to=target,
        cancel_url=target or reverse("subscriptions:detail", args=[subscription.pk]),
        nav="subscriptions",
    )
    name = partial_or_page(request, CERTIFICATES_TEMPLATE, f"{confirm}_confirm")
    return render(request, name, context, status=200 if is_partial(request) else status)


@require_GET
@require("manage_certificates")
def certificate_rotate_confirm(request, pk):
    subscription = subscription_get(pk)
    form = GenerateCertificateForm(prefix=ROTATE_PREFIX)
    return _confirm(request, subscription, "rotate", rotate_form=form)


@require_POST
@require("manage_certificates")
def certificate_rotate(request, pk):
    subscription = subscription_get(pk)
    form = GenerateCertificateForm(request.POST, prefix=ROTATE_PREFIX)
    if not form.is_valid():
        return _confirm(request, subscription, "rotate", status=400, rotate_form=form)
    try:
        rotation = rotation_service.certificate_rotate_through_netsuite(
            subscription=subscription, actor=request.user, key_type=form.cleaned_data["key_type"],
            days=form.cleaned_data["days"],
        )
    except certificate_service.CertificateActionError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
            return _confirm(request, subscription, "rotate", status=400, rotate_form=form)
        return _done(request, subscription, exc.problem)
    response = _done(request, subscription, rotation.notice, extra={"rotation": rotation})
    if rotation.passed and is_partial(request):
        trigger_client_event(response, ACTIVATED_EVENT)
    return response


@require_GET
@require("manage_certificates")
def certificate_revoke_confirm(request, pk):
    subscription = subscription_get(pk)
    certificate_id = request.GET.get("certificate_id", "").strip()
    if not certificate_id:
        return HttpResponseBadRequest("Which certificate: certificate_id is missing.")
    return _confirm(
        request, subscription, "revoke",
        certificate_id=certificate_id,
        ours=certificate_by_netsuite_id(subscription, certificate_id),
        in_use=certificate_id == subscription.certificate_id,
        elsewhere=certificate_uses_elsewhere(subscription, [certificate_id]).get(
            certificate_id, []
        ),
    )


@require_POST
@require("manage_certificates")
def certificate_revoke_in_netsuite(request, pk):
    subscription = subscription_get(pk)
    certificate_id = request.POST.get("certificate_id", "").strip()
    try:
        rotation_service.certificate_revoke_in_netsuite(
            subscription=subscription, certificate_id=certificate_id, actor=request.user
        )
    except certificate_service.CertificateActionError as exc:
        return _done(request, subscription, exc.problem)
    return _done(
        request, subscription,
        Success(
            f"NetSuite revoked the certificate {certificate_id}: no new token is issued for it."
        ),
    )


@require_GET
@require("view_subscription")
def certificate_netsuite_list(request, pk):
    """What NetSuite holds for the integration beside ours: read on request (a NetSuite call).

    Shows IDs, dates, algorithms and the role and entity names, nothing secret, so every role
    that sees the subscription may ask for it; revoking stays with ``manage_certificates``.
    """
    subscription = subscription_get(pk)
    extra = _netsuite_certificates(request, subscription, live=True)
    if is_partial(request):
        context = {"subscription": subscription, "return_to": _next(request), **extra}
        return render(request, f"{CERTIFICATES_TEMPLATE}#netsuite_table", context)
    return _section(
        request, subscription,
        extra={**extra, "return_to": _next(request) or request.get_full_path()},
    )


def _netsuite_certificates(request, subscription, *, live: bool) -> dict:
    """The table of NetSuite's certificates: read now (``live``) by whoever may manage them;
    NetSuite's last answer for read-only viewers, with its Refresh (views/snapshots.py)."""
    if reads_live(request.user, KIND):
        if not live:
            return {}
        return {"table": rotation_service.certificate_netsuite_table(
            subscription=subscription, actor=request.user
        )}
    table = known_table(request, subscription, KIND) if live else (
        rotation_service.certificate_netsuite_known(subscription=subscription)
    )
    return {"table": table, "refresh": snapshot_context(subscription, KIND)}
