"""Writes for availability, planning profiles and planner runs."""

from __future__ import annotations

import logging
import time as stopwatch
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Attendance, SessionKind
from openiop.participants.models import Participant
from openiop.planner import PlanInputError, parse_input, solve
from openiop.programs.models import Program, Track
from openiop.scheduling.models import AvailabilityWindow, PlanningProfile, PlanRun, PlanRunKind
from openiop.scheduling.planning import build_input

PLAN_TIME_LIMIT = 10.0  # seconds; the benchmark shows 200 participants solve well within it

logger = logging.getLogger(__name__)

_PLAN_INPUT_PARTS = {
    "participants": "a participant's availability or episode of care",
    "groups": "a group on this week's timetable",
    "clinicians": "a clinician's working hours",
    "rules": "the program's weekly-hours rules",
}


def plan_input_problem(error: PlanInputError) -> str:
    """The planner's refusal in plain words, with no field paths or ids."""
    part = error.field_path.split("[", 1)[0].split(".", 1)[0]
    what = _PLAN_INPUT_PARTS.get(part, "this week's set-up")
    return (
        f"The planner could not use {what}, so no plan was made and nothing was changed. "
        "Check the availability and this week's sessions, then run the planner again; if it "
        "still fails, tell your system administrator."
    )


MAX_WINDOW_NOTE = 120  # AvailabilityWindow.note
MAX_COMMITMENTS = 300  # PlanningProfile.commitments


@transaction.atomic
def availability_set(
    *, actor: User, participant: Participant, windows: list[tuple[int, time, time, str]]
) -> list[AvailabilityWindow]:
    """Replace a participant's weekly availability (windows may be given in any order)."""
    errors: dict[str, str] = {}
    for index, (day, start, end, _note) in enumerate(windows):
        if not 0 <= day <= 6:
            errors[f"windows[{index}].weekday"] = "Choose a day from Monday to Sunday."
        if end <= start:
            errors[f"windows[{index}].end_time"] = "The window must end after it starts."
        if len(_note.strip()) > MAX_WINDOW_NOTE:
            errors[f"windows[{index}].note"] = (
                f"Keep the note to {MAX_WINDOW_NOTE} characters (it has {len(_note.strip())})."
            )
    if errors:
        raise ActionError(errors)
    AvailabilityWindow.objects.filter(
        participant=participant
    ).delete()  # configuration, not clinical
    rows = AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(
            program=participant.program,
            participant=participant,
            weekday=day,
            start_time=start,
            end_time=end,
            note=note.strip(),
            created_by=actor,
        )
        for day, start, end, note in windows
    )
    audit_record(
        actor=actor, action="update", obj=participant, detail={"availability_windows": len(rows)}
    )
    return rows


@transaction.atomic
def profile_set(
    *,
    actor: User,
    participant: Participant,
    tracks: list[Track],
    individual_minutes: int,
    family_minutes: int,
    commitments: str = "",
) -> PlanningProfile:
    errors: dict[str, str] = {}
    if any(t.program_id != participant.program_id for t in tracks):
        errors["tracks"] = "Choose tracks of this program."
    for name, value in (
        ("individual_minutes", individual_minutes),
        ("family_minutes", family_minutes),
    ):
        if value < 0 or value > 180 or value % 15:
            errors[name] = "Use 0 to 180 minutes in steps of 15."
    if len(commitments.strip()) > MAX_COMMITMENTS:
        errors["commitments"] = (
            f"Keep this to {MAX_COMMITMENTS} characters (it has {len(commitments.strip())})."
        )
    if errors:
        raise ActionError(errors)
    profile, _ = PlanningProfile.objects.update_or_create(
        participant=participant,
        defaults={
            "program": participant.program,
            "individual_minutes": individual_minutes,
            "family_minutes": family_minutes,
            "commitments": commitments.strip(),
        },
    )
    profile.tracks.set(tracks)
    audit_record(actor=actor, action="update", obj=participant, detail={"planning_profile": True})
    return profile


@transaction.atomic
def plan_run_create(
    *,
    actor: User,
    program: Program,
    week_start: date,
    kind: str,
    now: datetime | None = None,
    time_limit: float = PLAN_TIME_LIMIT,
    seed: int = 0,
) -> PlanRun:
    """Run the planner on the database's week; nothing changes until the run is applied."""
    if week_start.weekday() != 0:
        raise ActionError({"week_start": "Weeks start on Monday."})
    after = (now or timezone.now()) if kind == PlanRunKind.MAKEUP else None
    doc, _ = build_input(program=program, week_start=week_start, makeup_after=after)
    try:
        plan_input = parse_input(doc)
    except PlanInputError as error:
        # Data the planner cannot read is a program set-up problem. The raw field path and
        # ids mean nothing to a scheduler: say it in words, keep the path for the log.
        logger.warning("planner input refused at %s", error.field_path)
        raise ActionError({"planner": plan_input_problem(error)}) from None
    started = stopwatch.monotonic()
    result = solve(plan_input, time_limit=time_limit, seed=seed)
    run = PlanRun.objects.create(
        program=program,
        kind=kind,
        week_start=week_start,
        input_doc=doc,
        output_doc=result.to_json(),
        status=result.status,
        seconds=round(stopwatch.monotonic() - started, 3),
        created_by=actor,
    )
    audit_record(
        actor=actor, action="create", obj=run, detail={"kind": kind, "status": result.status}
    )
    return run


@transaction.atomic
def plan_run_apply(*, actor: User, run: PlanRun) -> dict[str, int]:
    """Enrol participants in the planned groups and book the planned individual and family
    sessions. Already-booked places are kept; nothing is removed."""
    locked = PlanRun.objects.select_for_update().get(pk=run.pk)
    if locked.applied_at is not None:
        raise ConflictError({"run": "This plan was already applied."})
    program = locked.program
    _, index = build_input(program=program, week_start=locked.week_start)
    added = _apply_assignments(actor, locked, index)
    booked = _apply_sessions(actor, locked, index)
    locked.applied_at = timezone.now()
    locked.applied_by = actor
    locked.save(update_fields=["applied_at", "applied_by", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={"applied": True, "added": added, "booked": booked},
    )
    return {"added": added, "booked": booked}


def _release_unplanned(actor: User, run: PlanRun, index: dict[str, dict[str, Any]]) -> None:
    """A week plan replaces the bookings of groups not yet held: whoever is expected at one
    but not placed there by the plan comes off that roster (the row is kept, marked removed)."""
    planned = {(a["participant"], a["group"]) for a in run.output_doc["assignments"]}
    for session in index["sessions"].values():
        if session.starts_at <= timezone.now():
            continue
        for row in session.attendance.filter(removed=False, status="expected").select_related(
            "participant"
        ):
            if (str(row.participant.external_id), str(session.external_id)) not in planned:
                gw.attendance_remove(actor=actor, attendance=row)


def _apply_assignments(actor: User, run: PlanRun, index: dict[str, dict[str, Any]]) -> int:
    if run.kind == PlanRunKind.WEEK:
        _release_unplanned(actor, run, index)
    added = 0
    for item in run.output_doc["assignments"]:
        session = index["sessions"].get(item["group"])
        participant = index["participants"].get(item["participant"])
        if session is None or participant is None:
            continue  # removed since the run; the next run will re-plan it
        existing = Attendance.objects.filter(session=session, participant=participant).first()
        if existing is not None and not existing.removed:
            continue
        gw.attendance_add(actor=actor, session=session, participant=participant)
        added += 1
    return added


def _apply_sessions(actor: User, run: PlanRun, index: dict[str, dict[str, Any]]) -> int:
    tz = clock.zone(run.program)
    booked = 0
    for item in run.output_doc["sessions"]:
        participant = index["participants"].get(item["participant"])
        clinician = index["clinicians"].get(item["clinician"])
        if participant is None or clinician is None:
            continue
        day = run.week_start + timedelta(days=item["day"])
        starts = datetime.combine(day, time.fromisoformat(item["start"]), tzinfo=tz)
        ends = datetime.combine(day, time.fromisoformat(item["end"]), tzinfo=tz)
        kind = SessionKind.FAMILY if item["kind"] == "family" else SessionKind.INDIVIDUAL
        session = gw.session_create(
            actor=actor,
            program=run.program,
            kind=kind,
            title=f"{kind.label} session",
            starts_at=starts,
            ends_at=ends,
            facilitator=clinician,
        )
        gw.attendance_add(actor=actor, session=session, participant=participant)
        booked += 1
    return booked


@transaction.atomic
def week_sessions_prepare(*, actor: User, program: Program, week_start: date) -> int:
    """Create the week's group sessions from the recurring schedules (idempotent)."""
    from openiop.groupwork.models import GroupSchedule

    made = 0
    for schedule in GroupSchedule.objects.filter(program=program).select_related(
        "program", "track"
    ):
        before = schedule.sessions.count()
        gw.schedule_generate_week(actor=actor, schedule=schedule, week_start=week_start)
        made += schedule.sessions.count() - before
    return made
