"""The sections of a subscription's page: one table of tabs, and the tab a view belongs to.

Each section is a page of its own (a real URL, working without JavaScript); the tabs swap only
the section with htmx (``templates/subscriptions/_section_tabs.html``). A tab is shown only
to people holding the permission its view requires, so nobody is offered a 403.
"""

from django import template
from django.urls import reverse

from ..permissions import has_perm

register = template.Library()

# key, tab label, URL name of the section's page, the permission that page requires.
SECTIONS = (
    ("overview", "Overview", "detail", "view_subscription"),
    ("connection", "Connection", "connection_tests", "view_subscription"),
    ("certificate", "Certificate", "certificates", "view_subscription"),
    ("webhooks", "Webhooks", "webhooks", "view_subscription"),
    ("auth_details", "Auth Details", "auth_details", "view_subscription"),
    ("governance", "Governance", "governance", "change_subscription"),
    ("jobs", "Jobs", "subscription_jobs", "view_jobs"),
    ("inventory", "Inventory", "inventory", "view_jobs"),
    ("events", "Events", "events", "view_inbound_events"),
    ("history", "History", "subscription_history", "view_auditevent"),
)

# The section a view's page belongs to, by the start of its URL name: the pages an action
# shows without JavaScript (a confirmation step, a refused form) stay under their tab.
_VIEW_PREFIXES = (
    ("detail", "overview"),
    ("connection_test", "connection"),
    ("setup_check", "connection"),
    ("certificate", "certificate"),
    ("webhook", "webhooks"),
    ("auth_details", "auth_details"),
    ("governance", "governance"),
    ("subscription_jobs", "jobs"),
    ("initialization", "jobs"),
    ("records", "jobs"),
    ("inventory", "inventory"),
    ("events", "events"),
    ("subscription_history", "history"),
)


def section_of(url_name: str | None) -> str | None:
    for prefix, key in _VIEW_PREFIXES:
        if url_name and url_name.startswith(prefix):
            return key
    return None


def visible_sections(user, subscription_pk: int, current: str | None = None) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "url": reverse(f"subscriptions:{url_name}", args=[subscription_pk]),
            "current": key == current,
        }
        for key, label, url_name, perm in SECTIONS
        if has_perm(user, perm)
    ]


@register.inclusion_tag("subscriptions/_section_tabs.html", takes_context=True)
def section_tabs(context, subscription):
    request = context["request"]
    match = request.resolver_match
    current = section_of(match.url_name if match else None)
    return {"tabs": visible_sections(request.user, subscription.pk, current)}
