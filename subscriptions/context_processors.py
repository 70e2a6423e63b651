from django.conf import settings

from .permissions import user_role

# The id of the part of a subscription's page its section tabs swap (templates/subscriptions/
# actions/page.html); a tab's request names it in HX-Target.
SECTION_TARGET = "subscription-section"
SECTION_ONLY = "subscriptions/actions/section_only.html"


def _section_frame(request) -> str:
    """What a subscription's section page extends: the whole page, or for a section tab's
    request (a boosted link aimed at the section) only the section, which htmx swaps in."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.boosted and htmx.target == SECTION_TARGET:
        return SECTION_ONLY
    return "base.html"


def dashboard(request):
    user = getattr(request, "user", None)
    return {
        "netsuite_base_url": settings.NETSUITE_BASE_URL,
        "netsuite_simulator": settings.NETSUITE_SIMULATOR,
        "current_role": user_role(user) if user is not None else None,
        "section_frame": _section_frame(request),
    }
