"""The metadata catalog's references, read as NetSuite answers them.

NetSuite answers a sales order's ``item`` sublist as a ``$ref`` to ``salesOrder-itemCollection``,
whose items refer to ``salesOrder-itemElement``, where the ``custcol_`` fields are. The simulator
serves that shape (and, switched, the older inline one); its faults stand in for a catalog that
loops, nests without end or points elsewhere, each of which must end in a typed error, and the
token must never travel to a host or path outside the account's own catalog.
"""

from urllib.parse import urlsplit

import pytest

from netsuite.accounts import METADATA_PATH, api_url_for
from netsuite.bundle import TAX_BODY_FIELDS, TAX_LINE_FIELDS
from netsuite.errors import (
    MetadataReferenceCycleError,
    MetadataReferenceError,
    MetadataReferenceLimitError,
    MetadataReferenceRefusedError,
    ScopeError,
    UnexpectedResponseError,
)
from netsuite.records import MAX_METADATA_REFERENCES, SCHEMA_JSON
from netsuite.simulator import Simulator, SimulatorRefused
from netsuite.simulator.state import METADATA_SHAPES

from .helpers import ACCOUNT

COLLECTION = "salesOrder-itemCollection"
ELEMENT = "salesOrder-itemElement"
SCHEMA = {"Accept": SCHEMA_JSON}


def catalog(sim) -> str:
    return f"{sim.base_url}{METADATA_PATH}"


def tax_presence(client):
    return client.records.fields_present(
        "salesorder", TAX_BODY_FIELDS, {"item": TAX_LINE_FIELDS}
    )


def answer(sim, name: str, body: dict) -> None:
    """The catalog entry ``name`` answers ``body`` once (a catalog NetSuite might serve)."""
    sim.add_fault(kind="record", path_prefix=f"{METADATA_PATH}/{name}", status=200, body=body)


def collection_of(element_ref: str) -> dict:
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": element_ref}},
    }}


def catalog_reads(sim) -> list[str]:
    return [seen["path"].rsplit("/", 1)[-1] for seen in sim.requests_seen()
            if seen["path"].startswith(METADATA_PATH + "/")]


# -- the shape served ------------------------------------------------------------------------


def test_the_item_sublist_is_two_references_to_the_accounts_own_catalog(sim, client):
    schema = client.records.metadata("salesorder")
    assert schema["properties"]["item"]["$ref"] == f"{catalog(sim)}/{COLLECTION}"
    response = client.request("GET", f"{catalog(sim)}/{COLLECTION}", headers=SCHEMA)
    assert response.headers["Content-Type"].startswith(SCHEMA_JSON)
    items = response.json()["properties"]["items"]
    assert items["type"] == "array"
    assert items["items"] == {"$ref": f"{catalog(sim)}/{ELEMENT}"}
    element = client.request_json("GET", f"{catalog(sim)}/{ELEMENT}", headers=SCHEMA)
    for name in TAX_LINE_FIELDS:
        assert element["properties"][name]["x-ns-custom-field"] is True
    # Catalog names are case-insensitive, as record types are.
    assert client.request_json(
        "GET", f"{catalog(sim)}/{ELEMENT.lower()}", headers=SCHEMA
    ) == element


@pytest.mark.parametrize("shape", METADATA_SHAPES)
def test_each_shape_reads_present_and_hidden_line_fields(sim, client, shape):
    assert sim.set_metadata_shape(ACCOUNT, shape)["metadata_shape"] == shape
    assert tax_presence(client).complete
    for field in TAX_LINE_FIELDS:
        sim.set_field_present(ACCOUNT, "salesorder", field, False, sublist="item")
        presence = tax_presence(client)
        assert presence.missing == [f"item.{field}"]
        assert presence.body == {name: True for name in TAX_BODY_FIELDS}
        sim.set_field_present(ACCOUNT, "salesorder", field, True, sublist="item")
    expected = [COLLECTION, ELEMENT] if shape == "referenced" else []
    assert catalog_reads(sim)[-len(expected) - 1:] == ["salesorder", *expected]


def test_the_shape_is_switched_over_http_and_refused_when_unknown(admin, client):
    assert admin.set_metadata_shape(ACCOUNT, "inline")["metadata_shape"] == "inline"
    assert "properties" in client.records.metadata("salesorder")["properties"]["item"]
    assert admin.setup_state(ACCOUNT)["metadata_shape"] == "inline"
    with pytest.raises(SimulatorRefused):
        admin.set_metadata_shape(ACCOUNT, "nested")


def test_a_role_denied_the_record_is_denied_its_sublist_entries(sim, client, creds):
    sim.update_integration(creds.consumer_id, denied_records=["salesorder"])
    with pytest.raises(ScopeError) as info:
        client.request("GET", f"{catalog(sim)}/{ELEMENT}", headers=SCHEMA)
    assert info.value.status == 403


# -- references the client resolves ----------------------------------------------------------


@pytest.mark.parametrize("ref", [ELEMENT, f"{METADATA_PATH}/{ELEMENT}", "real host"])
def test_relative_and_real_host_references_are_read_from_the_catalog(sim, client, ref):
    if ref == "real host":
        # NetSuite writes its own host; behind a base URL that is re-rooted there.
        real = urlsplit(api_url_for(client.urls.account_id))
        ref = f"{real.scheme}://{real.netloc}{METADATA_PATH}/{ELEMENT}"
    answer(sim, COLLECTION, collection_of(ref))
    sim.set_field_present(ACCOUNT, "salesorder", TAX_LINE_FIELDS[0], False, sublist="item")
    assert tax_presence(client).missing == [f"item.{TAX_LINE_FIELDS[0]}"]
    assert catalog_reads(sim)[-3:] == ["salesorder", COLLECTION, ELEMENT]


@pytest.mark.parametrize("loop_to", ["salesOrder", COLLECTION])
def test_a_reference_cycle_fails_clearly(sim, client, loop_to):
    answer(sim, COLLECTION, {"$ref": f"{catalog(sim)}/salesOrder-loop"})
    answer(sim, "salesOrder-loop", collection_of(f"{catalog(sim)}/{loop_to}"))
    with pytest.raises(MetadataReferenceCycleError) as info:
        tax_presence(client)
    assert "refers back" in info.value.message
    assert loop_to in info.value.detail
    assert catalog_reads(sim) == ["salesorder", COLLECTION, "salesOrder-loop"]


def test_an_endless_chain_stops_at_the_limit(sim, client):
    links = [COLLECTION, *(f"salesOrder-chain{n:02d}" for n in range(1, 20))]
    for name, following in zip(links, links[1:], strict=False):
        answer(sim, name, {"$ref": f"{catalog(sim)}/{following}"})
    with pytest.raises(MetadataReferenceLimitError) as info:
        tax_presence(client)
    assert "more references than the client follows" in info.value.message
    assert catalog_reads(sim) == ["salesorder", *links[:MAX_METADATA_REFERENCES]]


def test_a_reference_the_catalog_lacks_says_which(sim, client):
    answer(sim, COLLECTION, collection_of(f"{catalog(sim)}/salesOrder-nothingElement"))
    with pytest.raises(MetadataReferenceError) as info:
        tax_presence(client)
    assert "salesOrder-nothingElement" in info.value.message
    assert info.value.status == 404


def test_a_referenced_entry_that_is_no_schema_is_unexpected(sim, client):
    sim.add_fault(kind="record", path_prefix=f"{METADATA_PATH}/{COLLECTION}", status=200,
                  body=["not", "a", "schema"])
    with pytest.raises(UnexpectedResponseError) as info:
        tax_presence(client)
    assert COLLECTION in info.value.message


# -- references the client refuses -----------------------------------------------------------


@pytest.fixture
def elsewhere():
    """Another NetSuite-like server on loopback: a reference to it must never reach it."""
    with Simulator() as other:
        yield other


@pytest.mark.parametrize("where", [
    "other port", "other host", "scheme-relative", "user", "record API", "token endpoint",
    "dot segments", "query",
])
def test_a_reference_outside_the_accounts_catalog_is_refused(sim, client, elsewhere, where):
    own = catalog(sim)
    ref = {
        "other port": f"{elsewhere.base_url}{METADATA_PATH}/{ELEMENT}",
        "other host": f"https://evil.example.com{METADATA_PATH}/{ELEMENT}",
        "scheme-relative": f"//evil.example.com{METADATA_PATH}/{ELEMENT}",
        "user": own.replace("://", "://someone@") + f"/{ELEMENT}",
        "record API": f"{sim.base_url}/services/rest/record/v1/customer/1",
        "token endpoint": "/services/rest/auth/oauth2/v1/token",
        "dot segments": f"{own}/../customer/1",
        "query": f"{own}/{ELEMENT}?select=x",
    }[where]
    answer(sim, COLLECTION, collection_of(ref))
    with pytest.raises(MetadataReferenceRefusedError) as info:
        tax_presence(client)
    assert "outside this account's own catalog" in info.value.message
    assert catalog_reads(sim) == ["salesorder", COLLECTION]
    assert elsewhere.requests_seen() == []
    assert [seen["kind"] for seen in sim.requests_seen()] == ["token", "record", "record"]
