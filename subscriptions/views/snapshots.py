"""NetSuite's last answers for read-only viewers, and their "Refresh from NetSuite".

Auditors, and support where they cannot change a section (Auth Details, the certificates
NetSuite holds), used to cost a NetSuite call per page view. They are shown the snapshot the
last successful read kept (services/snapshots.py) with when NetSuite answered; the first view
of a section never read reads it once, as a refresh. A refresh is a POST for anyone who may
view the section, at most one per subscription and read per NETSUITE_REFRESH_SECONDS for them
all together. Whoever may change the section keeps reading NetSuite live.
"""

from __future__ import annotations

from django.http import Http404
from django.views.decorators.http import require_POST

from ..models import NetSuiteSnapshot
from ..permissions import has_perm, require
from ..problems import Problem, Success
from ..selectors.snapshots import refresh_allowed_at, snapshot_of
from ..selectors.subscriptions import subscription_get
from ..services import auth_details as auth_details_service
from ..services import rotation as rotation_service
from ..services import webhooks as webhook_service
from ..services.snapshots import RefreshTooSoon
from .htmx import back, flash

Kind = NetSuiteSnapshot.Kind

# kind -> (the permission that makes the section live, known, refresh, the section's URL name)
READS = {
    Kind.AUTH_DETAILS: (
        "edit_auth_details",
        auth_details_service.auth_details_known,
        auth_details_service.auth_details_refresh,
        "subscriptions:auth_details",
    ),
    Kind.NETSUITE_CERTIFICATES: (
        "manage_certificates",
        rotation_service.certificate_netsuite_known,
        rotation_service.certificate_netsuite_refresh,
        "subscriptions:certificates",
    ),
    Kind.WEBHOOK_TABLE: (
        "toggle_webhooks",
        webhook_service.webhook_known,
        webhook_service.webhook_refresh,
        "subscriptions:webhooks",
    ),
}


def reads_live(user, kind: str) -> bool:
    """Whether this viewer may change the section, and so reads NetSuite on every view."""
    return has_perm(user, READS[kind][0])


def known_table(request, subscription, kind: str):
    """The section's table from NetSuite's last answer; a section never read is read once
    (a refresh: the shared window allows it). None when it cannot be read yet."""
    _perm, known, refresh, _url = READS[kind]
    table = known(subscription=subscription)
    if table is not None:
        return table
    try:
        return refresh(subscription=subscription, actor=request.user)
    except RefreshTooSoon:
        return None


def snapshot_context(subscription, kind: str) -> dict:
    """What the "As NetSuite answered at" line and the Refresh button need."""
    snapshot = snapshot_of(subscription, kind)
    return {"kind": kind, "allowed_at": refresh_allowed_at(snapshot), "snapshot": snapshot}


@require_POST
@require("view_subscription")
def netsuite_refresh(request, pk, kind):
    """Read one table from NetSuite now, if the shared window allows; back to the section."""
    subscription = subscription_get(pk)
    if kind not in READS:
        raise Http404("No such NetSuite read.")
    _perm, _known, refresh, url = READS[kind]
    try:
        table = refresh(subscription=subscription, actor=request.user)
    except RefreshTooSoon as exc:
        flash(request, Problem(exc.message))
    else:
        flash(request, table.problem or Success("Read from NetSuite just now."))
    return back(request, url, pk=subscription.pk)
