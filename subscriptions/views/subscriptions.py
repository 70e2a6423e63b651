"""Subscription pages: list, detail, create, edit, delete, webhook key, API URL preview.

Thin: parse, authorise, call a service, render. Creating (and regenerating without HTMX) is
Post/Redirect/Get: the new Webhook API Key goes into the server-side session, encrypted, under
the subscription's id (``views.kept``), and the first view of the subscription's page pops and
shows it, marked no-store; a reload shows only the date. A private key pasted into a refused
form is kept the same way for that form's next submit.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from netsuite.accounts import InvalidAccountId, api_url_for, normalize_account_id

from ..forms.subscription import ReasonForm, SubscriptionForm
from ..models import PLAIN_FIELDS, Subscription
from ..permissions import has_perm, require
from ..selectors import subscriptions as selectors
from ..services import subscriptions as services
from ..services.errors import ConflictError, InvalidInput
from . import kept
from .htmx import is_partial, partial_or_page

PAGE_SIZE = 50
# The Overview's parts that listen for events (?part=): the subscription's facts (the
# Certificate ID and key after an activation) and the NetSuite summary.
OVERVIEW_PARTS = ("facts", "netsuite")


def _detail_context(request, subscription, **extra):
    # Key type and fingerprint are shown by the templates only with view_secrets_metadata.
    return {"nav": "subscriptions", "subscription": subscription, **extra}


@require_GET
@require("view_subscription")
def subscription_list(request):
    search = request.GET.get("q", "")[:120]
    order = request.GET.get("sort", "")
    if order not in selectors.LIST_ORDERS:
        order = selectors.DEFAULT_ORDER
    paginator = Paginator(selectors.subscription_list(search=search, order=order), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)  # one query, read by the health and the rows
    shared = selectors.shared_credentials(page.object_list)
    for row in page.object_list:
        row["shares_credentials"] = (row["account_id"], row["consumer_id"]) in shared
    template = partial_or_page(request, "subscriptions/list.html", "results")
    context = {
        "nav": "subscriptions",
        "page": page,
        "search": search.strip(),
        "order": order,
        # What the pager and the sort links keep of the current view.
        "query": urlencode({k: v for k, v in (("q", search.strip()), ("sort", order)) if v}),
        "shared_count": len(shared),
    }
    return render(request, template, context)


@require_GET
@require("view_subscription")
def subscription_detail(request, pk):
    subscription = selectors.subscription_get(pk)
    part = request.GET.get("part")
    if is_partial(request) and part in OVERVIEW_PARTS:
        # A part read again after an event said its state changed (views/htmx.py); a key
        # shown once stays where it is.
        template = f"subscriptions/detail.html#{part}"
        return render(request, template, _detail_context(request, subscription))
    template = partial_or_page(request, "subscriptions/detail.html", "webhook_panel")
    key, created = kept.pop_shown_once(request, subscription.pk)
    context = _detail_context(request, subscription, new_webhook_key=key, just_created=created)
    response = render(request, template, context)
    if key:
        add_never_cache_headers(response)
    return response


def _key_form(request, form_id: str, **kwargs):
    """The subscription form for this POST, with the key kept from its refused last submit."""
    token = request.POST.get("key_token", "")
    key = kept.kept_key(request, token=token, form_id=form_id)
    form = SubscriptionForm(request.POST, request.FILES, kept_key=key, **kwargs)
    return form, token


def _sharing(form, exclude_pk=None) -> list[str]:
    """Other subscriptions on the same Account ID and Consumer ID: a warning, never a refusal
    (a second subscription of one integration record can be meant, e.g. while migrating)."""
    if form.is_bound:
        data = getattr(form, "cleaned_data", {}) or {}
        account = data.get("account_id") or form.data.get("account_id", "")
        consumer = data.get("consumer_id") or form.data.get("consumer_id", "")
        try:
            account = normalize_account_id(account)
        except InvalidAccountId:
            return []
    else:
        account = form.instance.account_id if form.instance.pk else ""
        consumer = form.instance.consumer_id if form.instance.pk else ""
    return selectors.subscriptions_sharing(
        account_id=account, consumer_id=(consumer or "").strip(), exclude_pk=exclude_pk
    )


def _warn_if_shared(request, subscription) -> None:
    others = selectors.subscriptions_sharing(
        account_id=subscription.account_id,
        consumer_id=subscription.consumer_id,
        exclude_pk=subscription.pk,
    )
    if others:
        messages.warning(
            request,
            f"{', '.join(others)} use{'s' if len(others) == 1 else ''} the same Account ID and "
            "Consumer ID: they share one integration record in NetSuite (its token allowance "
            "and its webhook flags).",
        )


def _refused(request, form, token: str, form_id: str, context: dict, status: int = 200):
    """Render the refused form; a readable key it carried is kept for the next submit."""
    received = form.received_key()
    if received is None:
        kept.drop_key(request, token)
        token = ""
    else:
        token = kept.keep_key(request, token=token, form_id=form_id, key=received)
    form.note_kept(received)
    context.update(form=form, key_token=token)
    context["sharing"] = _sharing(form, exclude_pk=form.instance.pk)
    return render(request, "subscriptions/form.html", context, status=status)


@never_cache
@sensitive_post_parameters("private_key_pem")
@require_http_methods(["GET", "POST"])
@require("add_subscription")
def subscription_create(request):
    context = {"nav": "subscriptions"}
    if request.method != "POST":
        context["form"] = SubscriptionForm()
        return render(request, "subscriptions/form.html", context)
    form, token = _key_form(request, "create")
    if form.is_valid():
        try:
            subscription, key = services.subscription_create(
                data=form.service_data(),
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            kept.drop_key(request, token)
            kept.show_once(
                request, subscription_pk=subscription.pk, webhook_key=key, created=True
            )
            _warn_if_shared(request, subscription)
            return redirect("subscriptions:detail", pk=subscription.pk)
    return _refused(request, form, token, "create", context)


@never_cache
@sensitive_post_parameters("private_key_pem")
@require_http_methods(["GET", "POST"])
@require("change_subscription")
def subscription_edit(request, pk):
    subscription = selectors.subscription_get(pk)
    context = {"nav": "subscriptions", "subscription": subscription}
    if request.method != "POST":
        context["form"] = SubscriptionForm(instance=subscription)
        context["sharing"] = _sharing(context["form"], exclude_pk=subscription.pk)
        return render(request, "subscriptions/form.html", context)

    form_id = f"edit:{subscription.pk}"
    form, token = _key_form(request, form_id, instance=subscription)
    if not form.is_valid():
        return _refused(request, form, token, form_id, context)
    try:
        saved = services.subscription_update(
            subscription=subscription,
            data=form.service_data(),
            expected_revision=form.cleaned_data["revision"],
            opened=form.cleaned_data["opened_snapshot"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _refused(request, form, token, form_id, context)
    except ConflictError as conflict:
        return _conflict(request, form, conflict, token, form_id)
    except Subscription.DoesNotExist:
        raise Http404 from None
    kept.drop_key(request, token)
    if saved.revision == subscription.revision:
        messages.info(request, "Nothing changed, so nothing was saved.")
    else:
        messages.success(request, f"Saved the changes to {saved.name}.")
        _warn_if_shared(request, saved)
    return redirect("subscriptions:detail", pk=saved.pk)


def _conflict(request, form, conflict: ConflictError, token: str, form_id: str):
    """Show what changed meanwhile and a fresh form holding the person's input.

    A field the person left as they found it takes the newly saved value; a field they
    changed keeps their entry. Nothing is saved until they look and save again.
    """
    current = conflict.current
    opened = form.cleaned_data["opened_snapshot"]
    merged = {}
    rows = []
    for field in PLAIN_FIELDS:
        mine = form.cleaned_data[field]
        was, now = opened.get(field), getattr(current, field)
        if was != now:
            label = str(current._meta.get_field(field).verbose_name)
            both = mine != was and mine != now
            rows.append({"label": label, "was": was, "now": now, "mine": mine, "both": both})
            merged[field] = now if mine == was else mine
        else:
            merged[field] = mine
    for label, (was, now) in conflict.changed.items():
        if label not in {row["label"] for row in rows}:
            rows.append({"label": label, "was": was, "now": now, "mine": None, "both": False})
    merged["reason"] = form.cleaned_data["reason"]
    fresh = SubscriptionForm(instance=current, initial=merged)
    received = form.received_key()
    if received is not None:
        token = kept.keep_key(request, token=token, form_id=form_id, key=received)
        fresh.note_kept(received)
    context = {
        "nav": "subscriptions",
        "subscription": current,
        "form": fresh,
        "key_token": token if received is not None else "",
        "conflict_rows": rows,
        "last_change": selectors.subscription_last_change(current.pk),
    }
    return render(request, "subscriptions/form.html", context, status=409)


@never_cache
@require_http_methods(["GET", "POST"])
@require("delete_subscription")
def subscription_delete(request, pk):
    subscription = selectors.subscription_get(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_delete(
                subscription=subscription, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except Subscription.DoesNotExist:
            # Deleted by someone else since this page loaded.
            raise Http404 from None
        messages.success(request, f"Deleted the subscription {subscription.name}.")
        return redirect("subscriptions:list")
    return render(
        request,
        "subscriptions/delete.html",
        {"nav": "subscriptions", "subscription": subscription, "form": form},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@require("change_subscription")
def webhook_key_regenerate(request, pk):
    subscription = selectors.subscription_get(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            key = services.webhook_key_regenerate(
                subscription=subscription, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except Subscription.DoesNotExist:
            raise Http404 from None
        if not is_partial(request):
            # Post/Redirect/Get: a reload of the page must not regenerate the key again.
            kept.show_once(
                request, subscription_pk=subscription.pk, webhook_key=key, created=False
            )
            return redirect("subscriptions:detail", pk=subscription.pk)
        # The panel swapped into the page in place: the address bar keeps the page's URL.
        context = _detail_context(request, subscription, new_webhook_key=key)
        return render(request, "subscriptions/detail.html#webhook_panel", context)
    template = partial_or_page(request, "subscriptions/webhook_key_confirm.html", "confirm")
    return render(request, template, _detail_context(request, subscription, form=form))


@require_GET
def api_url_preview(request):
    """The API URL the typed Account ID leads to, as a fragment beside the field."""
    user = request.user
    if not (has_perm(user, "add_subscription") or has_perm(user, "change_subscription")):
        raise PermissionDenied
    raw = request.GET.get("account_id", "")
    context = {"account_id": raw, "derived_url": None, "problem": None}
    if raw.strip():
        try:
            context["derived_url"] = api_url_for(normalize_account_id(raw))
        except InvalidAccountId as exc:
            context["problem"] = exc.message
    return render(request, "subscriptions/form.html#api_url_preview", context)
