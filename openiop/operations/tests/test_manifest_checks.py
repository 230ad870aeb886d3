"""What a restore refuses before touching the target, read from the manifest alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from openiop.operations.backup import BackupError, _check_manifest


def _manifest(migrations: dict[str, list[str]], vendor: str | None = None) -> dict[str, Any]:
    return {"database": {"vendor": vendor or connection.vendor}, "migrations": migrations}


def _all_migrations() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        found.setdefault(app, []).append(name)
    return found


def test_a_backup_of_this_schema_needs_nothing_afterwards():
    assert _check_manifest(_manifest(_all_migrations()), connection) == []


def test_an_older_backup_is_taken_and_names_the_migrations_to_apply():
    migrations = _all_migrations()
    newest = sorted(migrations["audit"])[-1]
    migrations["audit"].remove(newest)
    assert _check_manifest(_manifest(migrations), connection) == [f"audit.{newest}"]


def test_a_backup_from_a_newer_openiop_is_refused():
    migrations = _all_migrations()
    migrations["audit"].append("0099_from_the_future")
    with pytest.raises(BackupError, match=r"newer OpenIOP.*audit\.0099_from_the_future"):
        _check_manifest(_manifest(migrations), connection)


def test_a_backup_of_the_other_database_kind_is_refused():
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    with pytest.raises(BackupError, match=f"this is a {other} backup"):
        _check_manifest(_manifest(_all_migrations(), other), connection)
