"""The iPaaS Auth Details record in NetSuite: where NetSuite sends its webhooks, and with which
token. Entries are read from NetSuite on every view by whoever may change them, read-only
viewers are shown NetSuite's last answer (views/snapshots.py); a change goes out as PATCH.

The values shown as the entry's own are always NetSuite's (the page posts them back as
``shown_*``): a refused change shows what the person typed in the form, with the reason, and
the entry as NetSuite still has it. "Use this dashboard" overwrites the entry, so it first
shows old -> new and asks to confirm (a server-rendered step, the same with or without
JavaScript); an entry named Production also needs its name typed. When the entry sends another
subscription's events to this dashboard now, that step names it: it stops receiving them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from ..forms.auth_details import AuthDetailsForm
from ..models import NetSuiteSnapshot
from ..permissions import require
from ..problems import Success
from ..selectors.subscriptions import subscription_get, subscription_name
from ..services import auth_details as auth_details_service
from .htmx import back, flash, is_partial, partial_or_page
from .snapshots import known_table, reads_live, snapshot_context

AUTH_DETAILS_TEMPLATE = "subscriptions/actions/auth_details.html"
KIND = NetSuiteSnapshot.Kind.AUTH_DETAILS


def _inbound_path(pk) -> str:
    return f"/hooks/netsuite/{pk}/"


def inbound_url(request, subscription) -> str:
    """Where NetSuite reaches this dashboard's inbound webhook for ``subscription``."""
    path = _inbound_path(subscription.pk)
    if settings.DASHBOARD_PUBLIC_URL:
        return settings.DASHBOARD_PUBLIC_URL + path
    return request.build_absolute_uri(path)


def _entry_initial(entry) -> dict:
    return {"webhook_url": entry.webhook_url, "tracking_guid": entry.tracking_guid}


def _form(entry_id, data=None, initial=None) -> AuthDetailsForm:
    # One form per entry on the page: the prefix keeps their ids and labels apart.
    return AuthDetailsForm(data, initial=initial, prefix=f"entry{entry_id}")


def _page_context(request, subscription, listing, rows) -> dict:
    return {
        "subscription": subscription,
        "listing": listing,
        "rows": rows,
        "inbound_url": inbound_url(request, subscription),
        "return_to": request.POST.get("next", "") or request.get_full_path(),
        "nav": "subscriptions",
    }


@require_GET
@require("view_subscription")
def auth_details(request, pk):
    subscription = subscription_get(pk)
    if reads_live(request.user, KIND):
        listing = auth_details_service.auth_details_list(
            subscription=subscription, actor=request.user
        )
    else:
        # Read-only: NetSuite's last answer, refreshed on request (views/snapshots.py).
        listing = known_table(request, subscription, KIND) or auth_details_service.AuthDetailsList(
            entries=[]
        )
    rows = [{"entry": e, "form": _form(e.id, initial=_entry_initial(e))} for e in listing.entries]
    context = _page_context(request, subscription, listing, rows)
    if not reads_live(request.user, KIND):
        context["refresh"] = snapshot_context(subscription, KIND)
    return render(request, partial_or_page(request, AUTH_DETAILS_TEMPLATE, "section"), context)


def _posted_entry(request, entry_id):
    """The entry as NetSuite had it when the page showed it (NetSuite is not asked again)."""
    return auth_details_service.AuthDetailsEntry(
        id=str(entry_id),
        name=request.POST.get("name", "")[:100] or f"Entry {entry_id}",
        webhook_url=request.POST.get("shown_webhook_url", ""),
        tracking_guid=request.POST.get("shown_tracking_guid", ""),
        token_set=request.POST.get("token_set") == "1",
    )


def _entry_response(request, subscription, entry, form, notice, status=200):
    if is_partial(request):
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
    if status == 400 or form.is_bound:
        # Bad input or a refusal without JavaScript: the form again, with what was typed.
        listing = auth_details_service.AuthDetailsList(entries=[entry])
        rows = [{"entry": entry, "form": form, "notice": notice}]
        context = _page_context(request, subscription, listing, rows)
        context["return_to"] = request.POST.get("next", "")
        return render(request, AUTH_DETAILS_TEMPLATE, context, status=status)
    flash(request, notice)
    return back(request, "subscriptions:detail", pk=subscription.pk)


@require_POST
@sensitive_post_parameters("access_token")
@require("edit_auth_details")
def auth_details_edit(request, pk, entry_id):
    subscription = subscription_get(pk)
    form = _form(entry_id, request.POST)
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
        return _entry_response(request, subscription, entry, form, exc.problem)
    form = _form(entry_id, initial=_entry_initial(entry))
    notice = Success(f"{entry.name}: NetSuite accepted the change.")
    return _entry_response(request, subscription, entry, form, notice)


def receiving_subscription(request, subscription, webhook_url: str) -> str:
    """The name of the other subscription on this dashboard whose inbound address
    ``webhook_url`` is (this dashboard's host, ``/hooks/netsuite/<id>/``), or ""."""
    here = urlsplit(inbound_url(request, subscription))
    there = urlsplit((webhook_url or "").strip())
    # DASHBOARD_PUBLIC_URL may carry a path in front of the dashboard's own.
    prefix = here.path.removesuffix(_inbound_path(subscription.pk))
    if there.netloc.lower() != here.netloc.lower() or not there.path.startswith(prefix):
        return ""
    try:
        match = resolve(there.path.removeprefix(prefix) or "/")
    except Resolver404:
        return ""
    other = match.kwargs.get("pk")
    if match.view_name != "subscriptions:inbound_webhook" or other == subscription.pk:
        return ""
    return subscription_name(other)


def _use_dashboard_confirm(
    request, subscription, entry, error: str = "", needs_name: bool = False
):
    """Old -> new for the entry, and the button that overwrites it (nothing sent yet); when
    the entry sends another subscription's events now, it names that subscription."""
    context = {
        "subscription": subscription,
        "entry": entry,
        "inbound_url": inbound_url(request, subscription),
        "receiving": receiving_subscription(request, subscription, entry.webhook_url),
        "needs_name": needs_name or auth_details_service.needs_typed_name(entry.name),
        "error": error,
        "return_to": request.POST.get("next", ""),
        "nav": "subscriptions",
    }
    if is_partial(request):
        return render(request, f"{AUTH_DETAILS_TEMPLATE}#use_dashboard_confirm", context)
    context["confirming"] = True
    return render(request, AUTH_DETAILS_TEMPLATE, context)


@require_POST
@require("edit_auth_details")
def auth_details_use_dashboard(request, pk, entry_id):
    subscription = subscription_get(pk)
    entry = _posted_entry(request, entry_id)
    form = _form(entry_id, initial=_entry_initial(entry))
    if request.POST.get("cancel") == "1":
        return _entry_response(request, subscription, entry, form, None)
    if request.POST.get("confirmed") != "1":
        return _use_dashboard_confirm(request, subscription, entry)
    typed = request.POST.get("confirm_name", "")
    if not auth_details_service.name_confirmed(entry.name, typed):
        return _use_dashboard_confirm(
            request, subscription, entry, error=f"Type {entry.name} to confirm."
        )
    try:
        entry = auth_details_service.auth_details_use_dashboard(
            subscription=subscription,
            entry_id=str(entry_id),
            inbound_url=inbound_url(request, subscription),
            allow_http=settings.NETSUITE_SIMULATOR,
            actor=request.user,
            confirm_name=typed,
        )
    except auth_details_service.AuthDetailsError as exc:
        if "confirm_name" in exc.errors:
            # NetSuite names it Production although the page did not: ask for the name.
            return _use_dashboard_confirm(
                request, subscription, entry, error=exc.errors["confirm_name"], needs_name=True
            )
        return _entry_response(request, subscription, entry, form, exc.problem)
    form = _form(entry_id, initial=_entry_initial(entry))
    notice = Success(
        f"{entry.name}: NetSuite now sends webhooks to this dashboard with the subscription's "
        "Webhook API Key."
    )
    return _entry_response(request, subscription, entry, form, notice)
