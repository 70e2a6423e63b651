"""What NetSuite's user-event script sends to the dashboard, and how to read it defensively.

The iPaaS bundle's user-event script posts the iPaaS.com generic hook shape,
``{"notifications": [{"scope": "customer/updated", "external_id": "107"}]}``, with the
Webhook API Key as its bearer token. iPaaS.com names scopes ``<collection>/<created|updated|
deleted>`` (its own documentation shows ``customer/created``, ``customer/updated`` and
``transaction/updated``), but its collection names are coarser than the bundle's modules
(Inventory Part and Kit Item are both "products"), so one scope per module and event needs a
name per module: the NetSuite record type the script sees (``record.type`` in SuiteScript:
``inventoryitem``, ``kititem``, ...). The script's exact body is not documented (the seed says
"a body like"), so :func:`parse_notification` also accepts the spellings a script may plausibly
use (SuiteScript's own event names ``create``/``edit``/``xedit``/``delete``, iPaaS.com's
``transaction`` for the sales order, a numeric ``external_id``) and refuses everything else
with a reason.

Plain Python without the HTTP client (models import it): the Django side maps a
:class:`Notification` to its model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENTS: tuple[str, ...] = ("created", "updated", "deleted")

# module slug -> NetSuite record type: the REST record API path of a module's records
# (Manual sync reads them there) and the scope prefix the script sends.
RECORD_TYPES: dict[str, str] = {
    "customer": "customer",
    "inventory_part": "inventoryitem",
    "kit_item": "kititem",
    "location": "location",
    "payment_method": "paymentmethod",
    "sales_order": "salesorder",
    "shipping_item": "shipitem",
}

# The one table of scopes: one per module and event, e.g. "inventoryitem/updated".
SCOPES: dict[str, tuple[str, str]] = {
    f"{record_type}/{event}": (module, event)
    for module, record_type in RECORD_TYPES.items()
    for event in EVENTS
}

# Other names the script may use for a module (iPaaS.com's collection for a sales order, the
# module's own slug) and for an event (SuiteScript's UserEventType values).
_MODULE_ALIASES: dict[str, str] = {
    **{record_type: module for module, record_type in RECORD_TYPES.items()},
    **{module: module for module in RECORD_TYPES},
    **{module.replace("_", ""): module for module in RECORD_TYPES},
    "transaction": "sales_order",
    "shippingitem": "shipping_item",
    "shipitem": "shipping_item",
}
_EVENT_ALIASES: dict[str, str] = {
    "created": "created", "create": "created",
    "updated": "updated", "update": "updated", "edit": "updated", "xedit": "updated",
    "deleted": "deleted", "delete": "deleted",
}

MAX_EXTERNAL_ID_LENGTH = 255
MAX_EVENT_ID_LENGTH = 255


def scope_for(module: str, event: str) -> str:
    """The canonical scope of a module's event (the one the simulator's script sends)."""
    return f"{RECORD_TYPES[module]}/{event}"


class InvalidNotification(ValueError):
    """A notification the dashboard cannot use; ``str()`` is the reason sent back (400)."""


@dataclass(frozen=True)
class Notification:
    module: str
    event: str
    scope: str  # canonical, whatever spelling arrived
    external_id: str
    # An identity of the change itself, when the sender gives one (``event_id``, else a
    # ``timestamp``): duplicates are then recognised exactly instead of within a time window.
    event_id: str = ""
    # The notification as it arrived, kept beside the event.
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def resolve_scope(value: Any) -> tuple[str, str]:
    """``(module, event)`` of a scope, or :class:`InvalidNotification` naming what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidNotification("scope must be a non-empty string such as customer/updated.")
    text = value.strip().lower()
    collection, slash, action = text.partition("/")
    module = _MODULE_ALIASES.get(collection.replace("-", "_").strip())
    event = _EVENT_ALIASES.get(action.strip())
    if not slash or module is None or event is None:
        known = ", ".join(sorted(SCOPES)[:3])
        raise InvalidNotification(
            f"Unknown scope {value[:80]!r}: expected <record type>/<created|updated|deleted>, "
            f"e.g. {known}."
        )
    return module, event


def _identifier(value: Any, name: str, limit: int, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise InvalidNotification(f"{name} is missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidNotification(f"{name} must be a string or an integer.")
    text = str(value).strip()
    if not text:
        if required:
            raise InvalidNotification(f"{name} is empty.")
        return ""
    if len(text) > limit:
        raise InvalidNotification(f"{name} is longer than {limit} characters.")
    return text


def parse_notification(item: Any) -> Notification:
    """One entry of ``notifications``, checked; :class:`InvalidNotification` otherwise."""
    if not isinstance(item, dict):
        raise InvalidNotification("Each notification must be a JSON object.")
    if "scope" not in item:
        raise InvalidNotification("scope is missing.")
    module, event = resolve_scope(item["scope"])
    external_id = _identifier(
        item.get("external_id", item.get("externalId")), "external_id",
        MAX_EXTERNAL_ID_LENGTH, required=True,
    )
    event_id = _identifier(
        item.get("event_id", item.get("timestamp")), "event_id", MAX_EVENT_ID_LENGTH,
        required=False,
    )
    return Notification(
        module=module, event=event, scope=scope_for(module, event), external_id=external_id,
        event_id=event_id, raw=item,
    )


def parse_body(data: Any) -> list[Notification]:
    """Every notification of a decoded body, or :class:`InvalidNotification` for the first
    bad one (so nothing of a partly bad body is stored)."""
    if isinstance(data, list):
        items = data  # a bare list of notifications: accepted, the script's shape is uncertain
    elif isinstance(data, dict) and "notifications" in data:
        items = data["notifications"]
    elif isinstance(data, dict) and "scope" in data:
        items = [data]  # one notification without the envelope
    else:
        raise InvalidNotification('The body must be {"notifications": [...]}.')
    if not isinstance(items, list):
        raise InvalidNotification("notifications must be a list.")
    if not items:
        raise InvalidNotification("notifications is empty.")
    notifications = []
    for index, item in enumerate(items):
        try:
            notifications.append(parse_notification(item))
        except InvalidNotification as exc:
            raise InvalidNotification(f"notifications[{index}]: {exc}") from None
    return notifications
