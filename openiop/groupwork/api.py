"""Group work over JSON: sessions, roster and attendance, practice, notes and the ledger.
The same actions and scoping as the session runner."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import clinicians_for_program
from openiop.accounts.stepup import require_recent_auth
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core import clock
from openiop.core.clock import program_today
from openiop.core.errors import ActionError
from openiop.groupwork import actions as gw
from openiop.groupwork import roomcode, selectors
from openiop.groupwork.actions.corrections import attendance_correct
from openiop.groupwork.ledger import iso_week_start, weekly_ledger
from openiop.groupwork.models import Attendance, Note, NoteAddendum, NoteStatus, Session
from openiop.participants import selectors as participant_selectors

router = Router(tags=["group work"])


class SessionOut(Schema):
    id: UUID
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    plan_code: str
    status: str
    facilitator: UUID
    track: UUID | None
    modality: Literal["in_person", "virtual", "hybrid"]
    place_of_service: str = Field(description="CMS place-of-service code for the session")


class SessionIn(StrictIn):
    kind: Literal["group", "individual", "family"]
    title: str = Field(min_length=1, max_length=200)
    starts_at: datetime
    ends_at: datetime
    facilitator: UUID
    track: UUID | None = None
    plan_code: str = Field("", max_length=40)
    room: str = Field("", max_length=100)
    capacity: int = Field(12, ge=1, le=40)
    modality: Literal["in_person", "virtual", "hybrid"] = "in_person"


class AttendanceOut(Schema):
    id: UUID
    participant: UUID
    record_number: str
    status: str
    arrived_at: datetime | None
    departed_at: datetime | None
    minutes: int
    walk_in: bool
    removed: bool


class RosterAddIn(StrictIn):
    participant: UUID
    walk_in: bool = False


class TimeIn(StrictIn):
    at: datetime


class AbsentIn(StrictIn):
    reason: str = Field("", max_length=200)
    excused: bool = False


class PracticeIn(StrictIn):
    participant: UUID
    skill: str = Field(min_length=1, max_length=120)
    role_taken: str = Field("", max_length=60)
    rating: int | None = Field(None, ge=1, le=5)
    feedback_themes: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=2000)


class AddendumOut(Schema):
    id: UUID
    note: UUID
    reason: str
    text: str
    minutes: int | None
    created_at: datetime


class NoteOut(Schema):
    id: UUID
    participant: UUID
    format: str
    sections: dict[str, str]
    status: str
    version: int
    signed_at: datetime | None
    content_hash: str
    peer_mentions: dict[str, list[str]]
    # A signed note's addenda, oldest first (an attendance correction re-states the minutes).
    addenda: list[AddendumOut] = Field(default_factory=list)


class NoteUpdateIn(StrictIn):
    version: int = Field(ge=1)
    sections: dict[str, str]


class SignAllOut(Schema):
    signed: list[UUID]
    refused: dict[str, dict[str, list[str]]]


class LedgerRowOut(Schema):
    participant: UUID
    group: int
    individual: int
    family: int
    total: int
    required: int
    shortfall: int
    scheduled_remaining: int
    at_risk: bool


class SessionFilters(Schema):
    day: date | None = None


def _access(request: HttpRequest, program_id: UUID, perm: Perm) -> ProgramAccess:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    return access


def _session_out(s: Session) -> SessionOut:
    return SessionOut(
        id=s.external_id,
        kind=s.kind,
        title=s.title,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        plan_code=s.plan_code,
        status=s.status,
        facilitator=s.facilitator.external_id,
        track=s.track.external_id if s.track else None,
        modality=s.modality,  # type: ignore[arg-type]  # constrained by session_modality_valid
        place_of_service=roomcode.place_of_service(s),
    )


def _attendance_out(a: Attendance) -> AttendanceOut:
    return AttendanceOut(
        id=a.external_id,
        participant=a.participant.external_id,
        record_number=a.participant.record_number,
        status=a.status,
        arrived_at=a.arrived_at,
        departed_at=a.departed_at,
        minutes=a.minutes,
        walk_in=a.walk_in,
        removed=a.removed,
    )


def _note_out(n: Note) -> NoteOut:
    return NoteOut(
        id=n.external_id,
        participant=n.participant.external_id,
        format=n.format,
        sections=n.sections,
        status=n.status,
        version=n.version,
        signed_at=n.signed_at,
        content_hash=n.content_hash,
        peer_mentions=gw.notes.guard_findings(n),
        # Drafts never have addenda: no query for them.
        addenda=[] if n.status == NoteStatus.DRAFT else [_addendum_out(a) for a in n.addenda.all()],
    )


def _addendum_out(a: NoteAddendum) -> AddendumOut:
    return AddendumOut(
        id=a.external_id,
        note=a.note.external_id,
        reason=a.reason,
        text=a.text,
        minutes=a.minutes,
        created_at=a.created_at,
    )


@router.get("/{program_id}/sessions", response=list[SessionOut], summary="Sessions on a day")
def list_sessions(
    request: HttpRequest, program_id: UUID, filters: Query[SessionFilters]
) -> list[SessionOut]:
    access = _access(request, program_id, Perm.ROSTER_VIEW)
    start, end = selectors.today_range(access.program, filters.day or program_today(access.program))
    return [
        _session_out(s)
        for s in selectors.sessions_between(program=access.program, start=start, end=end)
    ]


@router.post("/{program_id}/sessions", response={201: SessionOut}, summary="Create a session")
def create_session(
    request: HttpRequest, program_id: UUID, payload: SessionIn
) -> Status[SessionOut]:
    access = _access(request, program_id, Perm.SESSION_RUN)
    facilitator = (
        clinicians_for_program(program=access.program)
        .filter(external_id=payload.facilitator)
        .first()
    )
    if facilitator is None:
        raise ActionError({"facilitator": "No clinician of this program has that id."})
    track = (
        access.program.tracks.filter(external_id=payload.track).first() if payload.track else None
    )
    if payload.track and track is None:
        raise ActionError({"track": "No track of this program has that id."})
    session = gw.session_create(
        actor=request_user(request),
        program=access.program,
        kind=payload.kind,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        facilitator=facilitator,
        track=track,
        plan_code=payload.plan_code,
        room=payload.room,
        capacity=payload.capacity,
        modality=payload.modality,
    )
    return Status(201, _session_out(session))


@router.get(
    "/{program_id}/sessions/{session_id}/roster", response=list[AttendanceOut], summary="Roster"
)
def get_roster(request: HttpRequest, program_id: UUID, session_id: UUID) -> list[AttendanceOut]:
    access = _access(request, program_id, Perm.ROSTER_VIEW)
    session = selectors.session_get(program=access.program, session_id=session_id)
    rows = list(session.attendance.select_related("participant"))
    audit_record_reads(
        actor=request_user(request),
        objects=[r.participant for r in rows],
        program=access.program,
        view="api.roster",
    )
    return [_attendance_out(r) for r in rows]


@router.post(
    "/{program_id}/sessions/{session_id}/roster",
    response={201: AttendanceOut},
    summary="Add to roster",
)
def add_to_roster(
    request: HttpRequest, program_id: UUID, session_id: UUID, payload: RosterAddIn
) -> Status[AttendanceOut]:
    access = _access(request, program_id, Perm.SESSION_RUN)
    session = selectors.session_get(program=access.program, session_id=session_id)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=payload.participant
    )
    row = gw.attendance_add(
        actor=request_user(request),
        session=session,
        participant=participant,
        walk_in=payload.walk_in,
    )
    return Status(201, _attendance_out(row))


@router.post(
    "/{program_id}/sessions/{session_id}/start",
    response=list[AttendanceOut],
    summary="Start: mark everyone expected present",
)
def start_session(request: HttpRequest, program_id: UUID, session_id: UUID) -> list[AttendanceOut]:
    access = _access(request, program_id, Perm.SESSION_RUN)
    session = selectors.session_get(program=access.program, session_id=session_id)
    gw.session_start(actor=request_user(request), session=session)
    rows = list(session.attendance.select_related("participant"))
    # The answer names everyone on the roster: showing them is a read (AU-01).
    audit_record_reads(
        actor=request_user(request),
        objects=[r.participant for r in rows],
        program=access.program,
        view="api.roster",
    )
    return [_attendance_out(r) for r in rows]


def _row(
    request: HttpRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> Attendance:
    access = _access(request, program_id, Perm.SESSION_RUN)
    session = selectors.session_get(program=access.program, session_id=session_id)
    return selectors.attendance_get(session=session, attendance_id=attendance_id)


@router.post(
    "/{program_id}/sessions/{session_id}/attendance/{attendance_id}/arrive",
    response=AttendanceOut,
    summary="Record arrival",
)
def arrive(
    request: HttpRequest, program_id: UUID, session_id: UUID, attendance_id: UUID, payload: TimeIn
) -> AttendanceOut:
    row = _row(request, program_id, session_id, attendance_id)
    return _attendance_out(
        gw.attendance_arrive(
            actor=request_user(request), attendance=row, at=_aware(payload.at, row)
        )
    )


@router.post(
    "/{program_id}/sessions/{session_id}/attendance/{attendance_id}/depart",
    response=AttendanceOut,
    summary="Record departure",
)
def depart(
    request: HttpRequest, program_id: UUID, session_id: UUID, attendance_id: UUID, payload: TimeIn
) -> AttendanceOut:
    row = _row(request, program_id, session_id, attendance_id)
    return _attendance_out(
        gw.attendance_depart(
            actor=request_user(request), attendance=row, at=_aware(payload.at, row)
        )
    )


@router.post(
    "/{program_id}/sessions/{session_id}/attendance/{attendance_id}/absent",
    response=AttendanceOut,
    summary="Record absence",
)
def absent(
    request: HttpRequest, program_id: UUID, session_id: UUID, attendance_id: UUID, payload: AbsentIn
) -> AttendanceOut:
    row = _row(request, program_id, session_id, attendance_id)
    return _attendance_out(
        gw.attendance_absent(
            actor=request_user(request),
            attendance=row,
            reason=payload.reason,
            excused=payload.excused,
        )
    )


class AttendanceCorrectIn(StrictIn):
    reason: str = Field(min_length=1, max_length=300)
    status: Literal["present", "absent", "excused"]
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    absence_reason: str = Field("", max_length=200)


class AttendanceCorrectOut(Schema):
    attendance: AttendanceOut
    addendum: AddendumOut


@router.post(
    "/{program_id}/sessions/{session_id}/attendance/{attendance_id}/correct",
    response=AttendanceCorrectOut,
    summary="Correct attendance behind a signed note (adds an addendum re-stating the minutes)",
)
def correct(
    request: HttpRequest,
    program_id: UUID,
    session_id: UUID,
    attendance_id: UUID,
    payload: AttendanceCorrectIn,
) -> AttendanceCorrectOut:
    """Once the participant's note is signed, arrive/depart/absent are refused (409) and the
    attendance changes only here: row, minutes, ledger and the note's addendum together."""
    _access(request, program_id, Perm.NOTE_WRITE)
    row = _row(request, program_id, session_id, attendance_id)
    addendum = attendance_correct(
        actor=request_user(request),
        attendance=row,
        reason=payload.reason,
        status=payload.status,
        arrived_at=_aware(payload.arrived_at, row) if payload.arrived_at else None,
        departed_at=_aware(payload.departed_at, row) if payload.departed_at else None,
        absence_reason=payload.absence_reason,
    )
    return AttendanceCorrectOut(
        attendance=_attendance_out(row),
        addendum=_addendum_out(addendum),
    )


def _aware(at: datetime, row: Attendance) -> datetime:
    # A time without an offset is read in the program's own time zone.
    if at.tzinfo is None:
        return at.replace(tzinfo=clock.zone(row.session.program))
    return at


@router.post(
    "/{program_id}/sessions/{session_id}/practice",
    response={201: dict},
    summary="Record role-play and feedback",
)
def practice(
    request: HttpRequest, program_id: UUID, session_id: UUID, payload: PracticeIn
) -> Status[dict[str, Any]]:
    access = _access(request, program_id, Perm.SESSION_RUN)
    session = selectors.session_get(program=access.program, session_id=session_id)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=payload.participant
    )
    record = gw.practice_record_save(
        actor=request_user(request),
        session=session,
        participant=participant,
        skill=payload.skill,
        role_taken=payload.role_taken,
        rating=payload.rating,
        feedback_themes=payload.feedback_themes,
        comment=payload.comment,
    )
    return Status(201, {"id": str(record.external_id)})


@router.get(
    "/{program_id}/sessions/{session_id}/notes",
    response=list[NoteOut],
    summary="Notes of a session",
)
def list_notes(request: HttpRequest, program_id: UUID, session_id: UUID) -> list[NoteOut]:
    access = _access(request, program_id, Perm.NOTE_READ_BODY)
    access.require(Perm.ROSTER_VIEW)
    session = selectors.session_get(program=access.program, session_id=session_id)
    notes = list(
        Note.objects.filter(session=session)
        .select_related("participant", "session")
        .prefetch_related(Prefetch("addenda", queryset=NoteAddendum.objects.select_related("note")))
    )
    audit_record_reads(
        actor=request_user(request), objects=notes, program=access.program, view="api.notes"
    )
    return [_note_out(n) for n in notes]


@router.post(
    "/{program_id}/sessions/{session_id}/notes/draft",
    response=list[NoteOut],
    summary="Draft notes for everyone present",
)
def draft_notes(request: HttpRequest, program_id: UUID, session_id: UUID) -> list[NoteOut]:
    access = _access(request, program_id, Perm.NOTE_WRITE)
    session = selectors.session_get(program=access.program, session_id=session_id)
    notes = gw.note_draft_all(actor=request_user(request), session=session)
    # Drafts that already existed are returned too: showing them is a read (AU-01).
    audit_record_reads(
        actor=request_user(request), objects=notes, program=access.program, view="api.notes"
    )
    return [_note_out(n) for n in notes]


@router.post(
    "/{program_id}/sessions/{session_id}/notes/sign-all",
    response=SignAllOut,
    summary="Sign every ready note (step-up)",
)
def sign_all(request: HttpRequest, program_id: UUID, session_id: UUID) -> SignAllOut:
    access = _access(request, program_id, Perm.NOTE_WRITE)
    require_recent_auth(request)
    session = selectors.session_get(program=access.program, session_id=session_id)
    signed, refused = gw.note_sign_all(actor=request_user(request), session=session)
    return SignAllOut(signed=[n.external_id for n in signed], refused=refused)


@router.patch(
    "/{program_id}/sessions/{session_id}/notes/{note_id}",
    response=NoteOut,
    summary="Edit a draft note",
)
def update_note(
    request: HttpRequest, program_id: UUID, session_id: UUID, note_id: UUID, payload: NoteUpdateIn
) -> NoteOut:
    access = _access(request, program_id, Perm.NOTE_WRITE)
    session = selectors.session_get(program=access.program, session_id=session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    return _note_out(
        gw.note_update(
            actor=request_user(request),
            note=note,
            expected_version=payload.version,
            sections=payload.sections,
        )
    )


@router.get(
    "/{program_id}/ledger",
    response=list[LedgerRowOut],
    summary="Weekly hours of active participants",
)
def ledger(
    request: HttpRequest, program_id: UUID, week_start: date | None = None
) -> list[LedgerRowOut]:
    access = _access(request, program_id, Perm.PARTICIPANT_LIST)
    start = iso_week_start(week_start or program_today(access.program))
    rows = weekly_ledger(program=access.program, week_start=start)
    people = {p.pk: p for p in access.program.participants.filter(pk__in=list(rows))}
    audit_record_reads(
        actor=request_user(request),
        objects=list(people.values()),
        program=access.program,
        view="api.ledger",
    )
    return [
        LedgerRowOut(
            participant=people[pid].external_id,
            group=r.minutes["group"],
            individual=r.minutes["individual"],
            family=r.minutes["family"],
            total=r.total,
            required=r.required,
            shortfall=r.shortfall,
            scheduled_remaining=r.scheduled_remaining,
            at_risk=r.at_risk,
        )
        for pid, r in rows.items()
        if pid in people
    ]


__all__ = ["audit_record", "router"]
