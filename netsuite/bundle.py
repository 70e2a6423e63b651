"""What the iPaaS bundle installs in NetSuite, by the names NetSuite knows it by.

The seed document's prerequisites, in one place for the client, the simulator and the
dashboard's setup check: the Webhook Manager RESTlet, the user-event deployments per module
(``MODULES``), the "iPaaS Auth Details" custom record with its three fields, and the
Sales Order tax override fields (header and item lines).
"""

from __future__ import annotations

AUTH_DETAILS_RECORD = "customrecord_otg_ipaas_auth_details"
WEBHOOK_FIELD = "custrecord_otg_ipaas_webhook"
TOKEN_FIELD = "custrecord_otg_ipaas_access_token"
GUID_FIELD = "custrecord_otg_ipaas_tracking_guid"
AUTH_DETAILS_FIELDS = (WEBHOOK_FIELD, TOKEN_FIELD, GUID_FIELD)
AUTH_DETAILS_FIELD_LABELS = {
    WEBHOOK_FIELD: "iPaaS Webhook URL",
    TOKEN_FIELD: "iPaaS Webhook API Key (access token)",
    GUID_FIELD: "Tracking GUID",
}

SALES_ORDER = "salesorder"
ITEM_SUBLIST = "item"
TAX_BODY_FIELDS = (
    "custbody_otg_ipaas_total_tax",
    "custbody_otg_ipaas_tax_code",
    "custbody_otg_ipaas_tax_rate",
)
TAX_LINE_FIELDS = ("custcol_otg_ipaas_tax_code", "custcol_otg_ipaas_tax_rate")

# The modules the bundle's user-event script is deployed to (the seed's list), by slug and
# label: the Webhook Manager's deployments, the inbound scopes and the events all use them.
MODULES: tuple[tuple[str, str], ...] = (
    ("customer", "Customer"),
    ("inventory_part", "Inventory Part"),
    ("kit_item", "Kit Item"),
    ("location", "Location"),
    ("payment_method", "Payment Method"),
    ("sales_order", "Sales Order"),
    ("shipping_item", "Shipping Item"),
)
MODULE_LABELS = dict(MODULES)
