"""What NetSuite's user-event script sends to the dashboard, and how to read it defensively.

The iPaaS bundle's user-event script posts the iPaaS.com generic hook shape,
``{"notifications": [{"scope": "customer/updated", "external_id": "107"}]}``, with the
Webhook API Key as its bearer token. iPaaS.com names scopes ``<collection>/<created|updated|
deleted>`` after its own collections (its documentation shows ``customer/created``,
``customer/updated``, ``transaction/created`` and ``transaction/updated``), and a collection
is coarser than the bundle's modules, so each collection maps to a module like this
(:data:`COLLECTIONS`):

- ``customer/...`` -> Customer; ``transaction/...`` -> Sales Order (the only transaction the
  bundle's script is deployed to); ``location/...`` -> Location;
  ``payment_method/...`` -> Payment Method; ``shipping_method/...`` -> Shipping Item
  (iPaaS.com's "Shipping Method" data type is NetSuite's shipping item).
- ``product/...`` -> Inventory Part or Kit Item, told apart by the notification's
  ``record_type``: the NetSuite record type the script sees (``record.type`` in SuiteScript),
  ``inventoryitem`` or ``kititem``. Without it a product notification is refused: the item's
  type is not looked up, because the dashboard keeps no kit items and asking NetSuite here
  would put a remote call on every delivery.

The script's exact body is not public, so :func:`parse_notification` also accepts a NetSuite
record type as the collection (``kititem/updated``), the module's own slug
(``sales_order/updated``), SuiteScript's event names (``create``/``edit``/``xedit``/
``delete``) and a numeric ``external_id``, and refuses everything else with the list of the
scopes it accepts. A body holds at most :data:`MAX_NOTIFICATIONS` notifications
(:class:`TooManyNotifications`, a 413: split the body) of at most
:data:`MAX_NOTIFICATION_BYTES` each (a 400: that notification is not one the script sends).
Every notification is stored under its canonical scope, ``<record type>/<event>``
(:func:`scope_for`), whatever spelling arrived; the notification itself is kept as sent.

Plain Python without the HTTP client (models import it): the Django side maps a
:class:`Notification` to its model.
"""

from __future__ import annotations

import json
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

# iPaaS.com's collections, the scopes the simulated script sends, and the module each names;
# a product's module is its notification's record_type (PRODUCT_TYPES).
PRODUCT = "product"
COLLECTIONS: dict[str, str | None] = {
    "customer": "customer",
    "transaction": "sales_order",
    PRODUCT: None,
    "location": "location",
    "payment_method": "payment_method",
    "shipping_method": "shipping_item",
}
PRODUCT_TYPES: dict[str, str] = {"inventoryitem": "inventory_part", "kititem": "kit_item"}

# Other names the script may use for a module (its NetSuite record type, the module's own
# slug) and for an event (SuiteScript's UserEventType values).
_MODULE_ALIASES: dict[str, str] = {
    **{record_type: module for module, record_type in RECORD_TYPES.items()},
    **{module: module for module in RECORD_TYPES},
    **{module.replace("_", ""): module for module in RECORD_TYPES},
    **{name: module for name, module in COLLECTIONS.items() if module},
    **{name.replace("_", ""): module for name, module in COLLECTIONS.items() if module},
    "shippingitem": "shipping_item",
}
_EVENT_ALIASES: dict[str, str] = {
    "created": "created", "create": "created",
    "updated": "updated", "update": "updated", "edit": "updated", "xedit": "updated",
    "deleted": "deleted", "delete": "deleted",
}

MAX_EXTERNAL_ID_LENGTH = 255
MAX_EVENT_ID_LENGTH = 255
# One delivery stored 10,000 rows before these: a save in NetSuite sends one notification,
# a batch of them a few hundred at most.
MAX_NOTIFICATIONS = 1000
MAX_NOTIFICATION_BYTES = 16 * 1024  # as compact UTF-8 JSON, the way it is stored

_ACTIONS = "<created|updated|deleted>"
ACCEPTED_SCOPES = ", ".join(
    f"{name}/{_ACTIONS}" + (f" with record_type {' or '.join(PRODUCT_TYPES)}" if not module else "")
    for name, module in COLLECTIONS.items()
) + f", or a NetSuite record type such as {RECORD_TYPES['kit_item']}/{_ACTIONS}"


def scope_for(module: str, event: str) -> str:
    """The canonical scope of a module's event, as stored: ``<record type>/<event>``."""
    return f"{RECORD_TYPES[module]}/{event}"


def notification_for(module: str, event: str, external_id: str) -> dict:
    """A notification as the script sends it: the module's iPaaS.com collection scope, and
    for a product the record type that tells an Inventory Part from a Kit Item."""
    record_type = RECORD_TYPES[module]
    if record_type in PRODUCT_TYPES:
        return {"scope": f"{PRODUCT}/{event}", "record_type": record_type,
                "external_id": external_id}
    collection = next(name for name, named in COLLECTIONS.items() if named == module)
    return {"scope": f"{collection}/{event}", "external_id": external_id}


class InvalidNotification(ValueError):
    """A notification the dashboard cannot use; ``str()`` is the reason sent back (400)."""


class TooManyNotifications(InvalidNotification):
    """A body of more than :data:`MAX_NOTIFICATIONS` notifications (413: split it)."""


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


def resolve_scope(value: Any, record_type: Any = None) -> tuple[str, str]:
    """``(module, event)`` of a scope (and, for ``product/...``, the notification's
    ``record_type``), or :class:`InvalidNotification` naming what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidNotification("scope must be a non-empty string such as customer/updated.")
    text = value.strip().lower()
    collection, slash, action = text.partition("/")
    collection = collection.replace("-", "_").strip()
    event = _EVENT_ALIASES.get(action.strip())
    if not slash or event is None or (
        collection != PRODUCT and collection not in _MODULE_ALIASES
    ):
        raise InvalidNotification(
            f"Unknown scope {value[:80]!r}. Accepted scopes: {ACCEPTED_SCOPES}."
        )
    if collection == PRODUCT:
        return _product_module(value, record_type), event
    return _MODULE_ALIASES[collection], event


def _product_module(scope: str, record_type: Any) -> str:
    if record_type is None or record_type == "":
        raise InvalidNotification(
            f"{scope[:80]!r} needs record_type: {' or '.join(PRODUCT_TYPES)} (a product is an "
            "Inventory Part or a Kit Item)."
        )
    module = PRODUCT_TYPES.get(str(record_type).strip().lower().replace("_", ""))
    if module is None:
        raise InvalidNotification(
            f"record_type {str(record_type)[:40]!r} is not a product the bundle syncs: "
            f"{' or '.join(PRODUCT_TYPES)}."
        )
    return module


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
    size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"))
    if size > MAX_NOTIFICATION_BYTES:
        raise InvalidNotification(
            f"The notification is {size} bytes; at most {MAX_NOTIFICATION_BYTES} are accepted "
            "(a scope, an external_id and little more)."
        )
    module, event = resolve_scope(item["scope"], item.get("record_type", item.get("recordType")))
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
    if len(items) > MAX_NOTIFICATIONS:
        raise TooManyNotifications(
            f"The body holds {len(items)} notifications; at most {MAX_NOTIFICATIONS} are "
            "accepted in one body. Send the rest in further bodies."
        )
    notifications = []
    for index, item in enumerate(items):
        try:
            notifications.append(parse_notification(item))
        except InvalidNotification as exc:
            raise InvalidNotification(f"notifications[{index}]: {exc}") from None
    return notifications
