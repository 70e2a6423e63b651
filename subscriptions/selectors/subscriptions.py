"""Read queries for the subscription pages.

None of them loads an encrypted column: pages show a secret's status from the non-secret
columns beside it (key type, fingerprint, digest, date), so no page ever decrypts a secret,
and a key that cannot be decrypted any more does not break a page.
"""

from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from ..models import PLAIN_FIELDS, AuditEvent, Subscription
from .health import with_certificate_expiry, with_health_rank

LIST_COLUMNS = (
    "id",
    "name",
    "account_id",
    "consumer_id",
    "environment",
    "version",
    "private_key_fingerprint",
    "certificate_id",
    "updated_at",
)


# The list's sort orders (the ?sort= value -> ORDER BY), the id last so pages never overlap.
# By name the case-insensitive unique index yields the rows already sorted; by update time,
# health or certificate expiry the database sorts the matching rows (a few thousand
# subscriptions at most). Health sorts worst first (failing, interrupted, not tested,
# healthy), expiry soonest first; subscriptions without an active certificate come last
# either way.
LIST_ORDERS = {
    "name": (Lower("name").asc(), "id"),
    "-name": (Lower("name").desc(), "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "health": ("health_rank", Lower("name").asc(), "id"),
    "-health": ("-health_rank", Lower("name").asc(), "id"),
    "expiry": (F("certificate_expires").asc(nulls_last=True), Lower("name").asc(), "id"),
    "-expiry": (F("certificate_expires").desc(nulls_last=True), Lower("name").asc(), "id"),
}
DEFAULT_ORDER = "name"


def subscription_list(*, search: str = "", order: str = DEFAULT_ORDER):
    """Rows for the list page, one query per page whatever the number of rows.

    ``search`` finds a part of the name or of the Account ID, in any case.
    """
    rows = Subscription.objects.all()
    search = search.strip()
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(account_id__icontains=search))
    if order not in LIST_ORDERS:
        order = DEFAULT_ORDER
    # Only the order asked for pays for its subquery.
    if order.lstrip("-") == "health":
        rows = with_health_rank(rows)
    elif order.lstrip("-") == "expiry":
        rows = with_certificate_expiry(rows)
    return rows.order_by(*LIST_ORDERS[order]).values(*LIST_COLUMNS)


def shared_credentials(rows) -> set[tuple[str, str]]:
    """The (Account ID, Consumer ID) pairs of ``rows`` that more than one subscription uses,
    in one query: two subscriptions of one integration record share its token allowance and
    its webhook flags, which is seldom meant."""
    pairs = {(row["account_id"], row["consumer_id"]) for row in rows}
    if not pairs:
        return set()
    match = Q()
    for account_id, consumer_id in pairs:
        match |= Q(account_id=account_id, consumer_id=consumer_id)
    return {
        (row["account_id"], row["consumer_id"])
        for row in Subscription.objects.filter(match)
        .values("account_id", "consumer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    }


def subscriptions_sharing(*, account_id: str, consumer_id: str, exclude_pk=None) -> list[str]:
    """Names of the other subscriptions with this Account ID and Consumer ID."""
    if not account_id or not consumer_id:
        return []
    others = Subscription.objects.filter(account_id=account_id, consumer_id=consumer_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return list(others.order_by(Lower("name")).values_list("name", flat=True)[:10])


def subscription_get(pk) -> Subscription:
    """One subscription for a page or a form, its secrets left in the database (404 if none)."""
    return get_object_or_404(Subscription.objects.without_secrets(), pk=pk)


def subscription_name(pk) -> str:
    """The subscription's name, or "" when there is none with that id (one query at most)."""
    if pk is None:
        return ""
    return Subscription.objects.filter(pk=pk).values_list("name", flat=True).first() or ""


def subscription_last_change(subscription_id) -> AuditEvent | None:
    """Who saved the subscription last and when, for the conflict message."""
    return (
        AuditEvent.objects.filter(subscription_id=subscription_id)
        .only("actor_name", "created_at", "action")
        .order_by("-id")
        .first()
    )


def subscription_snapshot(subscription: Subscription) -> dict:
    """The non-secret state a form was opened on, to say later what changed meanwhile."""
    snapshot = {field: getattr(subscription, field) for field in PLAIN_FIELDS}
    snapshot["id"] = subscription.pk
    snapshot["revision"] = subscription.revision
    snapshot["private_key_fingerprint"] = subscription.private_key_fingerprint
    set_at = subscription.webhook_api_key_set_at
    snapshot["webhook_api_key_set_at"] = set_at.isoformat() if set_at else ""
    return snapshot


def subscription_page(*, search: str = ""):
    """Subscriptions by name, their secrets left in the database (the API's list, sliced by
    its caller); ``search`` as the list page's."""
    rows = Subscription.objects.without_secrets()
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(account_id__icontains=search))
    return rows.order_by(Lower("name"), "id")
