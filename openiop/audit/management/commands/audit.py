from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.audit.verify import audit_verify
from openiop.core.errors import ActionError


class Command(BaseCommand):
    help = (
        "Audit log tools. `openiop audit verify` checks the hash chain (exit 1 if broken); "
        "`openiop audit purge --before YYYY-MM-DD` removes events past the six-year retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify", "purge"])
        parser.add_argument(
            "--before",
            type=lambda text: datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC),
            help="purge: remove events that occurred before this date (UTC midnight)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "purge":
            self._purge(options["before"])
            return
        result = audit_verify()
        if result.ok:
            self.stdout.write(f"audit log intact: {result.checked} events verified")
            return
        raise CommandError(
            f"audit log broken at sequence {result.first_bad_seq}: {result.problem} "
            f"({result.checked} events verified before it)",
            returncode=1,
        )

    def _purge(self, before: datetime | None) -> None:
        from openiop.accounts.actions import system_user
        from openiop.audit.actions import audit_purge

        if before is None:
            raise CommandError("purge needs --before YYYY-MM-DD", returncode=2)
        try:
            purged = audit_purge(actor=system_user(), before=before)
        except ActionError as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(f"purged {purged} audit events older than {before:%Y-%m-%d}")
