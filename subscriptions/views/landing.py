"""Where a person lands after logging in (``LOGIN_REDIRECT_URL``): the page of their daily work.

Django's login view goes to an explicit, safe ``next`` itself and comes here only without one;
this view honours a ``next`` of this site as well, so a link to it can carry one.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from ..permissions import has_perm
from ..selectors.subscriptions import first_subscription_pk


def landing_url(user) -> str:
    """Administrators: the subscription list. Support staff (who act on webhooks but do not
    change subscriptions): the Webhooks section of the first subscription, or the list when
    there is none. Auditors: the audit trail."""
    if has_perm(user, "change_subscription"):
        return reverse("subscriptions:list")
    if has_perm(user, "toggle_webhooks"):
        pk = first_subscription_pk()
        if pk is not None:
            return reverse("subscriptions:webhooks", args=[pk])
        return reverse("subscriptions:list")
    if has_perm(user, "view_auditevent"):
        return reverse("subscriptions:audit_list")
    return reverse("subscriptions:list")


@require_GET
def landing(request):
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(landing_url(request.user))
