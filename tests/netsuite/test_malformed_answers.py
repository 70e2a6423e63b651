"""Whatever NetSuite answers, a failure to read it is a NetSuiteError with a hint.

Callers catch ``NetSuiteError`` for remote failures and let ``ValueError``/``KeyError``/
``TypeError`` through as programming errors, so none of those may come out of parsing an answer.
Well-formed JSON of the wrong shape comes from the simulator's fault injection (a fault with
status 200 answers its body); bytes the simulator never sends (broken JSON, a body that breaks
off, a false gzip header) come from a local HTTP server.
"""

import contextlib

import pytest

from netsuite.accounts import GOVERNANCE_PATH, RECORD_PATH, SUITEQL_PATH, TOKEN_PATH
from netsuite.client import NetSuiteClient
from netsuite.errors import (
    AuthenticationError,
    NetSuiteError,
    NetSuiteUnavailableError,
    UnexpectedResponseError,
)

from .helpers import FAST_RETRY, TOKEN_BODY, canned, serve

DEEP = "[" * 100_000  # valid JSON's first bytes, nested past Python's recursion limit


def assert_explained(error: NetSuiteError, cls: type[NetSuiteError] = UnexpectedResponseError):
    assert type(error) is cls
    assert error.message.endswith(".") and error.hint.endswith(".")


def shapes(kind: str, call, *bodies) -> list:
    """Cases of one endpoint ``kind``: ``call(client)`` must fail on each of ``bodies``."""
    return [pytest.param(kind, call, body, id=f"{kind}-{n}") for n, body in enumerate(bodies)]


WRONG_SHAPES = [
    *shapes(
        "token", lambda client: client.fetch_token(force=True),
        ["access_token"],
        "sim1.token-as-a-bare-string",
        {"access_token": ""},
        {"access_token": "t", "expires_in": {"seconds": 3600}},
        {"access_token": "t", "expires_in": None},
        {"access_token": "t", "expires_in": "3600", "token_type": None},
    ),
    *shapes(
        "record", lambda client: list(client.records.list_ids("location")),
        {"items": [{"name": "no id"}], "hasMore": False},
        {"items": ["1", "2"], "hasMore": False},
        {"items": [{"id": None}], "hasMore": False},
        {"items": [{"id": ["1"]}], "hasMore": False},
        {"items": [{"id": True}], "hasMore": False},
        {"items": "1,2,3"},
        [{"id": "1"}],
        "items",
    ),
    *shapes(
        "record", lambda client: client.records.get("location", 1),
        [], "record", 5,
    ),
    *shapes(
        "suiteql", lambda client: list(client.records.suiteql("SELECT id FROM location")),
        {"items": None}, {"items": {"id": "1"}}, {"items": [], "hasMore": True}, "rows", None, 7,
    ),
    *shapes(
        "governance", lambda client: client.records.governance_limits(),
        [], "limits", 5,
    ),
    *shapes(
        "restlet", lambda client: client.webhooks.list_deployments(),
        "not JSON inside a JSON string",
        DEEP,  # a JSON string whose content nests too deep to decode
        {"deployments": "245,246"},
        ["customdeploy_otg_ipaas_customer_sync_ue"],
        [{"scriptid": "customdeploy_otg_ipaas_customer_sync_ue"}],
        [{"scriptdeploymentid": "two hundred"}],
        [{"scriptdeploymentid": None}],
        "[1, 2]",
        5,
    ),
]


@pytest.mark.parametrize(("kind", "call", "body"), WRONG_SHAPES)
def test_answers_of_the_wrong_shape(sim, client, kind, call, body):
    client.fetch_token()
    sim.add_fault(kind=kind, status=200, body=body)
    with pytest.raises(NetSuiteError) as info:
        call(client)
    assert_explained(info.value)
    assert sim.stats()["faults_served"] == 1


@pytest.mark.parametrize("body", [DEEP, "done", 5, ["ok"]])
def test_webhook_manager_flag_answers_are_kept_raw(sim, client, body):
    # The flag answers are informational: what cannot be read as an object is kept as "raw".
    client.fetch_token()
    sim.add_fault(kind="restlet", method="POST", status=200, body=body)
    answer = client.webhooks.set_flags(245, create=True, update=True, delete=True)
    assert set(answer) == {"raw"}


@pytest.fixture
def local_netsuite(creds):
    """A client pointed at a local server answering fixed bytes per path."""
    with contextlib.ExitStack() as stack:

        def start(routes):
            server = stack.enter_context(serve(canned(routes)))
            client = NetSuiteClient(creds, base_url=server.base_url, retry=FAST_RETRY)
            stack.callback(client.close)
            return client

        yield start


LOCATION_1 = f"{RECORD_PATH}/location/1"


@pytest.mark.parametrize("body", [b'{"access_token": "t", ', b"<html>login</html>", DEEP.encode()])
def test_token_bodies_that_are_not_json(local_netsuite, body):
    client = local_netsuite({TOKEN_PATH: (200, body)})
    with pytest.raises(NetSuiteError) as info:
        client.fetch_token()
    assert_explained(info.value)
    assert info.value.status == 200


def test_a_refusal_whose_body_nests_too_deep(local_netsuite):
    client = local_netsuite({TOKEN_PATH: (400, DEEP.encode())})
    with pytest.raises(NetSuiteError) as info:
        client.fetch_token()
    assert_explained(info.value, AuthenticationError)
    assert info.value.detail.startswith("[[[") and len(info.value.detail) <= 500


@pytest.mark.parametrize("body", [b'{"id": "1", ', b"\xff\xfe\x00garbage", DEEP.encode()])
def test_record_bodies_that_are_not_json(local_netsuite, body):
    client = local_netsuite({TOKEN_PATH: (200, TOKEN_BODY), LOCATION_1: (200, body)})
    with pytest.raises(NetSuiteError) as info:
        client.records.get("location", 1)
    assert_explained(info.value)


def test_a_server_error_whose_body_nests_too_deep(local_netsuite):
    client = local_netsuite({TOKEN_PATH: (200, TOKEN_BODY), SUITEQL_PATH: (503, DEEP.encode())})
    with pytest.raises(NetSuiteError) as info:
        list(client.records.suiteql("SELECT id FROM location"))
    assert_explained(info.value, NetSuiteUnavailableError)
    assert info.value.status == 503


def test_an_answer_that_breaks_off_is_unavailable_and_not_repeated(local_netsuite):
    broken = (200, b'{"accountConcurrencyLimit": 5', {"Content-Length": "500"})
    client = local_netsuite({TOKEN_PATH: (200, TOKEN_BODY), GOVERNANCE_PATH: broken})
    client.fetch_token()
    with pytest.raises(NetSuiteError) as info:
        client.records.governance_limits()
    assert_explained(info.value, NetSuiteUnavailableError)
    assert client.stats.requests_sent == 2  # the token and one governance call, no retry


def test_an_answer_with_a_false_gzip_header(local_netsuite):
    garbled = (200, b"this is not gzip", {"Content-Encoding": "gzip"})
    client = local_netsuite({TOKEN_PATH: (200, TOKEN_BODY), LOCATION_1: garbled})
    with pytest.raises(NetSuiteError) as info:
        client.records.get("location", 1)
    assert_explained(info.value)
