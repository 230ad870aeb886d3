"""`openiop totp USER`: print the current code of a user's authenticator (demo and support)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.accounts.mfa import confirmed_device, current_code, secret_base32
from openiop.accounts.models import User


class Command(BaseCommand):
    help = "Print the current 6-digit code (and, with --secret, the key) of USER's authenticator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--secret", action="store_true", help="also print the base32 key")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # Printing codes defeats the second factor; it is for demos and local support only.
            raise CommandError("openiop totp is disabled in production", returncode=2)
        user = User.objects.filter(username=options["username"].strip().lower()).first()
        if user is None:
            raise CommandError(f"username: no account named {options['username']!r}", returncode=2)
        device = confirmed_device(user)
        if device is None:
            raise CommandError(
                f"username: {user.username} has no authenticator yet; "
                "they set one up at first log-in",
                returncode=2,
            )
        self.stdout.write(current_code(device))
        if options["secret"]:
            self.stdout.write(f"secret: {secret_base32(device)}")
