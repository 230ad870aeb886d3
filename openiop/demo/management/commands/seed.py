from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.demo.seeding import print_demo_logins, seed
from openiop.programs.models import Program


class Command(BaseCommand):
    help = "Create deterministic synthetic programs, staff and participants."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, default=60)
        parser.add_argument("--weeks", type=int, default=16, help="weeks of rolling admissions")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="anchor date (YYYY-MM-DD) for every program; default: each program's own today "
            "in its time zone",
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
        parser.add_argument(
            "--history-weeks",
            type=int,
            default=2,
            help="weeks of past group sessions (attendance, notes) before this one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["participants"] < 1 or options["weeks"] < 1:
            raise CommandError("--participants and --weeks must be at least 1", returncode=2)
        if Program.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Database already has data; not seeding.")
                return
            raise CommandError("The database already has programs; seed into an empty database.")
        result = seed(
            participants=options["participants"],
            weeks=options["weeks"],
            seed_value=options["seed"],
            history_weeks=options["history_weeks"],
            today=options["today"],
            progress=self.stdout.write,
        )
        self.stdout.write(
            f"Seeded {len(result.programs)} programs, {result.participants} participants, "
            f"{result.episodes} episodes of care, {result.sessions} sessions."
        )
        print_demo_logins(self.stdout.write)
