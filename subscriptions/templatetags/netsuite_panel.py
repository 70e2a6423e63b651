"""Template tags that put the NetSuite actions on pages other views own.

``{% netsuite_panel subscription %}`` renders the panel of the subscription page with its own
context (the detail view need not know about it); ``{% netsuite_health subscriptions as h %}``
fetches the health of a whole list in two queries, and ``h|health_of:subscription`` picks one.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from ..forms.certificates import CertificateIdForm, GenerateCertificateForm, UploadCertificateForm
from ..problems import hint_parts
from ..selectors.certificates import certificate_overview
from ..selectors.connection_tests import latest_own_test
from ..selectors.health import health_map, object_pk

register = template.Library()


@register.simple_tag(takes_context=True)
def netsuite_panel(context, subscription):
    """The NetSuite panel of the subscription page (local data only: NetSuite is not asked)."""
    request = context["request"]
    panel = {
        "subscription": subscription,
        "test": latest_own_test(subscription),
        "overview": certificate_overview(subscription),
        "generate_form": GenerateCertificateForm(),
        "upload_form": UploadCertificateForm(),
        "id_form": CertificateIdForm(),
        "return_to": request.get_full_path(),
        "simulator": settings.NETSUITE_SIMULATOR,
    }
    return render_to_string("subscriptions/actions/panel.html", panel, request=request)


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
