"""Where a person lands after logging in (``LOGIN_REDIRECT_URL``): the page of their daily work.

Django's login view goes to an explicit, safe ``next`` itself and comes here only without one;
this view honours a ``next`` of this site as well, so a link to it can carry one. The site's
root (``/``) leads here too, so ``/login/?next=/`` (where ``/`` sends a person without a
session) lands by role like a login without ``next``.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from ..permissions import has_perm


def landing_url(user) -> str:
    """Administrators: the subscription list. Support staff (who act on webhooks but do not
    change subscriptions): the webhooks of every subscription. Auditors: the audit trail."""
    if has_perm(user, "change_subscription"):
        return reverse("subscriptions:list")
    if has_perm(user, "toggle_webhooks"):
        return reverse("subscriptions:webhooks_overview")
    if has_perm(user, "view_auditevent"):
        return reverse("subscriptions:audit_list")
    return reverse("subscriptions:list")


@require_GET
def landing(request):
    target = request.GET.get("next", "")
    # "/" is where everybody starts, not a page asked for: it counts as no "next".
    if (
        target not in ("/", request.path)
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(target)
    return redirect(landing_url(request.user))
