"""Encrypted backups and restores of the whole database (issue 12, docs/operations.md).

A backup file is the stream of `crypto.EncryptingWriter` over this plaintext::

    manifest length (8, big-endian) ‖ manifest (JSON) ‖ database dump

The dump is `pg_dump --format=custom` on PostgreSQL and the database file made with SQLite's
online backup API on SQLite. The manifest describes exactly what the dump holds: it is read
from the same snapshot (PostgreSQL: `pg_dump --snapshot` shares the transaction that counted
the rows; SQLite: it is read from the copy itself): applied migrations, row counts per table,
the database triggers (the append-only ones included) and the audit chain head, checked with
`audit_verify`, the code behind `openiop audit verify`.

A restore refuses a wrong key before decrypting anything and refuses a target that has any
table in it. It checks the manifest against this code's migrations, restores (PostgreSQL:
`pg_restore --single-transaction`, so a failure leaves the target empty; SQLite: into a
temporary file next to the target, moved into place only after every check passed) and then
compares the restored database with the manifest and verifies the audit chain.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from openiop.audit.models import AuditHead
from openiop.audit.verify import audit_verify
from openiop.core import clock
from openiop.operations.crypto import (
    BackupIntegrityError,
    EncryptingWriter,
    decrypt_chunks,
    key_id_text,
)

FORMAT = "openiop-backup"
FORMAT_VERSION = 1
SUFFIX = ".oiopbak"
_READ_SIZE = 1024 * 1024
_PROGRESS_EVERY_SECONDS = 5.0
_NAMED = 8  # tables named in a "not empty" refusal

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    audit_checked: int
    audit_ok: bool
    pending_migrations: list[str] = field(default_factory=list)

    @property
    def head(self) -> tuple[int, str]:
        audit = self.manifest["audit"] or {}
        return int(audit.get("head_seq", 0)), str(audit.get("head_hash", ""))


# --------------------------------------------------------------------------- database facts


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def table_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows in every table of the database, by table name."""
    connection = connections[using]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = int(cursor.fetchone()[0])
    return counts


def trigger_names(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """User-defined triggers (the append-only and signed-record ones among them)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname || '.' || t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND pg_table_is_visible(c.oid)"
            )
        else:
            cursor.execute("SELECT tbl_name || '.' || name FROM sqlite_master WHERE type='trigger'")
        return sorted(str(row[0]) for row in cursor.fetchall())


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app, name in recorder.applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _known_migrations() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """This code's migrations, each with the migrations it replaces (squashed ones)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, migration in loader.disk_migrations.items():
        known[key] = [tuple(pair) for pair in migration.replaces or []]  # type: ignore[misc]
        for replaced in migration.replaces or []:
            known.setdefault(tuple(replaced), [])  # type: ignore[arg-type]
    return known


def audit_head(using: str = DEFAULT_DB_ALIAS) -> tuple[int, str]:
    head = AuditHead.objects.using(using).filter(id=1).first()
    return (head.last_seq, head.last_hash) if head else (0, "0" * 64)


def build_manifest(using: str, database: dict[str, Any], master: bytes) -> dict[str, Any]:
    """What the dump holds, read from the same snapshot as the dump (see the module doc)."""
    tables = table_counts(using)
    audit: dict[str, Any] | None = None
    if "audit_auditevent" in tables and "audit_audithead" in tables:
        result = audit_verify(using=using)
        seq, head_hash = audit_head(using)
        audit = {
            "head_seq": seq,
            "head_hash": head_hash,
            "verified": result.ok,
            "checked": result.checked,
            "problem": result.problem,
        }
    migrations = applied_migrations(using)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": clock.now().isoformat(timespec="seconds"),
        "openiop_version": _openiop_version(),
        "key_id": key_id_text(master),
        "database": database,
        "migrations": migrations,
        "schema": {app: names[-1] for app, names in migrations.items()},
        "tables": tables,
        "triggers": trigger_names(using),
        "audit": audit,
    }


def _openiop_version() -> str:
    try:
        return metadata.version("openiop")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- temporary aliases


@contextlib.contextmanager
def temporary_database(name: str, like: str = DEFAULT_DB_ALIAS) -> Iterator[str]:
    """A database alias for `name` with the settings of `like` (a SQLite copy being checked,
    or a scratch PostgreSQL database); closed and forgotten on exit."""
    alias = f"openiop_ops_{secrets.token_hex(4)}"
    settings_dict = copy.deepcopy(connections[like].settings_dict)
    settings_dict["NAME"] = name
    # Registered as a live connection only (not in settings.DATABASES): nothing else ever
    # routes to it, and it disappears with the context.
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        del connections[alias]


# --------------------------------------------------------------------------- backup


def backup_create(
    master: bytes,
    *,
    output: Path | None = None,
    output_dir: Path | None = None,
    using: str = DEFAULT_DB_ALIAS,
    progress: Progress = _quiet,
) -> tuple[Path, dict[str, Any]]:
    """Write an encrypted backup of `using`; returns its path and manifest. The file only
    appears under its final name once it is complete."""
    connection = connections[using]
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    if output is None:
        directory = output_dir or Path.cwd()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        output = directory / f"openiop-backup-{connection.vendor}-{stamp}{SUFFIX}"
    if output.exists():
        raise BackupError(f"{output} already exists; backups never overwrite a file")
    partial = output.with_name(output.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            writer = EncryptingWriter(out, master)
            if connection.vendor == "postgresql":
                manifest = _backup_postgresql(connection, writer, master, progress)
            elif connection.vendor == "sqlite":
                manifest = _backup_sqlite(connection, writer, master, progress)
            else:
                raise BackupError(f"backups of {connection.vendor} databases are not supported")
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    progress(f"backup: wrote {output} ({_mib(output.stat().st_size)})")
    return output, manifest


def _write_manifest(writer: EncryptingWriter, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")
    writer.write(len(data).to_bytes(8, "big") + data)


def _backup_sqlite(
    connection: BaseDatabaseWrapper, writer: EncryptingWriter, master: bytes, progress: Progress
) -> dict[str, Any]:
    connection.ensure_connection()
    source: sqlite3.Connection = connection.connection
    # The plaintext copy lives next to the database (same disk, same protection, room for
    # it), in a directory only this user can read, removed when the backup is written.
    beside = None if _in_memory(connection) else Path(connection.settings_dict["NAME"]).parent
    with tempfile.TemporaryDirectory(prefix=".openiop-backup-", dir=beside) as private:
        copy_path = Path(private) / "copy.sqlite3"
        progress("backup: copying the SQLite database with the online backup API")
        destination = sqlite3.connect(copy_path)
        try:
            # One step (pages=-1): the whole copy is read under one read lock, so it is a
            # consistent snapshot; writers carry on meanwhile (WAL).
            source.backup(destination, pages=-1)
        finally:
            destination.close()
        size = copy_path.stat().st_size
        progress(f"backup: copied {_mib(size)}; reading the manifest from the copy")
        database = {
            "vendor": "sqlite",
            "server_version": sqlite3.sqlite_version,
            "dump": "sqlite database file (online backup API)",
        }
        with temporary_database(str(copy_path), like=connection.alias) as alias:
            manifest = build_manifest(alias, database, master)
        _say_audit(manifest, progress, "backup")
        _write_manifest(writer, manifest)
        progress(f"backup: encrypting {_mib(size)}")
        with copy_path.open("rb") as dump:
            _pump(dump, writer.write, progress, "backup: encrypted")
    return manifest


def _say_audit(manifest: dict[str, Any], progress: Progress, step: str) -> None:
    audit = manifest["audit"]
    if audit is None:
        progress(f"{step}: no audit log in this database")
    elif audit["verified"]:
        progress(
            f"{step}: audit chain intact ({audit['checked']} events), head {audit['head_seq']}"
        )
    else:
        progress(
            f"{step}: WARNING: the audit chain does not verify ({audit['problem']} at or after "
            f"sequence {audit['head_seq']}); backing it up as it is"
        )


def _pump(source: IO[bytes], sink: Callable[[bytes], Any], progress: Progress, label: str) -> int:
    """Copy `source` to `sink` in 1 MiB reads, reporting every few seconds."""
    total = 0
    last = time.monotonic()
    while data := source.read(_READ_SIZE):
        sink(data)
        total += len(data)
        if time.monotonic() - last >= _PROGRESS_EVERY_SECONDS:
            progress(f"{label} {_mib(total)} so far")
            last = time.monotonic()
    return total


def _major(version_text: str) -> int:
    """15 from "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"."""
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", version_text) or re.search(r"(\d+)", version_text)
    if not found:
        raise BackupError(f"cannot read a version from {version_text!r}")
    return int(found.group(1))


def _pg_tool(name: str) -> tuple[str, str]:
    """Path and `--version` text of pg_dump / pg_restore."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH; install the PostgreSQL client tools matching the "
            "server (Debian: postgresql-client-<major>)"
        )
    found = subprocess.run(  # noqa: S603 - the client tool found on PATH, fixed arguments
        [path, "--version"], capture_output=True, text=True, check=True
    )
    version = found.stdout.strip()
    return path, version


def _pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq environment for the client tools (keeps the password off the command line)."""
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "service"):
        if options.get(key):
            env[f"PG{key.upper()}"] = str(options[key])
    return env


def _server_major(connection: BaseDatabaseWrapper) -> int:
    connection.ensure_connection()
    version: int = connection.pg_version  # type: ignore[attr-defined]
    return version // 10000


def _backup_postgresql(
    connection: BaseDatabaseWrapper, writer: EncryptingWriter, master: bytes, progress: Progress
) -> dict[str, Any]:
    pg_dump, dump_version = _pg_tool("pg_dump")
    server = _server_major(connection)
    if _major(dump_version) < server:
        raise BackupError(
            f"{dump_version} cannot dump a PostgreSQL {server} server: install "
            f"postgresql-client-{server} and put its pg_dump first on PATH"
        )
    if connection.in_atomic_block:
        raise BackupError("a backup must not run inside an open transaction")
    database = {
        "vendor": "postgresql",
        "server_version": f"{server} ({connection.pg_version})",  # type: ignore[attr-defined]
        "dump": f"pg_dump custom format ({dump_version})",
        "pg_dump_major": _major(dump_version),
    }
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            # One snapshot for the manifest and the dump: pg_dump --snapshot imports it.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = str(cursor.fetchone()[0])
        progress("backup: reading the manifest (row counts, migrations, audit chain)")
        manifest = build_manifest(connection.alias, database, master)
        _say_audit(manifest, progress, "backup")
        _write_manifest(writer, manifest)
        progress("backup: running pg_dump (custom format) and encrypting its output")
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_pg_environment(connection.settings_dict),
            )
            assert process.stdout is not None
            try:
                total = _pump(process.stdout, writer.write, progress, "backup: pg_dump wrote")
            finally:
                process.stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                raise BackupError(f"pg_dump failed (exit {code}): {_tail(errors.read())}")
    progress(f"backup: pg_dump done ({_mib(total)} compressed dump)")
    return manifest


def _tail(output: bytes, lines: int = 15) -> str:
    text = output.decode("utf-8", "replace").strip().splitlines()
    return "\n".join(text[-lines:]) or "(no message)"


# --------------------------------------------------------------------------- reading a backup


class _Plaintext:
    """The decrypted stream: the manifest first, then the dump in authenticated chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                raise BackupIntegrityError("the backup ends before its manifest") from None
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def rest(self) -> Iterator[bytes]:
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        yield from self._chunks


def _open_backup(source: BinaryIO, master: bytes) -> tuple[dict[str, Any], _Plaintext]:
    plain = _Plaintext(decrypt_chunks(source, master))
    length = int.from_bytes(plain.take(8), "big")
    if length > 64 * 1024 * 1024:
        raise BackupIntegrityError("the backup manifest is impossibly large")
    try:
        manifest = json.loads(plain.take(length))
    except ValueError:
        raise BackupIntegrityError("the backup manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupIntegrityError("the file holds no OpenIOP backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {manifest.get('format_version')} is not readable by this "
            "OpenIOP; restore it with the version that wrote it"
        )
    return manifest, plain


def read_manifest(path: Path, master: bytes) -> dict[str, Any]:
    """The manifest of a backup, after authenticating the whole file."""
    with path.open("rb") as source:
        manifest, plain = _open_backup(source, master)
        for _ in plain.rest():
            pass
    return manifest


# --------------------------------------------------------------------------- restore


def _check_manifest(manifest: dict[str, Any], connection: BaseDatabaseWrapper) -> list[str]:
    """Refuse a backup this code cannot take; returns migrations to apply afterwards."""
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"this is a {vendor} backup and the target database is {connection.vendor}; "
            "restore it into the kind of database it came from"
        )
    backed_up = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    known = _known_migrations()
    unknown = sorted(f"{app}.{name}" for app, name in backed_up - set(known))
    if unknown:
        raise BackupError(
            "this backup comes from a newer OpenIOP: its schema has migrations this code "
            f"does not know ({', '.join(unknown[:_NAMED])}). Upgrade OpenIOP first, then restore."
        )
    # Django records a squashed migration as the migrations it replaces.
    applied = backed_up | {key for key, old in known.items() if old and set(old) <= backed_up}
    return sorted(f"{app}.{name}" for app, name in set(known) - applied)


def _describe(connection: BaseDatabaseWrapper) -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"the SQLite database {settings_dict['NAME']}"
    host = settings_dict.get("HOST") or "localhost"
    return f"the PostgreSQL database {settings_dict['NAME']!r} on {host}"


def refuse_non_empty(using: str = DEFAULT_DB_ALIAS) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor, include_views=True))
    if tables:
        named = ", ".join(tables[:_NAMED])
        more = f" and {len(tables) - _NAMED} more" if len(tables) > _NAMED else ""
        raise BackupError(
            f"{_describe(connection)} is not empty: it has {len(tables)} tables ({named}{more}). "
            "A restore only goes into a new, empty database: create one (PostgreSQL: "
            "`createdb`; SQLite: a path where no database file exists) and point DATABASE_URL "
            "at it. Nothing was changed."
        )


def restore(
    path: Path, master: bytes, *, using: str = DEFAULT_DB_ALIAS, progress: Progress = _quiet
) -> RestoreReport:
    """Restore the backup at `path` into the empty database `using`, then check it against
    the manifest (row counts, triggers, migrations, audit chain and head)."""
    connection = connections[using]
    with path.open("rb") as source:
        manifest, plain = _open_backup(source, master)
        progress(
            f"restore: backup of {manifest['created_at']} ({manifest['database']['vendor']}, "
            f"{sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables)"
        )
        pending = _check_manifest(manifest, connection)
        if connection.vendor == "sqlite" and not _in_memory(connection):
            _sqlite_target(connection).parent.mkdir(parents=True, exist_ok=True)
        refuse_non_empty(using)
        if connection.vendor == "postgresql":
            _restore_postgresql(path, master, plain, connection, manifest, progress)
            checked = _check_restored(using, manifest, progress)
        else:
            checked = _restore_sqlite(plain, connection, manifest, progress)
    return RestoreReport(
        manifest=manifest,
        audit_checked=checked[0],
        audit_ok=checked[1],
        pending_migrations=pending,
    )


def _in_memory(connection: BaseDatabaseWrapper) -> bool:
    name = str(connection.settings_dict["NAME"])
    return name == ":memory:" or "mode=memory" in name


def _sqlite_target(connection: BaseDatabaseWrapper) -> Path:
    name = str(connection.settings_dict["NAME"])
    if _in_memory(connection):
        raise BackupError("cannot restore into an in-memory SQLite database; configure a file")
    return Path(name)


def _restore_sqlite(
    plain: _Plaintext,
    connection: BaseDatabaseWrapper,
    manifest: dict[str, Any],
    progress: Progress,
) -> tuple[int, bool]:
    target = _sqlite_target(connection)
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.restore-", suffix=".tmp", dir=target.parent
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            progress("restore: decrypting the database file")
            for chunk in plain.rest():  # every chunk is authenticated before it is written
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        with temporary_database(str(temp), like=connection.alias) as alias:
            checked = _check_restored(alias, manifest, progress)
        for suffix in ("-wal", "-shm", "-journal"):
            if Path(str(temp) + suffix).exists():
                raise BackupError("the restored copy was left with an open journal; not moved")
        # Only now does the target change: close our connection to the (empty) target, drop
        # its empty journal files, and move the checked copy into place atomically.
        refuse_non_empty(connection.alias)
        connection.close()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    progress(f"restore: moved the restored database into {target}")
    return checked


def _restore_postgresql(
    path: Path,
    master: bytes,
    plain: _Plaintext,
    connection: BaseDatabaseWrapper,
    manifest: dict[str, Any],
    progress: Progress,
) -> None:
    pg_restore, restore_version = _pg_tool("pg_restore")
    needed = int(manifest["database"].get("pg_dump_major", 0))
    if _major(restore_version) < needed:
        raise BackupError(
            f"{restore_version} cannot read a dump made by pg_dump {needed}: install "
            f"postgresql-client-{needed} or newer"
        )
    # First pass: authenticate the whole file, so a damaged backup never reaches pg_restore.
    progress("restore: authenticating the whole backup file")
    for _ in plain.rest():
        pass
    progress("restore: running pg_restore (single transaction)")
    with path.open("rb") as source, tempfile.TemporaryFile() as errors:
        _, body = _open_backup(source, master)
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [
                pg_restore,
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--no-password",
                f"--dbname={connection.settings_dict['NAME']}",
            ],
            stdin=subprocess.PIPE,
            stderr=errors,
            env=_pg_environment(connection.settings_dict),
        )
        assert process.stdin is not None
        try:
            _feed(body.rest(), process.stdin, progress)
        except BaseException:
            # pg_restore has not committed: killing it rolls its transaction back.
            process.kill()
            process.wait()
            raise
        code = process.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(
                f"pg_restore failed (exit {code}); the target was left as it was:\n"
                f"{_tail(errors.read())}"
            )
    connection.close()  # a fresh connection sees the restored schema
    with connection.cursor() as cursor:
        progress("restore: ANALYZE (planner statistics are not part of a dump)")
        cursor.execute("ANALYZE")


def _feed(chunks: Iterable[bytes], stdin: IO[bytes], progress: Progress) -> None:
    total = 0
    last = time.monotonic()
    try:
        for chunk in chunks:
            stdin.write(chunk)
            total += len(chunk)
            if time.monotonic() - last >= _PROGRESS_EVERY_SECONDS:
                progress(f"restore: pg_restore read {_mib(total)} so far")
                last = time.monotonic()
        stdin.close()
    except BrokenPipeError:
        pass  # pg_restore stopped early; its exit status and message tell why


def _check_restored(using: str, manifest: dict[str, Any], progress: Progress) -> tuple[int, bool]:
    """The restored database must be what the manifest describes; returns the number of audit
    events verified and whether the chain verified (a backup of an already broken chain is
    restored as it was, and the command says so)."""
    progress("restore: comparing the restored database with the manifest")
    problems: list[str] = []
    counts = table_counts(using)
    expected: dict[str, int] = manifest["tables"]
    wrong = sorted(
        f"{table} ({counts.get(table, 'missing')} rows, manifest {rows})"
        for table, rows in expected.items()
        if counts.get(table) != rows
    )
    if wrong:
        problems.append("row counts differ: " + ", ".join(wrong[:_NAMED]))
    extra = sorted(set(counts) - set(expected))
    if extra:
        problems.append("tables not in the manifest: " + ", ".join(extra[:_NAMED]))
    if applied_migrations(using) != manifest["migrations"]:
        problems.append("applied migrations differ from the manifest")
    missing = sorted(set(manifest["triggers"]) - set(trigger_names(using)))
    if missing:
        problems.append("database triggers missing: " + ", ".join(missing))
    if connections[using].vendor == "sqlite" and "openiop_trigger_flag" in counts:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT name FROM openiop_trigger_flag")
            flags = sorted(str(row[0]) for row in cursor.fetchall())
        if flags:
            problems.append(f"immutability triggers are switched off (flags: {', '.join(flags)})")
    checked, ok = 0, True
    audit = manifest["audit"]
    if audit is not None:
        progress("restore: verifying the audit chain")
        result = audit_verify(using=using)
        checked, ok = result.checked, result.ok
        if audit["verified"] and not result.ok:
            problems.append(
                f"the audit chain does not verify: {result.problem} at sequence "
                f"{result.first_bad_seq}"
            )
        head = audit_head(using)
        if head != (audit["head_seq"], audit["head_hash"]):
            problems.append(
                f"the audit chain head is at sequence {head[0]}, the manifest says "
                f"{audit['head_seq']}"
            )
    if problems:
        raise BackupError("the restored database does not match the backup: " + "; ".join(problems))
    return checked, ok
