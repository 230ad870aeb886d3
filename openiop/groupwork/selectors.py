"""Scoped reads for the session runner, the notes panel and the schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from openiop.core import clock
from openiop.core.clock import program_today
from openiop.curriculum.library import library
from openiop.curriculum.schema import SessionPlan
from openiop.groupwork.ledger import LedgerRow, iso_week_start, weekly_ledger
from openiop.groupwork.models import (
    Attendance,
    AttendanceStatus,
    Note,
    NoteAddendum,
    NoteStatus,
    PracticeRecord,
    Session,
    SessionKind,
)
from openiop.measures.growth import not_on_track_flags
from openiop.participants.models import Participant
from openiop.participants.selectors import participant_search
from openiop.portal.selectors import RunnerPortal, runner_portal
from openiop.programs.models import Program
from openiop.safety.selectors import RosterSafety, roster_flags
from openiop.treatment.models import Goal

MISSED_LOOKBACK = timedelta(days=28)


def session_get(*, program: Program, session_id: UUID | str) -> Session:
    try:
        return Session.objects.select_related(
            "facilitator", "co_facilitator", "track", "program"
        ).get(program=program, external_id=session_id)
    except (Session.DoesNotExist, ValueError):
        raise Http404("session not found") from None


def sessions_between(*, program: Program, start: datetime, end: datetime) -> QuerySet[Session]:
    return (
        Session.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .select_related("facilitator", "track", "program")
        .annotate(on_roster=Count("attendance", filter=Q(attendance__removed=False)))
        .order_by("starts_at")
    )


def plan_of(session: Session) -> SessionPlan | None:
    return library().plan(session.plan_code) if session.plan_code else None


@dataclass
class RosterEntry:
    attendance: Attendance
    participant: Participant
    practice: list[PracticeRecord] = field(default_factory=list)
    note: Note | None = None
    missed_recently: int = 0
    week: LedgerRow | None = None
    flags: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    module_done: int = 0
    module_total: int = 0
    module_missed: list[str] = field(default_factory=list)
    module_needed: list[str] = field(default_factory=list)
    # Check-in, diary card and weekly goals from the participant portal.
    portal: RunnerPortal = field(default_factory=RunnerPortal)
    safety: bool = False
    # The open safety event's chip (red, a link to the event); not one of `flags`.
    safety_event: RosterSafety | None = None

    @property
    def module_missed_titles(self) -> list[str]:
        """The missed sessions by title, for people (codes are internal)."""
        return [library().plan(code).title for code in self.module_missed]

    @property
    def attention(self) -> tuple[int, int, int, str]:
        """Sort key: who needs attention first. An open safety event always comes first,
        then the number of flags (not on track, check-in, diary card, goal setback, missed
        sessions), then recent absences."""
        return (
            0 if self.safety else 1,
            -len(self.flags),
            -self.missed_recently,
            self.participant.legal_last_name,
        )


def roster(*, session: Session) -> list[RosterEntry]:
    """Everything the runner shows about its attendees, in a constant number of queries."""
    rows = list(
        session.attendance.select_related("participant").order_by("participant__legal_last_name")
    )
    ids = [a.participant_id for a in rows]
    practice = PracticeRecord.objects.filter(session=session).order_by("created_at")
    notes = {
        n.participant_id: n
        for n in Note.objects.filter(session=session).exclude(status=NoteStatus.ENTERED_IN_ERROR)
    }
    # Signed notes show their addenda (an attendance correction re-states the minutes there):
    # one query, and only once something is signed.
    signed = [n for n in notes.values() if n.status != NoteStatus.DRAFT]
    if signed:
        prefetch_related_objects(
            signed, Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author"))
        )
    missed = dict(
        Attendance.objects.filter(
            participant_id__in=ids,
            status=AttendanceStatus.ABSENT,
            session__starts_at__gte=session.starts_at - MISSED_LOOKBACK,
            session__starts_at__lt=session.starts_at,
        )
        .values_list("participant_id")
        .annotate(n=Count("id"))
    )
    local_day = session.starts_at.astimezone(clock.zone(session.program)).date()
    week = weekly_ledger(
        program=session.program, week_start=iso_week_start(local_day), participant_ids=ids
    )
    goals: dict[int, list[Goal]] = {}
    for goal in Goal.objects.filter(
        problem__plan__participant_id__in=ids, problem__plan__status="active"
    ).select_related("problem__plan"):
        goals.setdefault(goal.problem.plan.participant_id, []).append(goal)
    progress = curriculum_progress(participant_ids=ids, program=session.program)
    safety = roster_flags(program=session.program, participant_ids=ids)  # one query
    off_track = not_on_track_flags(program=session.program, participant_ids=ids)  # 3 (stored fits)
    portal = runner_portal(session=session, participant_ids=ids)  # three queries
    plan = plan_of(session)
    module_codes = [p.code for p in library().plans_for_module(plan.module)] if plan else []
    by_participant: dict[int, list[PracticeRecord]] = {}
    for record in practice:
        by_participant.setdefault(record.participant_id, []).append(record)
    entries = []
    for a in rows:
        entry = RosterEntry(
            attendance=a,
            participant=a.participant,
            practice=by_participant.get(a.participant_id, []),
            note=notes.get(a.participant_id),
            missed_recently=missed.get(a.participant_id, 0),
            week=week.get(a.participant_id),
            goals=goals.get(a.participant_id, []),
        )
        done_codes, missed_codes = progress.get(a.participant_id, (set(), set()))
        entry.module_total = len(module_codes)
        entry.module_done = len(done_codes & set(module_codes))
        entry.module_needed = [c for c in module_codes if c not in done_codes]
        entry.module_missed = [c for c in module_codes if c in missed_codes and c not in done_codes]
        entry.portal = portal[a.participant_id]
        if a.participant_id in safety:
            entry.safety = True
            entry.safety_event = safety[a.participant_id]
        if a.participant_id in off_track:
            entry.flags.extend(off_track[a.participant_id])
        entry.flags.extend(entry.portal.flags)
        if entry.missed_recently >= 2:
            entry.flags.append(f"missed {entry.missed_recently} sessions in 4 weeks")
        entries.append(entry)
    return sorted(entries, key=lambda e: e.attention)


def curriculum_progress(
    *, participant_ids: list[int], program: Program
) -> dict[int, tuple[set[str], set[str]]]:
    """Rolling membership: for each participant, the curriculum plans they have attended
    (completed) and the ones they missed, from one query over their attendance."""
    rows = (
        Attendance.objects.filter(
            program=program, participant_id__in=participant_ids, removed=False
        )
        .exclude(session__plan_code="")
        .filter(
            status__in=[AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED]
        )
        .values_list("participant_id", "session__plan_code", "status")
    )
    result: dict[int, tuple[set[str], set[str]]] = {}
    for participant_id, code, status in rows:
        done, missed = result.setdefault(participant_id, (set(), set()))
        (done if status == AttendanceStatus.PRESENT else missed).add(code)
    return result


def walk_in_candidates(*, session: Session, query: str) -> QuerySet[Participant]:
    """Active participants of the program, not on this roster, matching a search."""
    on_roster = session.attendance.filter(removed=False).values("participant_id")
    return (
        Participant.objects.filter(program=session.program, enrollments__discharged_on__isnull=True)
        .filter(participant_search(query))
        .exclude(id__in=on_roster)
        .distinct()
        .order_by("legal_last_name", "legal_first_name")
    )


def note_get(*, session: Session, note_id: UUID | str) -> Note:
    try:
        return Note.objects.select_related("participant", "session").get(
            session=session, external_id=note_id
        )
    except (Note.DoesNotExist, ValueError):
        raise Http404("note not found") from None


def attendance_get(*, session: Session, attendance_id: UUID | str) -> Attendance:
    try:
        return Attendance.objects.select_related("participant", "session").get(
            session=session, external_id=attendance_id
        )
    except (Attendance.DoesNotExist, ValueError):
        raise Http404("attendance not found") from None


def participant_notes(*, participant: Participant) -> QuerySet[Note]:
    return (
        Note.objects.filter(participant=participant)
        .select_related("session", "signed_by", "author")
        .prefetch_related("addenda")
        .order_by("-created_at")
    )


def today_range(program: Program, day: date | None = None) -> tuple[datetime, datetime]:
    from openiop.groupwork.ledger import week_bounds

    day = day or program_today(program)
    start, _ = week_bounds(program, day - timedelta(days=day.weekday()))
    start = start + timedelta(days=day.weekday())
    return start, start + timedelta(days=1)


__all__ = ["SessionKind"]
