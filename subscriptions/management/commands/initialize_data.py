"""``python manage.py initialize_data NAME [--type TYPE ...] [--wait]``: queue an initialization.

Without ``--wait`` it prints the job's number and leaves it to the workers; with it, it
follows the job to its end and prints, per data type, the records read and stored (exit 1
when the job did not succeed).
"""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Job, Subscription
from subscriptions.services.errors import ServiceError
from subscriptions.services.initialization import DATA_TYPES, initialization_start

HINT_AFTER = 15.0


class Command(BaseCommand):
    help = "Transfer a subscription's reference data from NetSuite to the iPaaS side."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the subscription's name (case does not matter)")
        parser.add_argument(
            "--type", action="append", dest="types", choices=list(DATA_TYPES), default=[],
            help="a data type to initialize (repeat for several; default: all)",
        )
        parser.add_argument("--wait", action="store_true", help="follow the job to its end")
        parser.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)

    def handle(self, *args, name, types, wait, poll, **options):
        subscription = (
            Subscription.objects.without_secrets().filter(name__iexact=name.strip()).first()
        )
        if subscription is None:
            raise CommandError(f"No subscription is named {name!r}.")
        try:
            job = initialization_start(subscription=subscription, types=types,
                                       actor=COMMAND_LINE)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Job {job.pk} queued: initialize {', '.join(job.types)}.")
        if not wait:
            return
        job = self.follow(job, poll)
        for key in job.types:
            c = job.counts.get(key) or {}
            stored = c.get("created", 0) + c.get("updated", 0) + c.get("unchanged", 0)
            self.stdout.write(
                f"{DATA_TYPES[key].label}: {c.get('read', 0)} read, {stored} stored "
                f"({c.get('created', 0)} new, {c.get('updated', 0)} updated, "
                f"{c.get('unchanged', 0)} unchanged)"
            )
        if job.status != Job.Status.SUCCEEDED:
            message = (job.error or {}).get("message", "")
            raise CommandError(f"Job {job.pk} {job.status}. {message}".strip())
        self.stdout.write(f"Job {job.pk} succeeded.")

    def follow(self, job: Job, poll: float) -> Job:
        started = time.monotonic()
        hinted = False
        shown = None
        while True:
            close_old_connections()
            job = Job.objects.get(pk=job.pk)
            if not job.is_active:
                return job
            if (job.status, job.progress_done) != shown:
                shown = (job.status, job.progress_done)
                total = f" / {job.progress_total}" if job.progress_total else ""
                self.stdout.write(f"  {job.status}: {job.progress_done}{total} records")
            if job.status == Job.Status.QUEUED and not hinted and (
                time.monotonic() - started > HINT_AFTER
            ):
                hinted = True
                self.stdout.write("  No worker has taken it yet: is `manage.py db_worker` running?")
            time.sleep(poll)

