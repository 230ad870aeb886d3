"""The restore drill (issue 12), on whichever database the suite runs on: seed a small world,
back it up, change the data, restore the backup into a new empty database and compare it with
the manifest; a non-empty target, a wrong key and a tampered file are refused."""

from __future__ import annotations

import contextlib
import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections

from openiop.audit.verify import audit_verify
from openiop.operations.backup import (
    audit_head,
    read_manifest,
    restore,
    table_counts,
    temporary_database,
    trigger_names,
)
from openiop.operations.crypto import (
    KEY_ENV,
    BackupIntegrityError,
    BackupKeyError,
    new_key,
    parse_key,
)
from openiop.participants.models import Participant
from openiop.testing import World, admit

# The backup tools read committed data in their own snapshot (and pg_dump is another process).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backup_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    key = new_key()
    monkeypatch.setenv(KEY_ENV, key)
    return parse_key(key)


@contextlib.contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the suite's kind, as an alias: a temporary SQLite file, or a
    scratch PostgreSQL database with a unique name, dropped afterwards."""
    if connection.vendor == "sqlite":
        with temporary_database(str(tmp_path / "restored.sqlite3")) as alias:
            yield alias
        return
    name = f"openiop_restore_drill_{secrets.token_hex(6)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        with temporary_database(name) as alias:
            yield alias
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(alias: str) -> list[str]:
    with connections[alias].cursor() as cursor:
        return connections[alias].introspection.table_names(cursor)


def test_restore_drill(world: World, backup_key: bytes, client_for, tmp_path: Path):
    client_for(world.clinician_a)  # a logged-in session: a row the change below deletes
    before = table_counts()
    head_before = audit_head()

    out, err = io.StringIO(), io.StringIO()
    call_command("backup", output_dir=tmp_path, stdout=out, stderr=err)
    path = Path(out.getvalue().strip())
    assert path.parent == tmp_path
    assert path.name.startswith(f"openiop-backup-{connection.vendor}-")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "backup: wrote" in err.getvalue()  # progress on stderr
    assert not list(tmp_path.glob("*.partial"))

    manifest = read_manifest(path, backup_key)
    check = io.StringIO()
    call_command("restore", str(path), check=True, stdout=check)
    assert "backup authenticated" in check.getvalue()
    assert "schema audit: 0004" in check.getvalue()
    assert manifest["tables"] == before
    assert (manifest["audit"]["head_seq"], manifest["audit"]["head_hash"]) == head_before
    assert manifest["audit"]["verified"] and manifest["audit"]["checked"] == head_before[0]
    assert manifest["schema"]["audit"].startswith("0004")
    assert manifest["created_at"].endswith("+00:00")
    assert set(manifest["triggers"]) >= {
        name for name in trigger_names() if name.startswith("audit_auditevent.")
    }
    # The plaintext is nowhere in the file: not the manifest, not a participant's name.
    raw = path.read_bytes()
    assert b"audit_auditevent" not in raw and b"Quillby" not in raw

    # Change the data after the backup: someone is admitted, sessions are deleted.
    admit(world.program_a, world.track_a, world.clinician_a, first="Late", last="Arrival")
    Session.objects.all().delete()
    assert Participant.objects.count() == before["participants_participant"] + 1

    # Refused: the live (non-empty) database, named with what is in it; nothing changes.
    with pytest.raises(CommandError, match=r"is not empty: it has \d+ tables \(.*accounts_"):
        call_command("restore", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Participant.objects.count() == before["participants_participant"] + 1

    with empty_database(tmp_path) as target:
        # Refused: a wrong key, before anything is written.
        with pytest.raises(BackupKeyError, match="wrong key"):
            restore(path, parse_key(new_key()), using=target)
        assert _tables(target) == []
        # Refused: a file changed after it was written (one flipped bit mid-file).
        tampered = tmp_path / "tampered.oiopbak"
        data = bytearray(raw)
        data[len(data) // 2] ^= 0x01
        tampered.write_bytes(bytes(data))
        with pytest.raises(BackupIntegrityError, match="failed authentication"):
            restore(tampered, backup_key, using=target)
        assert _tables(target) == []
        # Refused: a truncated copy.
        short = tmp_path / "short.oiopbak"
        short.write_bytes(raw[:-100])
        with pytest.raises(BackupIntegrityError, match=r"truncated|failed authentication"):
            restore(short, backup_key, using=target)
        assert _tables(target) == []

        report = restore(path, backup_key, using=target)

        # The restored database is the backed-up one, not today's.
        assert table_counts(target) == manifest["tables"] == before
        assert Participant.objects.using(target).count() == before["participants_participant"]
        assert audit_head(target) == head_before != audit_head()
        result = audit_verify(using=target)
        assert result.ok and result.checked == head_before[0]
        assert report.audit_ok and report.audit_checked == head_before[0]
        assert report.pending_migrations == []
        # The append-only triggers came back with the data.
        assert set(trigger_names(target)) == set(manifest["triggers"])
        with (
            pytest.raises(DatabaseError, match="append-only"),
            connections[target].cursor() as cursor,
        ):
            cursor.execute("UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = 1")
        assert audit_verify(using=target).ok

        # Refused again now that the target holds data.
        with pytest.raises(Exception, match="is not empty"):
            restore(path, backup_key, using=target)
