"""Correcting attendance after the note is signed (issue 18 item 1).

A signed note states the minutes attended; the weekly ledger and billing count the same
minutes from the attendance row. Once the note is signed the plain attendance edits are
refused (`refuse_if_note_signed`) and a correction goes through here: in one transaction
the attendance row is changed, its minutes recomputed, and an addendum that re-states the
minutes (old and new, with the reason) is added to the note. Both writes are audited, so the
row, the ledger and the note never disagree, and nothing is half-saved.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.groupwork.actions.attendance import _check_time, _recompute
from openiop.groupwork.actions.notes import note_peers
from openiop.groupwork.guard import find_peer_mentions
from openiop.groupwork.models import (
    Attendance,
    AttendanceStatus,
    Note,
    NoteAddendum,
    NoteStatus,
    Session,
)

MIN_REASON = 5
MAX_REASON = 300
CORRECTABLE = (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


def signed_note_for(attendance: Attendance) -> Note | None:
    return Note.objects.filter(
        session_id=attendance.session_id,
        participant_id=attendance.participant_id,
        status=NoteStatus.SIGNED,
    ).first()


def _clock_text(session: Session, at: datetime | None) -> str:
    return clock.local_time(at, session.program).strftime("%H:%M") if at else "—"


def _snapshot(attendance: Attendance) -> dict[str, object]:
    return {
        "status": attendance.status,
        "arrived_at": attendance.arrived_at.isoformat() if attendance.arrived_at else None,
        "departed_at": attendance.departed_at.isoformat() if attendance.departed_at else None,
        "minutes": attendance.minutes,
    }


def _addendum_text(session: Session, before: Attendance, after: Attendance) -> str:
    """The correction in words, re-stating the minutes (times in the program's zone)."""
    length = int((session.ends_at - session.starts_at).total_seconds() // 60)
    zone = session.program.time_zone
    parts = ["Attendance corrected."]
    if after.status != AttendanceStatus.PRESENT:
        label = AttendanceStatus(after.status).label.lower()
        parts.append(f"Recorded {label} (was {AttendanceStatus(before.status).label.lower()}).")
    else:
        for word, old, new in (
            ("Arrived", before.arrived_at, after.arrived_at),
            ("Left", before.departed_at, after.departed_at),
        ):
            text = f"{word} {_clock_text(session, new)}"
            if old != new:
                text += f" (was {_clock_text(session, old)})"
            parts.append(text + ".")
        parts.append(f"Times are {zone} time.")
    parts.append(f"Attended {after.minutes} of {length} minutes (was {before.minutes}).")
    return " ".join(parts)


@transaction.atomic
def attendance_correct(
    *,
    actor: User,
    attendance: Attendance,
    reason: str,
    status: str,
    arrived_at: datetime | None = None,
    departed_at: datetime | None = None,
    absence_reason: str = "",
) -> NoteAddendum:
    """Correct the attendance behind a signed note: the row, its minutes (and so the weekly
    ledger) and an addendum re-stating the minutes, all or nothing. Returns the addendum."""
    locked = (
        Attendance.objects.select_for_update()
        .select_related("session__program", "participant")
        .get(pk=attendance.pk)
    )
    session = locked.session
    note = signed_note_for(locked)
    if note is None:
        raise ActionError(
            {"note": "This participant's note is not signed: change the attendance directly."}
        )
    errors: dict[str, str] = {}
    if len(reason.strip()) < MIN_REASON:
        errors["reason"] = "Say why the attendance is corrected (it is kept with the note)."
    elif len(reason.strip()) > MAX_REASON:
        errors["reason"] = f"Keep the reason under {MAX_REASON} characters."
    elif find_peer_mentions(reason, note_peers(note)):
        errors["reason"] = "Names another group member; write 'a peer' instead."
    if len(absence_reason.strip()) > 200:
        errors["absence_reason"] = "Keep the absence reason under 200 characters."
    if status not in CORRECTABLE:
        errors["status"] = "Choose present, absent or excused."
    elif status == AttendanceStatus.PRESENT:
        if arrived_at is None:
            errors["arrived_at"] = "Give the arrival time."
        else:
            try:
                _check_time(session, arrived_at, "arrived_at")
            except ActionError as error:
                errors["arrived_at"] = error.errors["arrived_at"][0]
        if departed_at is not None:
            try:
                _check_time(session, departed_at, "departed_at")
            except ActionError as error:
                errors["departed_at"] = error.errors["departed_at"][0]
            if arrived_at is not None and departed_at < arrived_at:
                errors["departed_at"] = "Departure must be after arrival."
    if errors:
        raise ActionError(errors)
    before = Attendance(
        session=session,
        status=locked.status,
        arrived_at=locked.arrived_at,
        departed_at=locked.departed_at,
        minutes=locked.minutes,
    )
    if status == AttendanceStatus.PRESENT:
        locked.status = AttendanceStatus.PRESENT
        locked.arrived_at = arrived_at
        # No departure given: they stayed to the end (as closing the session records it).
        locked.departed_at = departed_at or session.ends_at
        locked.absence_reason = ""
    else:
        locked.status = status
        locked.arrived_at = None
        locked.departed_at = None
        locked.absence_reason = absence_reason.strip()
    _recompute(locked)
    unchanged = (
        locked.status == before.status
        and locked.arrived_at == before.arrived_at
        and locked.departed_at == before.departed_at
    )
    if unchanged:
        raise ActionError(
            {"arrived_at": "That is what the record already says; there is nothing to correct."}
        )
    locked.save()
    change = {"before": _snapshot(before), "after": _snapshot(locked)}
    addendum = NoteAddendum.objects.create(
        program=note.program,
        note=note,
        author=actor,
        reason=reason.strip(),
        text=_addendum_text(session, before, locked),
        minutes=locked.minutes,
        attendance_change=change,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={
            "corrected": True,
            "minutes": [before.minutes, locked.minutes],
            "addendum": str(addendum.external_id),
        },
    )
    audit_record(
        actor=actor,
        action="create",
        obj=addendum,
        detail={"note": str(note.external_id), "attendance_corrected": True},
    )
    attendance.refresh_from_db()
    return addendum
