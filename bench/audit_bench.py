"""Benchmark `audit_verify()` on a fresh database holding 100,000 audit events (AU-02).

    .venv/bin/python bench/audit_bench.py                     # temporary SQLite file
    .venv/bin/python bench/audit_bench.py --database-url postgres://postgres@127.0.0.1:5432/openiop_bench

With a PostgreSQL URL the script creates that database, migrates it, and drops it at the
end. Results are written to docs/benchmarks-audit.md (one row per database engine; the other
engine's last row is kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from openiop.core.clock import utc_today

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks-audit.md"
BUDGET_SECONDS = 5.0


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def _pg_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to create/drop database {name!r}: use a plain name")
    return name


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _generate(n: int, batch: int) -> float:
    from openiop.accounts.models import User
    from openiop.audit.actions import AuditEntry, audit_append

    actor = User.objects.create(username=f"bench-{uuid.uuid4().hex[:8]}")
    program = uuid.uuid4()
    people = [uuid.uuid4() for _ in range(500)]
    started = time.perf_counter()
    done = 0
    while done < n:
        size = min(batch, n - done)
        entries = [
            AuditEntry(
                action="read",
                object_type="participants.participant",
                object_id=str(people[(done + i) % len(people)]),
                program_id=program,
                participant_id=people[(done + i) % len(people)],
                detail={"view": "chart"},
            )
            for i in range(size)
        ]
        audit_append(actor=actor, entries=entries)
        done += size
        if done % 10_000 == 0 or done == n:
            print(f"  generated {done:>7,} events ({time.perf_counter() - started:.1f} s)")
    return time.perf_counter() - started


def _write_doc(engine: str, events: int, seconds: float, generate_s: float) -> None:
    rows: dict[str, str] = {}
    if DOC.exists():
        for line in DOC.read_text().splitlines():
            match = re.match(r"\| (sqlite|postgresql) \|", line)
            if match:
                rows[match.group(1)] = line
    rate = events / seconds if seconds else 0.0
    rows[engine] = (
        f"| {engine} | {events:,} | {seconds:.2f} | {rate:,.0f} | {generate_s:.1f} | "
        f"{os.cpu_count()} cores (load {os.getloadavg()[0]:.1f}), "
        f"Python {platform.python_version()} | "
        f"{utc_today()} (UTC) |"
    )
    body = [
        "# Benchmark: audit chain verification",
        "",
        "`openiop audit verify` re-hashes every event since the last retention checkpoint",
        "(security.md AU-02). Budget: 100,000 events in under "
        f"{BUDGET_SECONDS:.0f} s on a 2-core machine.",
        "Produced by `bench/audit_bench.py` (fresh database, events appended in batches",
        "through `audit_append`, then `audit_verify()` timed once).",
        "",
        "| database | events | verify (s) | events/s | generate (s) | machine | date |",
        "|---|---|---|---|---|---|---|",
        *[rows[key] for key in ("sqlite", "postgresql") if key in rows],
        "",
    ]
    DOC.write_text("\n".join(body))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs page")
    args = parser.parse_args(argv)

    tmpdir = None
    url = args.database_url
    if url:
        name = _pg_name(url)
        print(f"creating PostgreSQL database {name}")
        _pg_admin(url, f"DROP DATABASE IF EXISTS {name}")
        _pg_admin(url, f"CREATE DATABASE {name}")
    else:
        tmpdir = tempfile.TemporaryDirectory(prefix="openiop-bench-")
        url = f"sqlite:///{Path(tmpdir.name) / 'bench.sqlite3'}"
    try:
        print(f"migrating {url}")
        _setup(url)
        from django.db import connection, connections

        from openiop.audit.verify import audit_verify

        engine = connection.vendor
        print(f"appending {args.events:,} events in batches of {args.batch}")
        generate_s = _generate(args.events, args.batch)
        print("verifying the chain")
        started = time.perf_counter()
        result = audit_verify()
        seconds = time.perf_counter() - started
        print(
            f"  {result.problem}: {result.checked:,} events in {seconds:.2f} s "
            f"({result.checked / seconds:,.0f} events/s; budget {BUDGET_SECONDS:.0f} s)"
        )
        connections.close_all()
        if not result.ok or result.checked < args.events:
            print("FAILED: the chain did not verify", file=sys.stderr)
            return 1
        if not args.no_write:
            _write_doc(engine, result.checked, seconds, generate_s)
            print(f"wrote {DOC.relative_to(ROOT)}")
        return 0 if seconds < BUDGET_SECONDS else 2
    finally:
        if args.database_url:
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {_pg_name(args.database_url)}")
            print("dropped the benchmark database")
        if tmpdir is not None:
            tmpdir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
