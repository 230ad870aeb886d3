"""Appending to the audit log. Callers are inside the write's own transaction, so the event
and the change commit together or not at all (REL-02)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import models, transaction
from django.utils import timezone

from openiop.audit.chain import chain_fields, link_hash
from openiop.audit.models import AuditEvent, AuditHead
from openiop.core.middleware import current_break_glass, current_request_id

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Program


@dataclass(frozen=True)
class AuditEntry:
    """One event to append. Object and participant are opaque external ids, never names."""

    action: str
    object_type: str
    object_id: str = ""
    program_id: UUID | None = None
    participant_id: UUID | None = None
    outcome: str = "success"
    detail: dict[str, Any] = field(default_factory=dict)


def _participant_id_of(obj: models.Model | None) -> UUID | None:
    if obj is None:
        return None
    if obj._meta.label == "participants.Participant":
        return getattr(obj, "external_id", None)
    participant = getattr(obj, "participant", None)
    return getattr(participant, "external_id", None)


def _program_id_of(obj: models.Model | None, program: Program | None) -> UUID | None:
    if program is not None:
        return program.external_id
    if obj is not None and obj._meta.label == "programs.Program":
        return getattr(obj, "external_id", None)
    owner = getattr(obj, "program", None)
    return getattr(owner, "external_id", None)


def entry_for(
    *,
    action: str,
    obj: models.Model | None = None,
    program: Program | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry(
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(getattr(obj, "external_id", "") or "") if obj is not None else "",
        program_id=_program_id_of(obj, program),
        participant_id=_participant_id_of(obj),
        outcome=outcome,
        detail=detail or {},
    )


def audit_append(*, actor: User | None, entries: Sequence[AuditEntry]) -> list[AuditEvent]:
    """Append events under the chain-head lock; one INSERT however many entries."""
    if not entries:
        return []
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        now = timezone.now()
        request_id = current_request_id.get()
        break_glass = current_break_glass.get()
        actor_id = actor.pk if actor is not None and actor.pk else None
        events = []
        prev_hash = head.last_hash
        for offset, entry in enumerate(entries, start=1):
            fields = chain_fields(
                seq=head.last_seq + offset,
                occurred_at=now,
                actor_id=actor_id,
                program_external_id=str(entry.program_id) if entry.program_id else None,
                participant_external_id=str(entry.participant_id) if entry.participant_id else None,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                outcome=entry.outcome,
                request_id=request_id,
                break_glass=break_glass,
                detail=entry.detail,
            )
            digest = link_hash(prev_hash, fields)
            events.append(
                AuditEvent(
                    seq=fields["seq"],
                    occurred_at=now,
                    actor_id=actor_id,
                    program_external_id=entry.program_id,
                    participant_external_id=entry.participant_id,
                    action=entry.action,
                    object_type=entry.object_type,
                    object_id=entry.object_id,
                    outcome=entry.outcome,
                    request_id=request_id,
                    break_glass=break_glass,
                    detail=entry.detail,
                    prev_hash=prev_hash,
                    hash=digest,
                )
            )
            prev_hash = digest
        AuditEvent.objects.bulk_create(events)
        head.last_seq += len(events)
        head.last_hash = prev_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return events


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    program: Program | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    entry = entry_for(action=action, obj=obj, program=program, outcome=outcome, detail=detail)
    return audit_append(actor=actor, entries=[entry])[0]


def audit_record_reads(
    *, actor: User, objects: Sequence[models.Model], program: Program, view: str
) -> list[AuditEvent]:
    """A list view records one read event per participant shown (AU-01)."""
    entries = [
        entry_for(action="read", obj=obj, program=program, detail={"view": view}) for obj in objects
    ]
    return audit_append(actor=actor, entries=entries)
