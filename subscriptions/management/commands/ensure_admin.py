"""Creates the first administrator when there is none; prints its password once."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import Role
from subscriptions.services.users import user_create


class Command(BaseCommand):
    help = "Create a first Administrator account if no administrator exists yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        existing = User.objects.filter(groups__name=Role.ADMINISTRATOR.label, is_active=True)
        if existing.exists() or User.objects.filter(is_superuser=True).exists():
            names = ", ".join(existing.values_list("username", flat=True)[:3]) or "a superuser"
            self.stdout.write(f"Administrator account exists ({names}); log in with its password.")
            return
        if User.objects.filter(username=username).exists():
            username = f"{username}-{secrets.token_hex(2)}"
        password = secrets.token_urlsafe(12)
        user_create(
            username=username, password=password, role=Role.ADMINISTRATOR, actor=COMMAND_LINE
        )
        self.stdout.write(self.style.SUCCESS("Created the first administrator account:"))
        self.stdout.write(f"    username: {username}")
        self.stdout.write(f"    password: {password}")
        self.stdout.write("This password is shown only now; keep it somewhere safe.")
