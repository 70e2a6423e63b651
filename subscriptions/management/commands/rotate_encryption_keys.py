"""Re-encrypt every stored secret under the newest key of FIELD_ENCRYPTION_KEYS.

See ``subscriptions.services.encryption`` for how rotation works.
"""

from django.core.management.base import BaseCommand

from subscriptions import fields
from subscriptions.actors import COMMAND_LINE
from subscriptions.services.encryption import encryption_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the newest key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        newest, _, _ = fields.keyring()
        tally, left = encryption_keys_rotate(actor=COMMAND_LINE, dry_run=dry_run)
        for label, pk, name, kid in tally.failures:
            # Where and which key id only: never the stored text nor anything decrypted.
            self.stderr.write(
                f"cannot decrypt {label} pk={pk} field {name}: its key {kid} is not among "
                "FIELD_ENCRYPTION_KEYS"
            )
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{verb} {tally.reencrypted} values; {left} remain on older keys "
            f"(newest key {newest})"
        )
        if tally.failures:
            raise SystemExit(1)
