"""The iPaaS Auth Details record in NetSuite: where NetSuite sends its webhooks, and with which
token. Entries are read from NetSuite on every view; a change goes out as PATCH."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from ..forms.auth_details import AuthDetailsForm
from ..permissions import require
from ..problems import Success
from ..selectors.subscriptions import subscription_get
from ..services import auth_details as auth_details_service
from .htmx import back, flash, is_partial, partial_or_page

AUTH_DETAILS_TEMPLATE = "subscriptions/actions/auth_details.html"


def inbound_url(request, subscription) -> str:
    """Where NetSuite reaches this dashboard's inbound webhook for ``subscription``."""
    path = f"/hooks/netsuite/{subscription.pk}/"
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
    listing = auth_details_service.auth_details_list(subscription=subscription)
    rows = [{"entry": e, "form": _form(e.id, initial=_entry_initial(e))} for e in listing.entries]
    context = _page_context(request, subscription, listing, rows)
    return render(request, partial_or_page(request, AUTH_DETAILS_TEMPLATE, "section"), context)


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
    if status == 400:
        # Bad input without JavaScript: show the form again with its messages.
        listing = auth_details_service.AuthDetailsList(entries=[entry])
        rows = [{"entry": entry, "form": form, "notice": notice}]
        context = _page_context(request, subscription, listing, rows)
        context["return_to"] = request.POST.get("next", "")
        return render(request, AUTH_DETAILS_TEMPLATE, context, status=400)
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


@require_POST
@require("edit_auth_details")
def auth_details_use_dashboard(request, pk, entry_id):
    subscription = subscription_get(pk)
    entry = _posted_entry(request, entry_id)
    form = _form(entry_id, initial=_entry_initial(entry))
    try:
        entry = auth_details_service.auth_details_use_dashboard(
            subscription=subscription,
            entry_id=str(entry_id),
            inbound_url=inbound_url(request, subscription),
            allow_http=settings.NETSUITE_SIMULATOR,
            actor=request.user,
        )
    except auth_details_service.AuthDetailsError as exc:
        return _entry_response(request, subscription, entry, form, exc.problem)
    form = _form(entry_id, initial=_entry_initial(entry))
    notice = Success(
        f"{entry.name}: NetSuite now sends webhooks to this dashboard with the subscription's "
        "Webhook API Key."
    )
    return _entry_response(request, subscription, entry, form, notice)
