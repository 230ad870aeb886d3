"""`openiop wording-pack validate|load|list` (docs/wording-packs.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.core.errors import ActionError


class Command(BaseCommand):
    help = (
        "Wording packs: `validate FILE` checks a pack against its instrument; `load FILE "
        "[--program UUID]` validates it and makes it the active wording (for one program, or "
        "the whole deployment); `list` shows the loaded packs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["validate", "load", "list"])
        parser.add_argument("file", nargs="?", type=Path)
        parser.add_argument("--program", help="the program's id (default: every program)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            self._list()
            return
        path: Path | None = options["file"]
        if path is None:
            raise CommandError(f"{options['subcommand']} needs a FILE", returncode=2)
        if options["subcommand"] == "validate":
            self._validate(path)
        else:
            self._load(path, options["program"])

    def _validate(self, path: Path) -> None:
        from openiop.measures.wording import WordingPackError, read_pack_file

        try:
            pack = read_pack_file(path)
        except WordingPackError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(
            f"{path.name}: valid {pack.instrument} wording {pack.pack_version} "
            f"({pack.language}, {len(pack.items)} items)"
        )

    def _load(self, path: Path, program_id: str | None) -> None:
        from openiop.accounts.actions import system_user
        from openiop.measures.wording import WordingPackError, read_pack_file, wording_pack_load
        from openiop.programs.models import Program

        program = None
        if program_id:
            program = Program.objects.filter(external_id=program_id).first()
            if program is None:
                raise CommandError(f"--program: no program with id {program_id}", returncode=2)
        try:
            read_pack_file(path)  # size and encoding checks, with the file's own name
            row = wording_pack_load(
                actor=system_user(),
                text=path.read_text(encoding="utf-8"),
                file=path.name,
                program=program,
            )
        except WordingPackError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except ActionError as exc:
            raise CommandError(str(exc), returncode=2) from None
        scope = f"program {program.name}" if program else "every program"
        self.stdout.write(
            f"loaded {row.instrument} wording {row.pack_version} ({row.language}) for {scope}; "
            f"sha256 {row.sha256}"
        )

    def _list(self) -> None:
        from openiop.wording.models import WordingPack

        rows = WordingPack.objects.select_related("program").order_by("instrument", "-created_at")
        for row in rows:
            scope = row.program.name if row.program else "every program"
            state = "active" if row.active else "superseded"
            self.stdout.write(
                f"{row.instrument}\t{row.pack_version}\t{row.language}\t{scope}\t{state}\t"
                f"{row.created_at:%Y-%m-%d %H:%M}"
            )
