"""``manage.py prune``: retention on demand (the scheduler does the same at every tick).

``--dry-run`` prints each kind's cut-off and how many rows would go, deleting nothing.
Without it, ``services.retention.retention_prune`` runs until nothing is due, in the same
short batches as a tick (so the dashboard can stay up meanwhile), with one audit event
per round that deleted something.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...actors import COMMAND_LINE
from ...selectors.retention import KINDS, retention_cutoffs, retention_due
from ...services.retention import DEFAULT_BATCH_SIZE, retention_prune


class Command(BaseCommand):
    help = (
        "Delete inbound events, finished jobs and connection tests older than their "
        "RETAIN_*_DAYS (the audit trail is never pruned); --dry-run only counts them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per delete transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, dry_run=False, batch_size=DEFAULT_BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        now = timezone.now()
        cutoffs = retention_cutoffs(now)
        if dry_run:
            due = retention_due(now)
            for kind in KINDS:
                cutoff = cutoffs[kind.key]
                if cutoff is None:
                    self.stdout.write(f"{kind.label}: kept forever ({kind.setting}=0)")
                    continue
                self.stdout.write(
                    f"{kind.label}: {due[kind.key]:,} would be deleted "
                    f"(older than {cutoff.isoformat(timespec='seconds')}, {kind.setting})"
                )
            self.stdout.write("Dry run: nothing deleted.")
            return
        totals = {kind.key: 0 for kind in KINDS}
        while True:
            pruned = retention_prune(now=now, actor=COMMAND_LINE, batch_size=batch_size)
            for key, n in pruned.counts.items():
                totals[key] += n
            if pruned.done:
                break
        for kind in KINDS:
            self.stdout.write(f"{kind.label}: {totals[kind.key]:,} deleted")
