"""The API's access table: every operation, the permission it needs, whether it writes, and a
request that is valid for the world ``build_api_world`` makes; a plain module, not a test
module (test_api_access.py and the secret scan use it).

Who may call an operation is read from ``subscriptions/permissions.py`` by its permission, so
the table cannot drift from the pages' roles; a write is refused (403) for a read-only token
whatever the role.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from subscriptions.permissions import PERMISSIONS


@dataclass(frozen=True)
class Op:
    name: str  # the URL name in the "api" namespace
    method: str
    perm: str
    write: bool = False
    body: object = None
    query: str = ""

    def path(self, world: dict) -> str:
        from tests.subscriptions.hardening import every_url

        route = next(u for u in every_url() if u.name == f"api:{self.name}")
        kwargs = {param: world[param] for param in route.params}
        return reverse(f"api:{self.name}", kwargs=kwargs) + (f"?{self.query}" if self.query else "")

    def allowed(self, role: str, read_only: bool) -> bool:
        return role in PERMISSIONS[self.perm] and not (self.write and read_only)


FLAGS_BODY = {"reason": "API test", "create": True, "update": True, "delete": False}

OPS = (
    Op("subscription_list", "GET", "view_subscription"),
    Op("subscription_detail", "GET", "view_subscription"),
    Op("webhook_list", "GET", "view_subscription"),
    Op("webhook_set", "PUT", "toggle_webhooks", write=True, body=FLAGS_BODY),
    Op("connection_test_start", "POST", "run_connection_test", write=True),
    Op("connection_test_detail", "GET", "view_subscription"),
    Op("initialization_start", "POST", "start_jobs", write=True, body={"types": []}),
    Op("polling_start", "POST", "start_jobs", write=True),
    Op("job_list", "GET", "view_jobs"),
    Op("job_detail", "GET", "view_jobs"),
    Op("inventory_list", "GET", "view_jobs"),
    Op("record_list", "GET", "view_jobs"),
    Op("event_list", "GET", "view_inbound_events"),
    Op("audit_events", "GET", "view_auditevent"),
    Op("audit_stream", "GET", "view_auditevent"),
)


def build_api_world(netsuite_sim, ec_pair, admin_user) -> dict:
    """A subscription registered in the simulator with a connection test, a finished job,
    a webhook deployment NetSuite lists, and an inbound event: path values by name."""
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.models import Job
    from subscriptions.services import webhooks as webhook_service
    from subscriptions.services.connection import connection_test_run
    from subscriptions.services.initialization import DATA_TYPES
    from subscriptions.services.jobs import job_start

    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = webhook_service.webhook_table(subscription=subscription, refresh=True)
    deployment = next(row.scriptdeploymentid for row in table.rows if row.scriptdeploymentid)
    test = connection_test_run(subscription=subscription, actor=admin_user)
    job = job_start(
        subscription=subscription,
        kind="initialization",
        params={"types": [next(iter(DATA_TYPES))]},
        actor=COMMAND_LINE,
        summary="api test",
    )
    # Ended, so the API's own starts are not refused as "already queued".
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    return {
        "subscription": subscription,
        "subscription_id": subscription.pk,
        "deployment_id": deployment,
        "test_id": test.pk,
        "job_id": job.pk,
        "record_type": next(iter(DATA_TYPES)),
    }
