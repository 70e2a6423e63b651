"""Monitoring on pages other views own: the notices of a list's rows and of one subscription,
and the scheduled-test card of the Connection section.

``{% monitoring_notices rows as notices %}`` reads the notices of a whole list in one query
and ``notices|notices_of:row`` picks a row's; ``{% subscription_notices subscription as n %}``
is what ``subscriptions/_notices.html`` shows; ``{% monitoring_schedule subscription %}``
renders the card with its own context, so the Connection view need not know about it.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from ..forms.monitoring import MonitoringSettingsForm
from ..permissions import has_perm
from ..selectors.health import object_pk
from ..selectors.monitoring import monitoring_settings, shown_notices_map, subscription_notices

register = template.Library()

SCHEDULE_TEMPLATE = "subscriptions/actions/monitoring.html#schedule"
# Who changes the schedule and acknowledges notices: the administrators.
CHANGE_PERMISSION = "change_subscription"


@register.simple_tag
def monitoring_notices(subscriptions):
    return shown_notices_map(list(subscriptions))


@register.filter
def notices_of(notices, subscription):
    return notices.get(object_pk(subscription), []) if notices else []


@register.simple_tag(name="subscription_notices")
def subscription_notices_tag(subscription):
    return subscription_notices(subscription)


@register.simple_tag(takes_context=True)
def monitoring_schedule(context, subscription):
    request = context["request"]
    row = monitoring_settings(subscription)
    card = {
        "subscription": subscription,
        "monitoring": row,
        "return_to": context.get("return_to") or request.get_full_path(),
        "failures_before_notice": settings.MONITORING_FAILURES_BEFORE_NOTICE,
    }
    if has_perm(request.user, CHANGE_PERMISSION):
        card["form"] = MonitoringSettingsForm.for_settings(row)
    return render_to_string(SCHEDULE_TEMPLATE, card, request=request)
