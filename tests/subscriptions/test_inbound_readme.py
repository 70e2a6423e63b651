"""Inbound events end to end over real HTTP: the simulator's user-event script sends the
documented scopes (a product with its record type), and the README's example, exactly as
written, works against the simulator as ``make run`` sets it up (``demo_setup``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from netsuite.restlet import module_for_scriptid
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import InboundEvent, Subscription
from subscriptions.services.auth_details import auth_details_use_dashboard
from subscriptions.services.webhooks import webhook_set_flag
from tests.subscriptions.conftest import ACCOUNT
from tests.subscriptions.test_inbound_simulator import wired  # noqa: F401  (a fixture)

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(
    r"curl -X POST -H 'Content-Type: application/json' -d '(?P<body>[^']+)' "
    r"http://127\.0\.0\.1:8765(?P<path>/_sim/\S+?)`"
)


def deployment_of(sim, module: str) -> int:
    with sim.state.lock:
        return next(
            d["scriptdeploymentid"] for d in sim.state.accounts[ACCOUNT].deployments
            if module_for_scriptid(d["scriptid"]) == module
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("record_type", "module"), [("kititem", "kit_item"), ("inventoryitem", "inventory_part")]
)
def test_the_script_sends_a_product_with_its_record_type(wired, record_type, module):  # noqa: F811
    sim, subscription = wired
    with sim.state.lock:
        sim.state.accounts[ACCOUNT].flags[deployment_of(sim, module)]["update"] = True
    created = sim.change_record(ACCOUNT, record_type, "create")
    answer = sim.change_record(ACCOUNT, record_type, "update", record_id=created["record_id"])
    assert answer["scope"] == "product/updated"
    assert [d["status"] for d in answer["deliveries"]] == [202]
    event = InboundEvent.objects.get()
    assert (event.module, event.event, event.scope, event.external_id) == (
        module, "updated", f"{record_type}/updated", created["record_id"])
    assert event.payload == {"scope": "product/updated", "record_type": record_type,
                             "external_id": created["record_id"]}


@pytest.mark.django_db(transaction=True)
def test_the_readmes_inbound_example_works_against_the_demo_setup(netsuite_sim, live_server):
    example = EXAMPLE.search(README.read_text())
    assert example, "the README's inbound example is no longer a curl to the simulator"
    call_command("demo_setup")  # what make run does after starting the simulator
    demo = Subscription.objects.without_secrets().get(name="Demo (simulator)")
    # The README's two steps before the example: "Use this dashboard" and a webhook toggle.
    auth_details_use_dashboard(
        subscription=demo, entry_id="1", confirm_name="Production", allow_http=True,
        inbound_url=f"{live_server.url}/hooks/netsuite/{demo.pk}/", actor=COMMAND_LINE,
    )
    row = webhook_set_flag(subscription=demo, actor=COMMAND_LINE, flag="update", value=True,
                           scriptdeploymentid=deployment_of(netsuite_sim.sim, "customer"))
    assert row.problem is None

    answer = requests.post(
        netsuite_sim.base_url + example["path"], data=example["body"],
        headers={"Content-Type": "application/json"}, timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert [d["status"] for d in answer.json()["deliveries"]] == [202]
    event = InboundEvent.objects.get(subscription=demo)
    assert (event.module, event.event, event.external_id) == ("customer", "updated", "107")
