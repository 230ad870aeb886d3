"""Helpers for tamper tests: write to the audit tables as an attacker with database access."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, connections

from openiop.audit.actions import AuditEntry, audit_append
from openiop.audit.models import AuditEvent


def raw_as_attacker(sql: str, params: Sequence[Any] = ()) -> None:
    """Raw SQL around the ORM. On PostgreSQL a superuser first switches triggers off for the
    session (`session_replication_role = replica`); on SQLite whoever holds the file could
    drop the triggers, which the 'bypass' flag row stands in for. Only the hash chain can
    tell."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        elif connection.vendor == "sqlite":
            cursor.execute("INSERT INTO openiop_trigger_flag (name) VALUES ('bypass')")
        try:
            cursor.execute(sql, list(params))
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            elif connection.vendor == "sqlite":
                cursor.execute("DELETE FROM openiop_trigger_flag WHERE name = 'bypass'")


def append_events(n: int, *, actor=None, batch: int = 50, **entry_fields: object) -> None:
    """n events, `batch` per audit_append call (one INSERT each)."""
    done = 0
    while done < n:
        size = min(batch, n - done)
        entries = [
            AuditEntry(
                action="read",
                object_type="participants.participant",
                detail={"i": done + i},
                **entry_fields,  # type: ignore[arg-type]
            )
            for i in range(size)
        ]
        audit_append(actor=actor, entries=entries)
        done += size


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def run_cli(argv: list[str]) -> None:
    """`openiop.cli.main` as a test calls it. A management command closes every database
    connection when it finishes; inside a test transaction on PostgreSQL that would end the
    test's transaction, so the close is skipped for the duration of the call."""
    from openiop.cli import main

    real_close_all = connections.close_all
    connections.close_all = lambda: None  # type: ignore[method-assign]
    try:
        main(argv)
    finally:
        connections.close_all = real_close_all  # type: ignore[method-assign]
