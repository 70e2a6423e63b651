"""Create a person who can log in, with one role. The password never appears on the command
line (where other users of the machine could see it in the process list)."""

import getpass
import unicodedata
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Role
from subscriptions.selectors.usernames import lookalike_message, username_lookalike
from subscriptions.services.errors import ServiceError
from subscriptions.services.users import user_create


class Command(BaseCommand):
    help = "Create a user with a role (support, administrator or auditor)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument(
            "--password-file",
            help="Read the password from the first line of this file instead of prompting.",
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, password_file=None, email="", **options):
        User = get_user_model()
        username = username.strip()
        try:
            User.username_validator(username)
        except ValidationError as exc:
            raise CommandError(f"Username not valid: {' '.join(exc.messages)}") from None
        if len(username) > User._meta.get_field("username").max_length:
            raise CommandError("Username not valid: at most 150 characters.")
        # Usernames differing only in case, or in look-alike letters, would be two accounts
        # people cannot tell apart.
        existing = username_lookalike(unicodedata.normalize("NFKC", username))
        if existing is not None:
            raise CommandError(
                f"{lookalike_message(username, existing)} Nothing was changed."
            )
        email = (email or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"E-mail address not valid: {email!r}.") from None

        password = self._read_password(password_file)
        try:
            validate_password(password, user=User(username=username, email=email))
        except ValidationError as exc:
            raise CommandError(
                "Password refused: " + " ".join(exc.messages) + " Nothing was changed."
            ) from None

        try:
            user_create(
                username=username, password=password, role=role, email=email, actor=COMMAND_LINE
            )
        except ServiceError as exc:
            problems = " ".join(str(e) for e in exc.errors.values()) or exc.message
            raise CommandError(f"{problems} Nothing was changed.") from None
        self.stdout.write(f"Created {username} with the role {Role(role).label}.")

    def _read_password(self, password_file) -> str:
        if password_file:
            try:
                text = Path(password_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot read the password file: {exc.strerror}.") from None
            lines = text.splitlines()
            password = lines[0] if lines else ""
            if not password:
                raise CommandError("The password file's first line is empty.")
            return password
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password given; nothing was changed.") from None
        if first != second:
            raise CommandError("The two passwords differ; nothing was changed.")
        if not first:
            raise CommandError("The password is empty; nothing was changed.")
        return first
