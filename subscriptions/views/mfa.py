"""The second factor's pages: a person's own (status, set up an app, new recovery codes), the
code step after the password, and an administrator's reset of someone else's.

The app's key waits for its first code in the server-side session, encrypted
(:mod:`subscriptions.fields`), never in the page's form: the page shows it once as a QR code
(an inline SVG, no image request, nothing for the CSP to allow) and as text to type. The
recovery codes are shown once, on the answer to the post that made them, never cached.

A wrong code is a failed login for django-axes (Django's ``user_login_failed`` with the
username), so the lockout counts it with the password's failures per person and address; a
person locked out by it is logged out and sees the locked-out page.
"""

from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify
from urllib.parse import urlencode

import qrcode
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathFillImage

from .. import fields
from ..forms.mfa import CodeForm, ReasonForm
from ..permissions import require
from ..second_factor import MFA_SENDER, second_factor_page, session_verified
from ..selectors.mfa import mfa_enrolled, mfa_status
from ..services import mfa as mfa_services
from ..services.errors import ServiceError

PENDING_KEY = "mfa_pending_key"
MANAGE = "auth.change_user"


def _next_url(request) -> str:
    """Where the person was going (``next``, a page of this site), else their landing page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return reverse(url_name) + "?" + urlencode({"next": next_url})


def _pending_key(request) -> str:
    """The key of the app being set up: kept across the page and its post, made once."""
    stored = request.session.get(PENDING_KEY)
    if stored:
        try:
            return fields.decrypt(stored)
        except fields.DecryptionError:
            pass
    key = mfa_services.mfa_new_key()
    request.session[PENDING_KEY] = fields.encrypt(key)
    return key


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=SvgPathFillImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    labelled = svg.replace(
        "<svg ", '<svg class="qr-code" role="img" aria-label="QR code to scan with your '
        'authenticator app" ', 1
    )
    # Made here from the key's otpauth:// address: path data only, nothing a person typed.
    return mark_safe(labelled)  # noqa: S308


def _secret_text(key: str) -> str:
    """The key as authenticator apps take it typed: base32, in groups of four."""
    text = b32encode(unhexlify(key.encode())).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _codes_page(request, codes: list[str], *, enrolled: bool, next_url: str):
    response = render(
        request,
        "mfa/recovery_codes.html",
        {"nav": "mfa", "codes": codes, "enrolled": enrolled, "next_url": next_url},
    )
    add_never_cache_headers(response)
    return response


@require_GET
def mfa_page(request):
    return render(request, "mfa/status.html", {"nav": "mfa", "status": mfa_status(request.user)})


@second_factor_page
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    next_url = _next_url(request)
    if mfa_enrolled(request.user):
        if not session_verified(request):
            return redirect(_with_next("subscriptions:mfa_verify", next_url))
        messages.info(request, "You already have a second factor.")
        return redirect("subscriptions:mfa_page")
    key = _pending_key(request)
    form = CodeForm(
        request.POST or None,
        help_text="The 6 digits the app shows for this dashboard after you added it.",
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                device, codes = mfa_services.mfa_enrol(
                    user=request.user, key=key, code=form.cleaned_data["code"],
                    actor=request.user,
                )
            except ServiceError as exc:
                form.add_error("code", exc.errors.get("code", exc.message))
            else:
                request.session.pop(PENDING_KEY, None)
                otp_login(request, device)
                request.session.cycle_key()
                return _codes_page(request, codes, enrolled=True, next_url=next_url)
    uri = TOTPDevice(user=request.user, key=key).config_url
    context = {
        "nav": "mfa",
        "form": form,
        "qr_svg": _qr_svg(uri),
        "secret": _secret_text(key),
        "next_url": next_url,
        "required": mfa_status(request.user).required,
    }
    response = render(request, "mfa/enrol.html", context, status=status)
    add_never_cache_headers(response)  # the key is on it
    return response


def _locked_out(request, credentials: dict):
    """Log the person out and answer with axes' locked-out page."""
    logout(request)
    return get_lockout_response(request, None, credentials)


@second_factor_page
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    next_url = _next_url(request)
    if session_verified(request):
        return redirect(next_url)
    if not mfa_enrolled(request.user):
        return redirect(_with_next("subscriptions:mfa_enrol", next_url))
    credentials = {"username": request.user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return _locked_out(request, credentials)
    form = CodeForm(
        request.POST or None,
        help_text="The 6 digits your authenticator app shows now, or one of your recovery "
        "codes if you do not have the app with you.",
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                device = mfa_services.mfa_verify(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except mfa_services.CodeRefusedError as exc:
                form.add_error("code", exc.message)
                # The lockout counts it with the password's failures.
                user_login_failed.send(sender=MFA_SENDER, credentials=credentials, request=request)
                if getattr(request, "axes_locked_out", False):
                    return _locked_out(request, credentials)
            else:
                otp_login(request, device)
                request.session.cycle_key()
                return redirect(next_url)
    return render(
        request, "mfa/verify.html", {"form": form, "next_url": next_url}, status=status
    )


@require_POST
def mfa_recovery_codes_regenerate(request):
    try:
        codes = mfa_services.mfa_recovery_codes_regenerate(user=request.user, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("subscriptions:mfa_page")
    return _codes_page(
        request, codes, enrolled=False, next_url=reverse("subscriptions:mfa_page")
    )


@require_http_methods(["GET", "POST"])
@require(MANAGE)
def people_mfa_reset(request, pk):
    """The confirmed step of "Reset second factor" on the People page."""
    person = get_object_or_404(get_user_model(), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(
                request, f"Second factor of {person.get_username()} not reset: "
                f"{form.first_error()}"
            )
            return redirect("subscriptions:people")
        try:
            removed = mfa_services.mfa_reset(
                user=person, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            if removed:
                messages.success(
                    request,
                    f"The second factor of {person.get_username()} is reset: they set up a "
                    "new authenticator app at their next login.",
                )
            else:
                messages.info(request, f"{person.get_username()} had no second factor.")
        return redirect("subscriptions:people")
    return render(
        request,
        "mfa/reset_confirm.html",
        {
            "nav": "people",
            "person": person,
            "form": form,
            "enrolled": mfa_enrolled(person),
            "is_self": person.pk == request.user.pk,
        },
    )
