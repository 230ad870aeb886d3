"""Safety events over JSON: list the open ones, raise one (staff), acknowledge. The same
actions, scoping and audit as the web pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record_reads
from openiop.participants import selectors as participant_selectors
from openiop.safety import actions, selectors
from openiop.safety.models import SafetyEvent, Source

router = Router(tags=["safety"])

EVENTS = "/{program_id}/safety/events"


class RaiseIn(StrictIn):
    severity: Literal["high", "urgent", "review"]
    detail: str = Field("", max_length=500)


class AcknowledgeIn(StrictIn):
    pass


class EventOut(Schema):
    id: UUID
    participant: UUID
    source: str
    severity: str
    status: str
    detail: str
    created_at: datetime
    acknowledged_at: datetime | None
    escalation_level: int


class EventListOut(Schema):
    items: list[EventOut]


def _access(request: HttpRequest, program_id: UUID, perm: Perm) -> ProgramAccess:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    return access


def event_out(event: SafetyEvent) -> EventOut:
    return EventOut(
        id=event.external_id,
        participant=event.participant.external_id,
        source=event.source,
        severity=event.severity,
        status=event.status,
        detail=event.detail,
        created_at=event.created_at,
        acknowledged_at=event.acknowledged_at,
        escalation_level=event.escalation_level,
    )


@router.get(EVENTS, response=EventListOut, summary="Open safety events (at most 50)")
def list_open_events(request: HttpRequest, program_id: UUID) -> EventListOut:
    access = _access(request, program_id, Perm.SAFETY_VIEW)
    events = list(selectors.open_events(program=access.program)[:50])
    shown = {e.participant_id: e.participant for e in events}
    audit_record_reads(
        actor=request_user(request),
        objects=list(shown.values()),
        program=access.program,
        view="safety",
    )
    return EventListOut(items=[event_out(e) for e in events])


@router.post(
    "/{program_id}/participants/{participant_id}/safety-events",
    response={201: EventOut},
    summary="Raise a safety event (staff)",
)
def raise_event(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: RaiseIn
) -> Status[EventOut]:
    access = _access(request, program_id, Perm.SAFETY_ACK)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    event = actions.safety_event_raise(
        actor=request_user(request),
        participant=participant,
        source=Source.STAFF,
        severity=payload.severity,
        detail=payload.detail,
    )
    return Status(201, event_out(event))


@router.post(EVENTS + "/{event_id}/acknowledge", response=EventOut, summary="Acknowledge")
def acknowledge_event(
    request: HttpRequest, program_id: UUID, event_id: UUID, payload: AcknowledgeIn
) -> EventOut:
    access = _access(request, program_id, Perm.SAFETY_ACK)
    event = selectors.event_get(program=access.program, event_id=event_id)
    actions.safety_event_acknowledge(actor=request_user(request), event=event)
    return event_out(event)
