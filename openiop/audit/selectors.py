"""Reads of the audit log for the report page and CSV export (AU-03). Every read is scoped
to one program: only events whose program id is that program's are ever returned."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from openiop.accounts.models import User, UserKind
from openiop.audit.models import AuditEvent
from openiop.participants.models import Participant
from openiop.programs.models import Program


@dataclass(frozen=True)
class AuditFilters:
    start: datetime | None = None  # inclusive, aware
    end: datetime | None = None  # exclusive, aware
    actor_id: int | None = None
    participant: UUID | None = None
    action: str = ""
    break_glass_only: bool = False


def audit_events(*, program: Program, filters: AuditFilters) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(program_external_id=program.external_id)
    if filters.start is not None:
        qs = qs.filter(occurred_at__gte=filters.start)
    if filters.end is not None:
        qs = qs.filter(occurred_at__lt=filters.end)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.participant is not None:
        qs = qs.filter(participant_external_id=filters.participant)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.break_glass_only:
        qs = qs.filter(break_glass=True)
    return qs.select_related("actor")


def audit_events_in_chunks(
    *, program: Program, filters: AuditFilters, through_seq: int, chunk: int = 2000
) -> Iterator[list[AuditEvent]]:
    """Oldest first, in keyset-paginated chunks (for streaming exports)."""
    base = audit_events(program=program, filters=filters).filter(seq__lte=through_seq)
    last = 0
    while True:
        rows = list(base.filter(seq__gt=last).order_by("seq")[:chunk])
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def program_staff(*, program: Program) -> QuerySet[User]:
    """Everyone who holds or held a role in the program (former staff stay searchable)."""
    return (
        User.objects.filter(memberships__program=program, kind=UserKind.STAFF)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def record_numbers(*, program: Program, participant_ids: Iterable[UUID | None]) -> dict[UUID, str]:
    """Record numbers for the given participant ids of this program, in one query."""
    ids = {pid for pid in participant_ids if pid is not None}
    if not ids:
        return {}
    return dict(
        Participant.objects.filter(program=program, external_id__in=ids).values_list(
            "external_id", "record_number"
        )
    )


def participant_ref(*, program: Program, text: str) -> UUID | None:
    """A participant of this program by record number or external id, else None."""
    text = text.strip()
    qs = Participant.objects.filter(program=program)
    try:
        by_id = UUID(text)
    except ValueError:
        match = qs.filter(record_number__iexact=text)
    else:
        match = qs.filter(external_id=by_id)
    return match.values_list("external_id", flat=True).first()
