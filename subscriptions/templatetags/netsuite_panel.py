"""Template tags that put the NetSuite actions on pages other views own.

``{% netsuite_panel subscription %}`` renders the panel of the subscription page with its own
context (the detail view need not know about it); ``{% netsuite_health subscriptions as h %}``
fetches the health of a whole list in two queries, and ``h|health_of:subscription`` picks one.
"""

from django import template
from django.template.loader import render_to_string

from ..selectors_netsuite import health_map, object_pk

register = template.Library()


@register.simple_tag(takes_context=True)
def netsuite_panel(context, subscription):
    from ..views.netsuite_actions import panel_context

    request = context["request"]
    return render_to_string(
        "subscriptions/actions/panel.html", panel_context(request, subscription), request=request
    )


@register.simple_tag
def netsuite_health(subscriptions):
    return health_map(list(subscriptions))


@register.filter
def health_of(health, subscription):
    return health.get(object_pk(subscription)) if health else None
