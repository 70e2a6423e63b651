"""What a page shows for a stored key: the label a person reads, never the key itself.

One place for every kind of key a page prints: modules (``inventory_part`` -> "Inventory
Part", from netsuite/bundle.py), data types (``alternateidtype`` -> "Alternate ID Type", from
the DataTypes initialization and polling transfer), NetSuite's governance limit types
(``accountLimit``) and the audit trail's target types (``auth_details``). A key missing from
its table reads as itself made readable, so a new one never breaks a page.

    {% load labels %}{{ row.module|module_label }} {{ key|data_type_label }}
"""

from __future__ import annotations

from django import template

from netsuite.bundle import MODULE_LABELS

from ..services.inventory import INVENTORY_LEVEL
from ..services.polling import RECORD_TYPES

register = template.Library()

DATA_TYPE_LABELS: dict[str, str] = {
    **{key: data_type.label for key, data_type in RECORD_TYPES.items()},
    INVENTORY_LEVEL.key: INVENTORY_LEVEL.label,
}

# integrationLimitType in NetSuite's governance answer.
LIMIT_TYPE_LABELS: dict[str, str] = {
    "accountLimit": "shares the account's limit",
    "integrationSpecific": "a limit of its own",
}

# AuditEvent.target_type: a model's name, or the name a service gave what it acted on.
TARGET_TYPE_LABELS: dict[str, str] = {
    "auditevent": "Audit trail",
    "auth_details": "Auth Details",
    "certificate": "Certificate",
    "connectiontest": "Connection test",
    "encryption": "Encryption keys",
    "inboundevent": "Inbound event",
    "job": "Job",
    "monitoringnotice": "Notice",
    "monitoringsettings": "Scheduled connection tests",
    "subscription": "Subscription",
    "user": "Person",
    "webhook": "Webhook",
    "webhookstate": "Webhook",
}


# The columns a records page shows, by SuiteQL's lower-case names (and the alternate-id
# types' own fields).
RECORD_FIELD_LABELS: dict[str, str] = {
    "id": "Internal ID",
    "name": "Name",
    "isinactive": "Inactive",
    "itemid": "Item name/number",
    "displayname": "Display name",
    "code": "Code",
    "field": "Field (iPaaS.com)",
    "netsuite_field": "Field (NetSuite)",
    "records": "Record types",
    "item": "Item",
    "location": "Location",
    "quantityonhand": "On hand",
    "quantityavailable": "Available",
    "quantityonorder": "On order",
    "quantitycommitted": "Committed",
    "lastquantityavailablechange": "Available changed",
}


def readable(key) -> str:
    """``some_key`` -> "Some key": a key no table names, still not shown raw."""
    text = str(key or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def module_label(key) -> str:
    return MODULE_LABELS.get(key) or readable(key)


@register.filter
def data_type_label(key) -> str:
    return DATA_TYPE_LABELS.get(key) or readable(key)


@register.filter
def limit_type_label(key) -> str:
    return LIMIT_TYPE_LABELS.get(key) or readable(key)


@register.filter
def target_type_label(key) -> str:
    return TARGET_TYPE_LABELS.get(key) or readable(key)


@register.filter
def record_field_label(name) -> str:
    return RECORD_FIELD_LABELS.get(name) or readable(name)
