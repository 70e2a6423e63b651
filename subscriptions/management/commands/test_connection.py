"""``python manage.py test_connection NAME``: the connection test from the command line.

Prints each step as it completes with its duration; exits 0 only when every step passes, so
it can gate a deployment or a monitoring check.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Certificate, Subscription
from subscriptions.services.connection import ConnectionTestError, connection_test_run

MARKS = {"ok": "PASS", "failed": "FAIL", "skipped": "SKIP"}


class Command(BaseCommand):
    help = "Test a subscription's connection to NetSuite step by step (exit 0 only if all pass)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the subscription's name (case does not matter)")
        parser.add_argument(
            "--staged",
            action="store_true",
            help="test the staged certificate (with its Certificate ID) instead of the active one",
        )

    def handle(self, *args, name, staged, **options):
        subscription = (
            Subscription.objects.without_secrets()
            .filter(name__iexact=name.strip())
            .first()
        )
        if subscription is None:
            raise CommandError(f"No subscription is named {name!r}.")
        certificate = None
        if staged:
            certificate = subscription.certificates.filter(
                status=Certificate.Status.STAGED
            ).first()
            if certificate is None:
                raise CommandError(f"{subscription.name} has no staged certificate.")
        target = settings.NETSUITE_BASE_URL or "NetSuite"
        self.stdout.write(
            f"Testing {subscription.name} (account {subscription.account_id}) against {target}"
            + (" with the staged certificate" if staged else "")
        )
        try:
            test = connection_test_run(
                subscription=subscription,
                actor=COMMAND_LINE,
                certificate=certificate,
                on_step=self._print_step,
            )
        except ConnectionTestError as exc:
            raise CommandError(str(exc)) from None
        if test.outcome != "passed":
            failed = test.failed_step or {"label": "?"}
            raise CommandError(f"Connection test failed at step “{failed['label']}”.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Connection test passed: {len(test.steps)} steps in {test.duration_ms} ms."
            )
        )

    def _print_step(self, step: dict) -> None:
        mark = MARKS.get(step["status"], step["status"].upper())
        line = f"{mark} {step['label']} ({step['ms']} ms)"
        if step.get("detail"):
            line += f": {step['detail']}"
        style = {"ok": self.style.SUCCESS, "failed": self.style.ERROR}.get(
            step["status"], self.style.WARNING
        )
        self.stdout.write(style(line))
        error = step.get("error")
        if error:
            self.stdout.write(f"     {error['message']}")
            meta = ", ".join(
                part
                for part in (
                    f"HTTP {error['status']}" if error.get("status") else "",
                    f"NetSuite code {error['code']}" if error.get("code") else "",
                )
                if part
            )
            if meta:
                self.stdout.write(f"     {meta}")
            if error.get("detail"):
                self.stdout.write(f"     NetSuite said: {error['detail']}")
            if error.get("hint"):
                self.stdout.write(f"     What to do: {error['hint']}")
