"""``{% setup_checklist subscription %}``: the Overview's set-up checklist, with its own context.

A new subscription is saved from its Name, Account ID and Consumer ID alone; its Overview then
leads through the seed's remaining steps, each done or to do by stored state
(``selectors.setup_progress``), each linking to where it is done. The tag keeps the detail
view unaware of it, as ``netsuite_panel`` does for the NetSuite summary.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from ..selectors.certificates import active_certificate
from ..selectors.setup_progress import setup_progress, setup_refusal

register = template.Library()


@register.simple_tag(takes_context=True)
def setup_checklist(context, subscription):
    progress = setup_progress(subscription)
    checklist = {
        "subscription": subscription,
        "progress": progress,
        "refusal": setup_refusal(subscription),
        # The certificate to download in the NetSuite step, when it was made or uploaded here.
        "certificate": active_certificate(subscription) if not progress.complete else None,
        "simulator": settings.NETSUITE_SIMULATOR,
    }
    return render_to_string(
        "subscriptions/_setup_checklist.html", checklist, request=context["request"]
    )


@register.filter(name="setup_refusal")
def setup_refusal_filter(subscription) -> str:
    """Why the NetSuite buttons of a section are off (the missing set-up step), or ""."""
    return setup_refusal(subscription)
