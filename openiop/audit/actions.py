"""Appending to the audit log. Callers are inside the write's own transaction, so the event
and the change commit together or not at all (REL-02)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from openiop.audit.chain import chain_fields, link_hash
from openiop.audit.models import AuditAction, AuditCheckpoint, AuditEvent, AuditHead
from openiop.core.errors import ActionError
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
    if participant is None:
        # An addendum or co-signature hangs off a participant's note: it is about them too.
        participant = getattr(getattr(obj, "note", None), "participant", None)
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


def audit_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, zone: Any = None
) -> dict[str, dict[str, Any]]:
    """{field: {"before": …, "after": …}} for the fields whose value changed, as JSON
    values (times on the wall clock of `zone` as HH:MM, dates ISO). For structured values
    only: free text is never copied into the log (record which fields changed instead)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            moment = value.astimezone(zone) if zone is not None else value
            return moment.strftime("%H:%M") if zone is not None else moment.isoformat()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    return {
        name: {"before": plain(before.get(name)), "after": plain(after.get(name))}
        for name in after
        if before.get(name) != after.get(name)
    }


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


# AU-05: audit records are kept at least six years (HIPAA 45 CFR 164.316(b)(2)(i)).
RETENTION_YEARS = 6


def years_before(moment: datetime, years: int) -> datetime:
    """The same wall-clock instant `years` calendar years earlier; 29 February becomes
    28 February. This matches PostgreSQL's `now() - interval '6 years'`, which the purge
    trigger applies independently."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return moment.replace(year=moment.year - years, day=28)


def audit_purge(*, actor: User, before: datetime) -> int:
    """Remove events older than `before` once they are past retention; returns how many.

    Only a prefix of the chain is removed (every row up to the first one at or after
    `before`), the last removed row's sequence number and hash become an `AuditCheckpoint`
    that `audit verify` starts from, and the purge itself is appended as an event naming the
    checkpoint, all in one transaction.
    """
    if timezone.is_naive(before):
        raise ActionError({"before": "Give a time zone-aware date and time."})
    # Taken before the transaction starts, so PostgreSQL's now() in the trigger is later
    # and its six-year cut-off never stricter than this one.
    oldest_allowed = years_before(timezone.now(), RETENTION_YEARS)
    if before > oldest_allowed:
        raise ActionError(
            {
                "before": f"Audit events are kept for {RETENTION_YEARS} years: choose a date "
                f"on or before {oldest_allowed:%Y-%m-%d %H:%M} UTC."
            }
        )
    with transaction.atomic():
        AuditHead.objects.select_for_update().get_or_create(id=1)
        first_kept = (
            AuditEvent.objects.filter(occurred_at__gte=before)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        candidates = AuditEvent.objects.order_by("-seq")
        if first_kept is not None:
            candidates = candidates.filter(seq__lt=first_kept)
        last = candidates.values_list("seq", "hash").first()
        purged = 0
        if last is not None:
            purged = _delete_through(last[0], older_than=oldest_allowed)
            AuditCheckpoint.objects.create(
                seq=last[0], hash=last[1], before=before, purged=purged, created_at=timezone.now()
            )
        audit_append(
            actor=actor,
            entries=[
                AuditEntry(
                    action=AuditAction.PURGE,
                    object_type="audit.auditevent",
                    detail={
                        "before": before.isoformat(),
                        "purged": purged,
                        "through_seq": last[0] if last else None,
                        "through_hash": last[1] if last else None,
                    },
                )
            ],
        )
    return purged


def _delete_through(seq: int, *, older_than: datetime) -> int:
    """The one sanctioned delete of audit rows: raw SQL past the ORM guard, under the
    transaction-local flag the append-only trigger recognises. On SQLite the flag is a row
    holding the cut-off (audit migration 0004), inserted and removed inside this transaction
    (SQLite's single writer means no other connection sees it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL openiop.audit_purge = 'on'")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "INSERT INTO openiop_trigger_flag (name, value) VALUES ('audit_purge', %s)",
                [connection.ops.adapt_datetimefield_value(older_than)],
            )
        cursor.execute("DELETE FROM audit_auditevent WHERE seq <= %s", [seq])
        deleted: int = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL openiop.audit_purge = 'off'")
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM openiop_trigger_flag WHERE name = 'audit_purge'")
    return deleted
