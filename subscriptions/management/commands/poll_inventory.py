"""``python manage.py poll_inventory NAME [--wait]``: queue an inventory poll now.

Without ``--wait`` it prints the job's number and leaves it to the workers; with it, it
follows the job to its end (as ``initialize_data --wait`` does) and prints how many inventory
items and item-locations were read and how many changed (exit 1 when the poll did not
succeed).
"""

import argparse

from django.core.management.base import CommandError

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Job, Subscription
from subscriptions.services.errors import ServiceError
from subscriptions.services.inventory import INVENTORY_LEVEL_KEY
from subscriptions.services.polling import INVENTORY_ITEM, describe_window, polling_start

from .initialize_data import Command as InitializeCommand


def _changed(counts: dict) -> int:
    return counts.get("created", 0) + counts.get("updated", 0)


class Command(InitializeCommand):
    help = "Poll a subscription's inventory items and stock levels from NetSuite now."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the subscription's name (case does not matter)")
        parser.add_argument("--wait", action="store_true", help="follow the poll to its end")
        parser.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)

    def handle(self, *args, name, wait, poll, **options):
        subscription = (
            Subscription.objects.without_secrets().filter(name__iexact=name.strip()).first()
        )
        if subscription is None:
            raise CommandError(f"No subscription is named {name!r}.")
        try:
            job = polling_start(subscription=subscription, actor=COMMAND_LINE)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Job {job.pk} queued: poll {describe_window(job.params)}.")
        if not wait:
            return
        job = self.follow(job, poll)
        items = job.counts.get(INVENTORY_ITEM.key) or {}
        levels = job.counts.get(INVENTORY_LEVEL_KEY) or {}
        self.stdout.write(
            f"Inventory items: {items.get('read', 0)} read, {_changed(items)} changed."
        )
        self.stdout.write(
            f"Item-locations: {levels.get('read', 0)} read, {_changed(levels)} changed."
        )
        if job.status != Job.Status.SUCCEEDED:
            message = (job.error or {}).get("message", "")
            raise CommandError(f"Job {job.pk} {job.status}. {message}".strip())
        self.stdout.write(f"Job {job.pk} succeeded.")
