"""Walk the audit trail and check every link of its hash chain."""

import sys

from django.core.management.base import BaseCommand, CommandError

from subscriptions import audit


class Command(BaseCommand):
    help = (
        "Check that no audit event was edited, inserted or deleted: prints 'intact, N events' "
        "(exit 0) or the first broken link (exit 1). Keep the head that --print-head shows "
        "somewhere else and pass it back with --anchor to also detect removed newest events."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            metavar="ID:HASH",
            help="an event id and hash from an earlier run, which must still be there unchanged",
        )
        parser.add_argument(
            "--print-head",
            action="store_true",
            help="also print the newest event as ID:HASH, to keep as the next anchor",
        )

    def handle(self, *args, anchor=None, print_head=False, **options):
        parsed = None
        if anchor:
            try:
                parsed = audit.parse_anchor(anchor)
            except ValueError:
                raise CommandError(
                    "--anchor takes ID:HASH, e.g. 1234:9f86d0...; as printed by --print-head."
                ) from None
        report = audit.verify_chain(anchor=parsed)
        if report.intact:
            self.stdout.write(str(report))
            if print_head and report.head_id:
                self.stdout.write(f"head {report.head_id}:{report.head_hash}")
            return
        self.stderr.write(str(report))
        # A plain exit status, so cron and monitoring can act on it without parsing text.
        sys.exit(1)
