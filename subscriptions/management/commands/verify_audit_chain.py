"""Walk the audit trail and check every link of its hash chain."""

import sys

from django.core.management.base import BaseCommand

from subscriptions import audit


class Command(BaseCommand):
    help = (
        "Check that no audit event was edited, inserted or deleted: prints 'intact, N events' "
        "(exit 0) or the first broken link (exit 1)."
    )

    def handle(self, *args, **options):
        report = audit.verify_chain()
        if report.intact:
            self.stdout.write(str(report))
            return
        self.stderr.write(str(report))
        # A plain exit status, so cron and monitoring can act on it without parsing text.
        sys.exit(1)
