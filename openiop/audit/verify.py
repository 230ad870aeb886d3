"""Re-walk the hash chain and report the first row that does not fit (AU-02)."""

from __future__ import annotations

from dataclasses import dataclass

from openiop.audit.chain import GENESIS_HASH, chain_fields, link_hash
from openiop.audit.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str


def _fields_of(event: AuditEvent) -> dict[str, object]:
    return chain_fields(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        program_external_id=str(event.program_external_id) if event.program_external_id else None,
        participant_external_id=(
            str(event.participant_external_id) if event.participant_external_id else None
        ),
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        outcome=event.outcome,
        request_id=event.request_id,
        break_glass=event.break_glass,
        detail=event.detail,
    )


def audit_verify(batch_size: int = 5000) -> VerifyResult:
    expected_seq = 1
    prev_hash = GENESIS_HASH
    rows = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size)
    for event in rows:
        if event.seq != expected_seq:
            return VerifyResult(False, expected_seq - 1, expected_seq, "missing or reordered row")
        if event.prev_hash != prev_hash or link_hash(prev_hash, _fields_of(event)) != event.hash:
            return VerifyResult(False, expected_seq - 1, event.seq, "row does not match its hash")
        prev_hash = event.hash
        expected_seq += 1
    head = AuditHead.objects.filter(id=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        # The head remembers how long the log was: a truncated tail shows up here.
        return VerifyResult(False, last_seq, last_seq + 1, "log ends before its recorded head")
    return VerifyResult(True, last_seq, None, "intact")
