"""``python manage.py demo_setup``: a ready demo subscription in the NetSuite simulator.

Used by ``make run`` after it started ``python -m netsuite.simulator``. Idempotent: it creates
the subscription "Demo (simulator)" or refreshes it. The simulator keeps its state only in
memory, so every run registers the integration and the certificate again and stores the
Certificate ID it gets back. It refuses to run unless NETSUITE_SIMULATOR is set: it must never
talk to a real NetSuite account. It also gives the demo account customers 101 to 110 (a new
simulated account has none), so the README's inbound example, which changes customer 107,
finds its record.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from netsuite import certificates as nscert
from netsuite.accounts import api_url_for
from netsuite.simulator.admin import SimulatorAdmin, SimulatorAdminError, SimulatorRefused
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Certificate, Subscription
from subscriptions.services import certificates as certificate_service
from subscriptions.services import subscriptions as subscription_service
from subscriptions.services.connection import connection_test_run

DEMO_NAME = "Demo (simulator)"
DEMO_ACCOUNT = "1234567"
RENEW_WITHIN = dt.timedelta(days=30)
# NetSuite numbers records from one sequence, so a company's customers rarely start at 1.
DEMO_CUSTOMERS = range(101, 111)


class Command(BaseCommand):
    help = "Create or refresh the demo subscription, registered in the NetSuite simulator."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=DEMO_NAME)
        parser.add_argument("--account", default=DEMO_ACCOUNT)
        parser.add_argument(
            "--skip-test", action="store_true", help="do not run a connection test at the end"
        )

    def step(self, text: str) -> None:
        self.stdout.write(f"demo_setup: {text}")

    def handle(self, *args, name, account, skip_test, **options):
        if not (settings.NETSUITE_SIMULATOR and settings.NETSUITE_BASE_URL):
            raise CommandError(
                "Simulator mode is off (NETSUITE_SIMULATOR). demo_setup only ever talks to the "
                "NetSuite simulator: start one (python -m netsuite.simulator --port 8765) and set "
                "NETSUITE_SIMULATOR=1 NETSUITE_BASE_URL=http://127.0.0.1:8765, or use "
                "`make run`, which does both."
            )
        self.admin = SimulatorAdmin(settings.NETSUITE_BASE_URL)
        try:
            self.admin.health()
            self.step(f"simulator answers at {self.admin.base_url}")
            existing = Subscription.objects.without_secrets().filter(name__iexact=name).first()
            consumer_id = self._integration(account, existing)
            self._customers(account)
            key_pem, cert_pem, reused = self._pair(existing)
            info = nscert.describe_certificate(nscert.load_certificate(cert_pem))
            self.step(
                f"{'reusing' if reused else 'generated'} {info.key.label} key and certificate, "
                f"valid until {info.not_after:%Y-%m-%d}"
            )
            certificate_id = self.admin.register_certificate(account, consumer_id, cert_pem)
        except SimulatorAdminError as exc:
            raise CommandError(str(exc)) from None
        finally:
            self.admin.close()
        self.step(f"certificate registered in the simulator, Certificate ID {certificate_id}")

        subscription = self._store(name, account, consumer_id, key_pem, existing)
        certificate_service.certificate_install_active(
            subscription=subscription,
            private_key_pem=key_pem,
            certificate_pem=cert_pem,
            certificate_id=certificate_id,
            actor=COMMAND_LINE,
            reason="demo_setup",
        )
        subscription.refresh_from_db()
        self.step(
            f"subscription {subscription.name!r} {'updated' if existing else 'created'} "
            f"(id {subscription.pk}, revision {subscription.revision})"
        )
        if skip_test:
            return
        test = connection_test_run(subscription=subscription, actor=COMMAND_LINE)
        if test.outcome != "passed":
            failed = test.failed_step or {"label": "?", "error": {"message": "?"}}
            raise CommandError(
                f"the demo's connection test failed at “{failed['label']}”: "
                f"{(failed.get('error') or {}).get('message')}"
            )
        self.step(f"connection test passed ({len(test.steps)} steps, {test.duration_ms} ms)")

    def _integration(self, account: str, existing: Subscription | None) -> str:
        """The demo's integration in the simulator, under the consumer ID stored before."""
        known = existing.consumer_id if existing is not None and existing.consumer_id else None
        try:
            created = self.admin.create_integration(
                account, name="iPaaS demo integration", consumer_id=known
            )
        except SimulatorRefused as exc:
            if known and "already used" in str(exc):
                # The simulator was not restarted: the integration is still there.
                self.step(f"integration {known[:12]}… already in the simulator")
                return known
            raise CommandError(f"The simulator refused the integration: {exc}") from None
        self.step(f"integration {created['consumer_id'][:12]}… created in account {account}")
        return created["consumer_id"]

    def _customers(self, account: str) -> None:
        """Customers for the demo to change, created once per simulator run. Created through
        the simulated user-event script, which posts nothing here: a fresh simulator's
        webhook flags are off and its Auth Details entries have no token."""
        created = 0
        for number in DEMO_CUSTOMERS:
            try:
                self.admin.change_record(
                    account, "customer", "create", record_id=str(number),
                    fields={"companyName": f"Demo Customer {number}",
                            "email": f"customer{number}@example.com"},
                )
            except SimulatorRefused as exc:
                if "already exists" not in str(exc):
                    raise
            else:
                created += 1
        self.step(
            f"customers {DEMO_CUSTOMERS[0]} to {DEMO_CUSTOMERS[-1]} in account {account} "
            f"({created} created)"
        )

    def _pair(self, existing: Subscription | None) -> tuple[str, str, bool]:
        """The stored active pair when it is still good, else a new RSA 3072 pair."""
        if existing is not None:
            active = existing.certificates.filter(status=Certificate.Status.ACTIVE).first()
            fresh = active is not None and active.not_after - RENEW_WITHIN > _now()
            if fresh and active.public_key_fingerprint == existing.private_key_fingerprint:
                key_pem = Subscription.objects.values_list("private_key", flat=True).get(
                    pk=existing.pk
                )
                return key_pem, active.certificate_pem, True
        key_pem, cert_pem = nscert.generate_key_and_certificate(
            "rsa3072", days=365, common_name="iPaaS demo (simulator)"
        )
        return key_pem, cert_pem, False

    def _store(self, name, account, consumer_id, key_pem, existing) -> Subscription:
        data = {
            "name": name,
            "version": settings.SUBSCRIPTION_VERSIONS[0],
            "inventory_search_days": 0,
            "environment": "Production",
            "consumer_id": consumer_id,
            "account_id": account,
            "api_url": api_url_for(account),
            "private_key": key_pem,
            **settings.SUBSCRIPTION_DEFAULTS,
        }
        if existing is None:
            subscription, _webhook_key = subscription_service.subscription_create(
                data={**data, "certificate_id": "pending-registration"},
                actor=COMMAND_LINE,
                reason="demo_setup",
            )
            return subscription
        # Only what the simulator decides changes; throttling set by a person stays.
        return subscription_service.subscription_update(
            subscription=existing,
            data={
                "consumer_id": consumer_id,
                "account_id": account,
                "api_url": api_url_for(account),
            },
            expected_revision=existing.revision,
            actor=COMMAND_LINE,
            reason="demo_setup",
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
