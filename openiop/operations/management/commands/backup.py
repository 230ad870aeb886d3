from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from openiop.operations.backup import BackupError, backup_create
from openiop.operations.crypto import (
    KEY_ENV,
    BackupKeyError,
    key_from_environment,
    key_id_text,
    new_key,
    parse_key,
)


class Command(BaseCommand):
    help = (
        "Write an encrypted, timestamped backup of the database (PostgreSQL: pg_dump custom "
        f"format; SQLite: the online backup API) with a manifest. The key comes from {KEY_ENV}; "
        "see docs/operations.md, 'Backup and restore'. Prints the backup's path; progress goes "
        "to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output-dir",
            type=Path,
            help="directory for the backup file (default: OPENIOP_VAR_DIR/backups)",
        )
        parser.add_argument("--output", "-o", type=Path, help="exact path of the backup file")
        parser.add_argument(
            "--new-key",
            action="store_true",
            help=f"print a new random key for {KEY_ENV} (and its key id) and exit",
        )
        parser.add_argument(
            "--key-id",
            action="store_true",
            help=f"print the key id of the key in {KEY_ENV} and exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["new_key"]:
                key = new_key()
                self.stdout.write(key)
                self.stderr.write(
                    f"key id {key_id_text(parse_key(key))}: store this key apart from the "
                    "backups; without it no backup can be restored"
                )
                return
            master = key_from_environment()
            if options["key_id"]:
                self.stdout.write(key_id_text(master))
                return
            output_dir = options["output_dir"] or Path(settings.VAR_DIR) / "backups"
            path, manifest = backup_create(
                master,
                output=options["output"],
                output_dir=output_dir,
                progress=self.stderr.write,
            )
        except (BackupError, BackupKeyError) as error:
            raise CommandError(str(error), returncode=1) from None
        except OperationalError as error:
            raise CommandError(
                f"cannot use the database in DATABASE_URL: {str(error).strip()}", returncode=1
            ) from None
        rows = sum(manifest["tables"].values())
        self.stderr.write(
            f"backup: {len(manifest['tables'])} tables, {rows} rows, key id {manifest['key_id']}"
        )
        self.stdout.write(str(path))
