from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.audit.verify import audit_verify


class Command(BaseCommand):
    help = "Audit log tools. `openiop audit verify` checks the hash chain (exit 1 if broken)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if result.ok:
            self.stdout.write(f"audit log intact: {result.checked} events verified")
            return
        raise CommandError(
            f"audit log broken at sequence {result.first_bad_seq}: {result.problem} "
            f"({result.checked} events verified before it)",
            returncode=1,
        )
