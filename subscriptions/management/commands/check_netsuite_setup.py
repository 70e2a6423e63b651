"""``python manage.py check_netsuite_setup NAME``: the setup check from the command line.

Prints one line per prerequisite (PRESENT, MISSING with what to do, UNKNOWN with why) and
exits 0 only when everything is present, so a deployment script can wait on it.
"""

from django.core.management.base import BaseCommand, CommandError

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Subscription
from subscriptions.services.setup_check import MISSING, setup_check_run


class Command(BaseCommand):
    help = "Check that the iPaaS bundle's pieces exist in the subscription's NetSuite account."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the subscription's name (case does not matter)")

    def handle(self, *args, name, **options):
        subscription = (
            Subscription.objects.without_secrets().filter(name__iexact=name.strip()).first()
        )
        if subscription is None:
            raise CommandError(f"No subscription is named {name!r}.")
        report = setup_check_run(subscription=subscription, actor=COMMAND_LINE)
        if report.problem is not None:
            raise CommandError(f"{report.summary} {report.problem.text()}")
        for item in report.items:
            line = f"{item.status.upper():8} {item.label}"
            if item.detail:
                line += f": {item.detail}"
            self.stdout.write(line)
            if item.status == MISSING and item.fix:
                self.stdout.write(f"         What to do: {item.fix}")
        self.stdout.write(f"Setup check: {report.summary}.")
        if not report.complete:
            raise CommandError(f"The setup is incomplete ({report.summary}).")
