"""RESTlet content type: without one, NetSuite answers plain text and an object-returning script
fails ("Creating a Content-Type Header", Oracle's RESTlet help). The simulator refuses such calls
the same way, and the client sends the JSON content type on every RESTlet call."""

import pytest
import requests

from .helpers import ACCOUNT


def _bearer(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.fetch_token().value}"}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_the_simulator_refuses_a_bodyless_restlet_call_without_a_content_type(client, method):
    params = {"id": 245} if method == "DELETE" else None
    answer = requests.request(
        method, client.webhooks.url, headers=_bearer(client), params=params, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "code": "INVALID_RETURN_DATA_FORMAT",
            "message": "Invalid data format. You should return TEXT.",
        }
    }


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_the_simulator_answers_a_bodyless_call_that_names_json(client, method):
    params = {"id": 245} if method == "DELETE" else None
    headers = {**_bearer(client), "Content-Type": "application/json"}
    answer = requests.request(
        method, client.webhooks.url, headers=headers, params=params, timeout=5
    )
    assert answer.status_code == 200


def test_the_simulator_answers_415_to_a_body_without_a_content_type(client):
    # requests adds no Content-Type for raw bytes, so the body really travels without one.
    answer = requests.post(
        client.webhooks.url, headers=_bearer(client), data=b'{"id": 245}', timeout=5
    )
    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "INVALID_CONTENT_TYPE"


def test_the_client_lists_and_deletes_against_the_strict_simulator(client, sim):
    assert len(client.webhooks.list_deployments()) == 8
    client.webhooks.set_flags(245, create=True, update=True, delete=True)
    answer = client.webhooks.delete_subscription(245)
    assert answer["deleted"] is True
    assert sim.webhook_flags(ACCOUNT)[245] == {"create": False, "update": False, "delete": False}


def test_the_client_sends_json_content_type_and_accept_on_every_restlet_call(client, sim):
    client.webhooks.list_deployments()
    client.webhooks.put_flags(245, create=True, update=False, delete=False)
    client.webhooks.delete_subscription(245)
    seen = [r for r in sim.requests_seen() if r["kind"] == "restlet"]
    assert [r["method"] for r in seen] == ["GET", "PUT", "DELETE"]
    for received in seen:
        assert received["headers"]["content-type"] == "application/json"
        assert received["headers"]["accept"] == "application/json"
