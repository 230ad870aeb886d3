"""Roster and attendance: arrival and departure times give minutes attended; a participant
can be added (walk-in) or taken off at any time and nothing recorded is ever lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from openiop.accounts.models import User
from openiop.audit.actions import audit_changes, audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.groupwork.minutes import attended_minutes
from openiop.groupwork.models import (
    Attendance,
    AttendanceStatus,
    Note,
    NoteStatus,
    PracticeRecord,
    Session,
)
from openiop.participants.models import Enrollment, Participant

ALLOWED_EARLY_MINUTES = 60  # arrival may be logged up to an hour before the start


def _recompute(attendance: Attendance) -> None:
    session = attendance.session
    attendance.minutes = attended_minutes(
        session_start=session.starts_at,
        session_end=session.ends_at,
        arrived_at=attendance.arrived_at,
        departed_at=attendance.departed_at,
    )


# Recorded before → after on every attendance update, so the audit page can say what changed.
_TRACKED = ("status", "arrived_at", "departed_at", "minutes", "removed")


def _save(attendance: Attendance, actor: User, detail: dict[str, object]) -> Attendance:
    before = Attendance.objects.filter(pk=attendance.pk).values(*_TRACKED).first() or {}
    _recompute(attendance)
    attendance.save()
    after = {name: getattr(attendance, name) for name in _TRACKED}
    changed = audit_changes(before, after, zone=clock.zone(attendance.program))
    detail = {**detail, "changes": changed} if changed else detail
    audit_record(actor=actor, action="update", obj=attendance, detail=detail)
    return attendance


SIGNED_ATTENDANCE = "This note is signed: correct attendance with an addendum"
_FIELD_WORDS = {
    "arrived_at": "the arrival time",
    "departed_at": "the departure time",
    "status": "the attendance",
    "participant": "the roster",
}


def refuse_if_note_signed(attendance: Attendance, field: str) -> None:
    """Once the participant's note for the session is signed, the attendance it states
    (status, arrival, departure, minutes) changes only through `attendance_correct`, which
    adds an addendum re-stating the minutes: the plain edit is refused, naming the field."""
    # The note rows are locked as signing locks them, so a signature and an edit landing at
    # the same moment are taken one after the other: never an edit under a fresh signature.
    statuses = (
        Note.objects.select_for_update()
        .filter(session_id=attendance.session_id, participant_id=attendance.participant_id)
        .values_list("status", flat=True)
    )
    if NoteStatus.SIGNED in list(statuses):
        raise ConflictError(
            {
                field: f'{SIGNED_ATTENDANCE} ("Correct attendance", with a reason) instead of '
                f"changing {_FIELD_WORDS.get(field, 'it')} here."
            }
        )


def _in_care_on(participant: Participant, session: Session) -> bool:
    """An episode of care covers the session's day (sessions may be recorded afterwards)."""
    day = session.starts_at.date()
    return (
        Enrollment.objects.filter(participant=participant, admitted_on__lte=day + timedelta(days=1))
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=day - timedelta(days=1)))
        .exists()
    )


@transaction.atomic
def attendance_add(
    *, actor: User, session: Session, participant: Participant, walk_in: bool = False
) -> Attendance:
    """Put a participant on the roster (or back on it, keeping what was recorded)."""
    if participant.program_id != session.program_id:
        raise ActionError({"participant": "This participant is not in the session's program."})
    if not _in_care_on(participant, session):
        raise ActionError(
            {"participant": "This participant was not in care on the session's date."}
        )
    existing = (
        Attendance.objects.select_for_update()
        .filter(session=session, participant=participant)
        .first()
    )
    if existing is not None:
        if existing.removed:
            existing.removed = False
            return _save(existing, actor, {"roster": "restored"})
        raise ConflictError({"participant": "Already on this session's roster."})
    on_roster = session.attendance.filter(removed=False).count()
    if on_roster >= session.capacity and not walk_in:
        raise ActionError(
            {"participant": f"The session is full ({session.capacity}); add as a walk-in."}
        )
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                program=session.program,
                session=session,
                participant=participant,
                walk_in=walk_in,
                created_by=actor,
            )
    except IntegrityError:
        raise ConflictError({"participant": "Already on this session's roster."}) from None
    audit_record(actor=actor, action="create", obj=attendance, detail={"walk_in": walk_in})
    return attendance


@transaction.atomic
def attendance_remove(*, actor: User, attendance: Attendance) -> Attendance:
    """Take someone off the roster; their row (and anything typed) stays for the record."""
    refuse_if_note_signed(attendance, "participant")
    attendance.removed = True
    return _save(attendance, actor, {"roster": "removed"})


def _check_time(session: Session, at: datetime, field: str) -> None:
    earliest = session.starts_at.timestamp() - ALLOWED_EARLY_MINUTES * 60
    if at.timestamp() < earliest or at > session.ends_at + (session.ends_at - session.starts_at):
        raise ActionError({field: "That time is outside this session. Check the hour and AM/PM."})


@transaction.atomic
def attendance_arrive(*, actor: User, attendance: Attendance, at: datetime) -> Attendance:
    refuse_if_note_signed(attendance, "arrived_at")
    _check_time(attendance.session, at, "arrived_at")
    if attendance.departed_at is not None and at > attendance.departed_at:
        raise ActionError({"arrived_at": "Arrival must be before departure."})
    attendance.arrived_at = at
    attendance.status = AttendanceStatus.PRESENT
    attendance.absence_reason = ""
    return _save(attendance, actor, {"arrived": True})


@transaction.atomic
def attendance_depart(*, actor: User, attendance: Attendance, at: datetime) -> Attendance:
    refuse_if_note_signed(attendance, "departed_at")
    _check_time(attendance.session, at, "departed_at")
    if attendance.arrived_at is None:
        raise ActionError({"departed_at": "Record the arrival first."})
    if at < attendance.arrived_at:
        raise ActionError({"departed_at": "Departure must be after arrival."})
    attendance.departed_at = at
    return _save(attendance, actor, {"departed": True})


@transaction.atomic
def attendance_absent(
    *, actor: User, attendance: Attendance, reason: str = "", excused: bool = False
) -> Attendance:
    """Absent participants get an absence record, never a note (clinical.md section 7)."""
    refuse_if_note_signed(attendance, "status")
    attendance.status = AttendanceStatus.EXCUSED if excused else AttendanceStatus.ABSENT
    attendance.arrived_at = None
    attendance.departed_at = None
    attendance.absence_reason = reason.strip()
    return _save(attendance, actor, {"absent": True, "excused": excused})


@transaction.atomic
def session_close(*, actor: User, session: Session) -> Session:
    """End the session: whoever is present without a departure time left at the end;
    whoever never arrived is recorded absent."""
    from openiop.groupwork.actions.sessions import session_set_status
    from openiop.groupwork.models import SessionStatus

    for attendance in session.attendance.filter(removed=False).select_for_update():
        if attendance.status == AttendanceStatus.EXPECTED:
            attendance_absent(actor=actor, attendance=attendance, reason="Did not attend")
        elif attendance.status == AttendanceStatus.PRESENT and attendance.departed_at is None:
            attendance.departed_at = session.ends_at
            _save(attendance, actor, {"departed": "at end"})
    return session_set_status(actor=actor, session=session, status=SessionStatus.COMPLETED)


@transaction.atomic
def session_start(*, actor: User, session: Session) -> Session:
    """The "Start" button: everyone still expected is marked present from the start time
    and a scheduled session is in progress. All of it is kept, or (if one arrival is
    refused) none of it."""
    from openiop.groupwork.actions.sessions import session_set_status
    from openiop.groupwork.models import SessionStatus

    if session.status in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
        label = SessionStatus(session.status).label.lower()
        raise ActionError({"session": f"This session is {label}; it cannot be started."})
    expected = session.attendance.filter(
        removed=False, status=AttendanceStatus.EXPECTED
    ).select_for_update()
    for attendance in expected:
        attendance_arrive(actor=actor, attendance=attendance, at=session.starts_at)
    if session.status == SessionStatus.SCHEDULED:
        session_set_status(actor=actor, session=session, status=SessionStatus.IN_PROGRESS)
    return session


FEEDBACK_THEMES = (
    "clear request",
    "good eye contact",
    "calm tone",
    "stayed on message",
    "validated the other person",
    "could be more specific",
    "apologised too much",
    "gave in too quickly",
    "body language matched words",
    "used the skill steps in order",
)


@transaction.atomic
def practice_record_save(
    *,
    actor: User,
    session: Session,
    participant: Participant,
    skill: str,
    role_taken: str = "",
    rating: int | None = None,
    feedback_themes: list[str] | None = None,
    comment: str = "",
) -> PracticeRecord:
    """Role-play and peer feedback for one participant, never naming the peers involved."""
    from openiop.groupwork.actions.sessions import roster_peers
    from openiop.groupwork.guard import find_peer_mentions

    errors: dict[str, str] = {}
    if not skill.strip():
        errors["skill"] = "Say which skill was practised."
    if rating is not None and not 1 <= rating <= 5:
        errors["rating"] = "Rate from 1 (not yet) to 5 (fluent)."
    themes = [t.strip() for t in (feedback_themes or []) if t.strip()]
    peers = [p for p in roster_peers(session) if p.record_number != participant.record_number]
    for name, text in (
        ("comment", comment),
        ("role_taken", role_taken),
        ("feedback_themes", " ; ".join(themes)),
    ):
        if find_peer_mentions(text, peers):
            errors[name] = "Names another group member; describe the peer as 'a peer'."
    if not session.attendance.filter(participant=participant, removed=False).exists():
        errors["participant"] = "Add the participant to the roster first."
    if errors:
        raise ActionError(errors)
    record = PracticeRecord.objects.create(
        program=session.program,
        session=session,
        participant=participant,
        skill=skill.strip(),
        role_taken=role_taken.strip(),
        rating=rating,
        feedback_themes=themes,
        comment=comment.strip(),
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=record)
    return record
