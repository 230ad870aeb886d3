from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from openiop.operations.backup import BackupError, read_manifest, restore
from openiop.operations.crypto import (
    KEY_ENV,
    BackupIntegrityError,
    BackupKeyError,
    key_from_environment,
)


class Command(BaseCommand):
    help = (
        "Restore an `openiop backup` file into the configured database, which must be empty "
        f"(DATABASE_URL; key from {KEY_ENV}). Afterwards the row counts, triggers and "
        "migrations are compared with the backup's manifest and the audit chain is verified "
        "(as `openiop audit verify`) against the manifest's chain head. --check only "
        "authenticates the file and prints its manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file")
        parser.add_argument(
            "--check",
            action="store_true",
            help="authenticate the whole file and print its manifest; restore nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no backup file at {path}", returncode=1)
        try:
            master = key_from_environment()
            if options["check"]:
                manifest = read_manifest(path, master)
                self._summary(manifest)
                return
            report = restore(path, master, progress=self.stderr.write)
        except (BackupError, BackupKeyError, BackupIntegrityError) as error:
            raise CommandError(str(error), returncode=1) from None
        except OperationalError as error:
            raise CommandError(
                f"cannot use the database in DATABASE_URL: {str(error).strip()}", returncode=1
            ) from None
        manifest = report.manifest
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"restored the backup of {manifest['created_at']}: {len(manifest['tables'])} tables "
            f"and {rows} rows match its manifest"
        )
        if manifest["audit"] is not None:
            seq, _ = report.head
            if not report.audit_ok:
                raise CommandError(
                    "the audit chain does not verify (it did not when it was backed up either); "
                    f"its head at sequence {seq} matches the manifest. Run `openiop audit verify`.",
                    returncode=1,
                )
            self.stdout.write(
                f"audit verify: intact, {report.audit_checked} events; the chain head "
                f"(sequence {seq}) matches the manifest"
            )
        if report.pending_migrations:
            self.stdout.write(
                f"this OpenIOP has {len(report.pending_migrations)} migrations newer than the "
                "backup: run `openiop migrate` before starting the application"
            )

    def _summary(self, manifest: dict[str, Any]) -> None:
        audit = manifest["audit"] or {}
        self.stdout.write(
            f"backup authenticated: made {manifest['created_at']} by OpenIOP "
            f"{manifest['openiop_version']} from {manifest['database']['vendor']} "
            f"({manifest['database']['dump']})"
        )
        self.stdout.write(
            f"{len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows; "
            f"audit chain head at sequence {audit.get('head_seq', 0)} "
            f"({'verified' if audit.get('verified') else 'NOT verified'} at backup time)"
        )
        for app, name in sorted(manifest["schema"].items()):
            self.stdout.write(f"  schema {app}: {name}")
