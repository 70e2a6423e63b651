"""Template tags that put NetSuite facts on pages other views own.

``{% netsuite_panel subscription %}`` renders the NetSuite summary of a subscription's Overview
(connection health, certificate expiry, webhook flags set here) with its own context, so the
detail view need not know about it; ``{% netsuite_health subscriptions as h %}`` fetches the
health of a whole list in two queries, and ``h|health_of:subscription`` picks one.
"""

from django import template
from django.template.loader import render_to_string

from ..problems import hint_parts
from ..selectors.health import health_map, object_pk, subscription_health
from ..selectors.webhooks import webhook_flags_on

register = template.Library()


@register.simple_tag(takes_context=True)
def netsuite_panel(context, subscription):
    """The NetSuite summary of the Overview (local data only: NetSuite is not asked)."""
    panel = {
        "subscription": subscription,
        "health": subscription_health(subscription),
        "webhooks": webhook_flags_on(subscription),
    }
    return render_to_string("subscriptions/actions/panel.html", panel, request=context["request"])


@register.simple_tag
def netsuite_health(subscriptions):
    return health_map(list(subscriptions))


@register.filter
def health_of(health, subscription):
    return health.get(object_pk(subscription)) if health else None


@register.filter
def hint_list(hint: str):
    """A hint as list items for includes/notice.html (problems.hint_parts)."""
    return hint_parts(hint)
