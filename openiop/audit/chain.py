"""The hash chain: h_n = SHA-256(h_{n-1} ‖ canonical(row_n)) (security.md AU-02)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical(fields: dict[str, Any]) -> str:
    """Stable text for a row: sorted keys, UTC ISO times, no whitespace."""

    def encode(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat(timespec="microseconds")
        if value is None or isinstance(value, (bool, int, float, str, list, dict)):
            return value
        return str(value)

    return json.dumps(
        {key: encode(val) for key, val in fields.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def link_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


# The same text `canonical()` produces, assembled directly in sorted-key order without the
# generic per-value encoding: `audit verify` re-hashes every row, and this halves its cost.
# tests/test_tamper.py holds the two byte-identical.
_ENCODE_DETAIL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_STR = json.encoder.encode_basestring


def _opt(value: object) -> str:
    return "null" if not value else _STR(str(value))


def row_link_hash(
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    program: object,
    participant: object,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    request_id: str,
    break_glass: bool,
    detail: Any,
) -> str:
    text = "".join(
        (
            prev_hash,
            '{"action":',
            _STR(action),
            ',"actor_id":',
            "null" if actor_id is None else str(int(actor_id)),
            ',"break_glass":',
            "true" if break_glass else "false",
            ',"detail":',
            _ENCODE_DETAIL(detail),
            ',"object_id":',
            _STR(object_id),
            ',"object_type":',
            _STR(object_type),
            ',"occurred_at":"',
            occurred_at.isoformat(timespec="microseconds"),
            '","outcome":',
            _STR(outcome),
            ',"participant":',
            _opt(participant),
            ',"program":',
            _opt(program),
            ',"request_id":',
            _STR(request_id),
            ',"seq":',
            str(int(seq)),
            "}",
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_fields(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    program_external_id: str | None,
    participant_external_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    request_id: str,
    break_glass: bool,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "program": program_external_id,
        "participant": participant_external_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "request_id": request_id,
        "break_glass": break_glass,
        "detail": detail,
    }
