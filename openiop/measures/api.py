"""Outcome measures over JSON. Same actions, scoping and audit as the web pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core.clock import program_today
from openiop.measures import actions, selectors
from openiop.measures.models import Assessment
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant

router = Router(tags=["outcome measures"])

# API pages hold at most 50 rows so each page's read audit is one INSERT (architecture.md).
PAGE = 50


class AssessmentIn(StrictIn):
    instrument: str = Field(min_length=1, max_length=16, description="e.g. phq9")
    answers: list[int | None] = Field(
        max_length=40,
        description="Codes in item order; null marks a skipped or unanswered item. A partial "
        "administration is stored (total null); an answer to an item that skip logic would have "
        "skipped is kept, scored and listed in `inconsistent`, never refused.",
    )
    administered_at: datetime | None = Field(None, description="Defaults to now.")
    sex: Literal["female", "male"] | None = Field(
        None, description="Sex used for scoring (AUDIT-C); defaults to the recorded one."
    )


class AssessmentOut(Schema):
    id: UUID
    participant: UUID
    instrument: str
    instrument_version: str
    administered_at: datetime
    source: str
    answers: list[int | None]
    total: float | None
    band: str | None
    positive_screen: bool | None
    subscales: dict[str, float | None]
    critical: list[int | str]
    critical_not_assessed: list[int | str]
    inconsistent: list[int | str] = Field(
        description="Items answered although skip logic would have skipped them: review."
    )
    risk: str | None
    prorated: bool
    entered_in_error: bool


class DueOut(Schema):
    participant: UUID
    record_number: str
    instrument: str
    cadence: str
    due_on: date
    last_on: date | None
    overdue: bool


def _participant(
    request: HttpRequest, program_id: UUID, participant_id: UUID, perm: Perm
) -> tuple[ProgramAccess, Participant]:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def assessment_out(a: Assessment, participant: Participant) -> AssessmentOut:
    return AssessmentOut(
        id=a.external_id,
        participant=participant.external_id,
        instrument=a.instrument,
        instrument_version=a.instrument_version,
        administered_at=a.administered_at,
        source=a.source,
        answers=list(a.answers),
        total=a.total_number,
        band=a.band or None,
        positive_screen=a.positive_screen,
        subscales=dict(a.subscales),
        critical=list(a.critical),
        critical_not_assessed=list(a.critical_not_assessed),
        inconsistent=list(a.inconsistent),
        risk=a.risk or None,
        prorated=a.prorated,
        entered_in_error=a.entered_in_error,
    )


BASE = "/{program_id}/participants/{participant_id}/assessments"


@router.get(BASE, response=list[AssessmentOut], summary="A participant's assessments (newest 50)")
def list_assessments(
    request: HttpRequest, program_id: UUID, participant_id: UUID
) -> list[AssessmentOut]:
    _, participant = _participant(request, program_id, participant_id, Perm.ASSESSMENT_VIEW)
    rows = selectors.assessment_list(participant=participant)[-PAGE:]
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "api.assessments"},
    )
    return [assessment_out(a, participant) for a in reversed(rows)]


@router.post(BASE, response={201: AssessmentOut}, summary="Score and record an administration")
def create_assessment(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: AssessmentIn
) -> Status[AssessmentOut]:
    _, participant = _participant(request, program_id, participant_id, Perm.ASSESSMENT_ENTER)
    assessment = actions.assessment_record(
        actor=request_user(request),
        participant=participant,
        instrument=payload.instrument,
        answers=payload.answers,
        administered_at=payload.administered_at,
        sex=payload.sex,
    )
    return Status(201, assessment_out(assessment, participant))


@router.get("/{program_id}/assessments/due", response=list[DueOut], summary="Measures due")
def list_due(request: HttpRequest, program_id: UUID) -> list[DueOut]:
    access = program_access(request_user(request), program_id)
    access.require(Perm.ASSESSMENT_VIEW)
    items = selectors.due_list(program=access.program, today=program_today(access.program))
    items = items[:PAGE]
    audit_record_reads(
        actor=request_user(request),
        objects=selectors.participants_in(items),
        program=access.program,
        view="api.measures.due",
    )
    return [
        DueOut(
            participant=i.participant.external_id,
            record_number=i.participant.record_number,
            instrument=i.instrument,
            cadence=i.cadence,
            due_on=i.due_on,
            last_on=i.last_on,
            overdue=i.overdue,
        )
        for i in items
    ]
