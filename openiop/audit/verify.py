"""Re-walk the hash chain and report the first row that does not fit (AU-02).

Rows are read as plain tuples in keyset-paginated chunks (no model instances, no server-side
cursor), which keeps 100,000 events well under the 5-second budget on a small machine
(docs/benchmarks-audit.md). Verification starts at the latest retention checkpoint, if any
(AU-05), and the checkpoint must be vouched for by its purge event inside the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from openiop.audit.chain import GENESIS_HASH, row_link_hash
from openiop.audit.models import AuditAction, AuditCheckpoint, AuditEvent, AuditHead

_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "program_external_id",
    "participant_external_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "break_glass",
    "detail",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str


def _rows(after_seq: int, batch_size: int, using: str) -> Iterator[tuple[Any, ...]]:
    """Chain columns in sequence order, as raw database tuples normalised by `_normalise`.

    The SQL is compiled from the ORM (portable quoting), but rows skip the per-field
    converters: they cost more than the hashing itself on 100,000 rows."""
    connection = connections[using]
    last = after_seq
    while True:
        query = (
            AuditEvent.objects.using(using)
            .filter(seq__gt=last)
            .order_by("seq")
            .values_list(*_COLUMNS)
        )[:batch_size]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            _uuids_as_text(cursor, connection.vendor)
            cursor.execute(sql, params)
            chunk = cursor.fetchall()
        if not chunk:
            return
        yield from map(_normalise, chunk)
        last = chunk[-1][0]


def _uuids_as_text(cursor: Any, vendor: str) -> None:
    """psycopg builds a `uuid.UUID` per value, only for verify to turn it back into text."""
    if vendor == "postgresql":
        from psycopg.types.string import TextLoader

        cursor.cursor.adapters.register_loader("uuid", TextLoader)


def _uuid_text(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, str) and len(value) == 32:  # SQLite stores UUIDs as bare hex
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def _normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Raw values in the types the hash was computed over: aware UTC time, dashed UUID
    text, decoded JSON detail, a real bool."""
    occurred_at = row[1]
    if isinstance(occurred_at, str):
        occurred_at = datetime.fromisoformat(occurred_at)
    if occurred_at.tzinfo is None:  # stored as UTC without an offset (SQLite)
        occurred_at = occurred_at.replace(tzinfo=UTC)
    elif occurred_at.tzinfo is not UTC:
        occurred_at = occurred_at.astimezone(UTC)
    detail = row[11]
    if isinstance(detail, (str, bytes)):
        detail = json.loads(detail)
    return (
        row[0],
        occurred_at,
        row[2],
        _uuid_text(row[3]),
        _uuid_text(row[4]),
        *row[5:10],
        bool(row[10]),
        detail,
        row[12],
        row[13],
    )


def _row_hash(prev_hash: str, row: tuple[Any, ...]) -> str:
    return row_link_hash(prev_hash, *row[:12])


def _vouches_for(checkpoint: AuditCheckpoint, row: tuple[Any, ...]) -> bool:
    detail = row[11]
    return (
        row[5] == AuditAction.PURGE
        and isinstance(detail, dict)
        and detail.get("through_seq") == checkpoint.seq
        and detail.get("through_hash") == checkpoint.hash
    )


def audit_verify(batch_size: int = 10_000, using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    """Verify the chain on the database `using` (another alias: a backup copy being checked
    before it is restored, or a freshly restored database)."""
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-seq").first()
    start = checkpoint.seq if checkpoint else 0
    prev_hash = checkpoint.hash if checkpoint else GENESIS_HASH
    expected_seq = start + 1
    vouched = checkpoint is None
    checked = 0
    for row in _rows(start, batch_size, using):
        seq, row_prev, row_hash = row[0], row[12], row[13]
        if seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, "row missing (deleted or renumbered)")
        if row_prev != prev_hash:
            return VerifyResult(
                False,
                checked,
                seq,
                "row out of order: it does not link to the row before it "
                "(rows reordered, or the previous row rewritten)",
            )
        if _row_hash(prev_hash, row) != row_hash:
            return VerifyResult(False, checked, seq, "row edited: contents do not match its hash")
        if not vouched and checkpoint is not None:
            vouched = _vouches_for(checkpoint, row)
        prev_hash = row_hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    head = AuditHead.objects.using(using).filter(id=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        # The head remembers how long the log was: a truncated tail shows up here.
        return VerifyResult(False, checked, last_seq + 1, "log ends before its recorded head")
    if not vouched:
        return VerifyResult(
            False, checked, start + 1, "retention checkpoint has no matching purge event"
        )
    return VerifyResult(True, checked, None, "intact")
