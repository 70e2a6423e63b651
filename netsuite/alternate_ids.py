"""iPaaS.com's Alternate ID Types, the catalogue initialization transfers first.

They are not a NetSuite table: an alternate-id type names an identifier field that NetSuite
records carry besides their internal ID (product alternate IDs refer to these types, so they
must exist on the iPaaS side before products do). A type's code is the field's name
normalised the way iPaaS.com does: underscores removed, upper case (``external_id`` ->
``EXTERNALID``). Nothing here calls NetSuite: querying an invented custom record for them
would fail in every real account.
"""

from __future__ import annotations

from dataclasses import dataclass


def normalize(field: str) -> str:
    """The alternate-id code of an identifier field: ``external_id`` -> ``EXTERNALID``."""
    return field.replace("_", "").upper()


@dataclass(frozen=True)
class AlternateIdType:
    field: str  # the identifier as iPaaS.com spells it (snake case)
    rest_field: str  # the field NetSuite's REST record API answers (camelCase)
    description: str
    records: tuple[str, ...]  # NetSuite record types that carry it

    @property
    def code(self) -> str:
        return normalize(self.field)

    def as_fields(self) -> dict:
        # In FIELDS' order; a reader shows them in that order (jsonb keeps none).
        return {
            "code": self.code,
            "field": self.field,
            "netsuite_field": self.rest_field,
            "records": list(self.records),
        }


# The fields each type is stored with, in the order people read them.
FIELDS = ("code", "field", "netsuite_field", "records")
_ITEMS = ("inventoryitem", "kititem", "noninventoryitem", "assemblyitem")

ALTERNATE_ID_TYPES: tuple[AlternateIdType, ...] = (
    AlternateIdType("external_id", "externalId",
                    "External ID: the key another system gave the record",
                    ("customer", "vendor", "salesorder", *_ITEMS, "location")),
    AlternateIdType("ref_name", "refName", "Reference name: the record's display reference",
                    ("customer", "vendor", *_ITEMS, "location", "paymentmethod", "shipitem")),
    AlternateIdType("item_id", "itemId", "Item name/number (SKU)", (*_ITEMS, "shipitem")),
    AlternateIdType("upc_code", "upcCode", "UPC code (barcode)", _ITEMS),
    AlternateIdType("mpn", "mpn", "Manufacturer part number", _ITEMS),
    AlternateIdType("vendor_name", "vendorName", "Vendor's name/code for the item", _ITEMS),
    AlternateIdType("entity_id", "entityId", "Entity ID: the customer or vendor number",
                    ("customer", "vendor")),
    AlternateIdType("tran_id", "tranId", "Document number of a transaction", ("salesorder",)),
)
