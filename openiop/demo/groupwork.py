"""Synthetic group work for the demo and tests: recurring schedules bound to curriculum
plans, past sessions with realistic attendance (late arrivals, early departures, absences),
role-play ratings and signed individual notes, and today's sessions ready to run."""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.curriculum.library import library
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import iso_week_start
from openiop.groupwork.models import Attendance, GroupSchedule, Session
from openiop.participants.models import Enrollment
from openiop.programs.models import Program

# Each track meets for 3 hours (check-in, psychoeducation, skills practice, process group and
# check-out: clinical.md section 1) on several weekdays: (weekdays, (start, end), plan rotation).
SCHEDULES: dict[str, tuple[list[int], tuple[time, time], list[str]]] = {
    "AM": (
        [0, 1, 2, 3, 4],
        (time(9, 0), time(12, 0)),
        ["cbt-01", "comm-02", "cbt-03", "dbt-ie-02", "comm-03", "comm-01", "dbt-dt-03"],
    ),
    "PM": (
        [0, 1, 2, 3, 4],
        (time(18, 0), time(21, 0)),
        ["comm-01", "comm-03", "dbt-ie-02", "comm-04", "comm-02", "dbt-ie-03", "cbt-03"],
    ),
    "AS": (
        [0, 1, 3],
        (time(16, 0), time(19, 0)),
        ["dbt-ie-02", "comm-03", "comm-01", "dbt-ie-03", "comm-02", "comm-04"],
    ),
}
# Group places a participant typically takes a week (three 3-hour groups reach the adult
# minimum of 9 h, two the adolescent 6 h), with some room for make-ups: a second room opens on
# the first weekdays when the census needs more places than one group a day holds.
PLACES_PER_PARTICIPANT = {"adult": 4.0, "adolescent": 2.5}
ASSESSMENTS = [
    "Engaged throughout and linked the skill to a situation at work.",
    "Quiet at first; participated more after the check-in and asked a clarifying question.",
    "Described a recent craving and how the skill might have helped.",
    "Struggled with the role-play but accepted feedback and tried again.",
    "Reported a better week; mood brighter than at the last session.",
    "Distracted by a family stressor; the facilitator checked in at the break.",
    "Offered supportive feedback to a peer and practised the steps in order.",
]


def _local(program: Program, day: date, at: time) -> datetime:

    return datetime.combine(day, at, tzinfo=clock.zone(program))


def _schedules(
    *, program: Program, system: User, facilitators: list[User], since: date, today: date
) -> list[GroupSchedule]:
    made = []
    size = int(program.rules.rules["max_group_size"].value)  # type: ignore[call-overload]
    per_person = PLACES_PER_PARTICIPANT.get(program.population, 4.0)
    for offset, track in enumerate(program.tracks.filter(is_active=True).order_by("code")):
        if track.code not in SCHEDULES:
            continue
        days, (start, end), rotation = SCHEDULES[track.code]
        valid = [code for code in rotation if _exists(code)]
        census = (
            Enrollment.objects.filter(program=program, track=track, admitted_on__lte=today)
            .exclude(discharged_on__lt=today)
            .count()
        )
        second_room = max(0, math.ceil(census * per_person / size) - len(days))
        rooms = [(1, days)]
        if second_room and len(facilitators) > 1:
            rooms.append((2, days[:second_room]))
        for room, weekdays in rooms:
            for weekday in weekdays:
                made.append(
                    gw.schedule_create(
                        actor=system,
                        program=program,
                        track=track,
                        title=f"{track.name}: {'second ' if room == 2 else ''}group",
                        weekday=weekday,
                        start_time=start,
                        end_time=end,
                        facilitator=facilitators[(2 * offset + weekday + room) % len(facilitators)],
                        plan_rotation=valid[room - 1 :] + valid[: room - 1],
                        active_from=since,
                        room=f"Room {room}",
                        capacity=size,
                    )
                )
    return made


def _exists(code: str) -> bool:
    try:
        library().plan(code)
    except KeyError:
        return False
    return True


def _roster(session: Session, system: User, rng: random.Random | None = None) -> list[Attendance]:
    """The track's members in care that day; with `rng`, a random `capacity` of them (past
    weeks: each member comes to some of the week's groups, as a planned week would have it)."""
    day = clock.local_date(session.starts_at, session.program)
    episodes = list(
        Enrollment.objects.filter(
            program=session.program, track=session.track, admitted_on__lte=day
        )
        .exclude(discharged_on__lt=day)
        .select_related("participant")
        .order_by("pk")
    )
    if rng is not None and len(episodes) > session.capacity:
        episodes = rng.sample(episodes, session.capacity)
    episodes = episodes[: session.capacity]
    return [
        gw.attendance_add(actor=system, session=session, participant=e.participant)
        for e in episodes
    ]


def hold_session(
    session: Session,
    rows: list[Attendance],
    rng: random.Random,
    system: User,
    absent_rate: float | Callable[[Attendance], float] = 0.12,
) -> None:
    """Record a past session as it might have gone (`absent_rate` may depend on the person)."""
    for row in rows:
        roll = rng.random()
        if roll < (absent_rate(row) if callable(absent_rate) else absent_rate):
            gw.attendance_absent(
                actor=system,
                attendance=row,
                reason=rng.choice(["Sick", "Work shift", "No reason given"]),
            )
            continue
        late = rng.choice([0, 0, 0, 0, 5, 10, 20]) if roll < 0.9 else 0
        gw.attendance_arrive(
            actor=system, attendance=row, at=session.starts_at + timedelta(minutes=late)
        )
        leaves = session.ends_at - timedelta(minutes=rng.choice([15, 30, 45]))
        if rng.random() < 0.06 and row.arrived_at is not None and leaves > row.arrived_at:
            gw.attendance_depart(actor=system, attendance=row, at=leaves)
        plan = library().plan(session.plan_code) if session.plan_code else None
        if plan is not None and plan.skills and rng.random() < 0.6:
            roles = sorted({r for s in plan.role_play_scenarios for r in s.roles}) or [""]
            gw.practice_record_save(
                actor=system,
                session=session,
                participant=row.participant,
                skill=rng.choice(plan.skills),
                role_taken=rng.choice(roles),
                rating=rng.randint(2, 5),
                feedback_themes=rng.sample(list(gw.FEEDBACK_THEMES), k=2),
            )
    gw.session_close(actor=system, session=session)


def document_session(session: Session, facilitator: User, rng: random.Random) -> None:
    for row in session.attendance.filter(status="present").select_related("participant"):
        note = gw.note_draft(actor=facilitator, session=session, attendance=row)
        observed = " ".join(rng.sample(ASSESSMENTS, k=2))
        mood = f"Check-in mood {rng.randint(3, 9)}/10, craving {rng.randint(0, 6)}/10."
        assessment = " ".join(filter(None, [note.sections.get("assessment", ""), observed, mood]))
        note = gw.note_update(
            actor=facilitator,
            note=note,
            expected_version=note.version,
            sections={"assessment": assessment},
        )
        if rng.random() < 0.9:  # a few stay as drafts: that is what supervisors chase
            # If the duplicate guard refuses it, it stays a draft, as it would in real life.
            with contextlib.suppress(ActionError):
                gw.note_sign(actor=facilitator, note=note)


def seed_group_work(
    *,
    program: Program,
    system: User,
    facilitators: list[User],
    today: date,
    rng: random.Random,
    history_weeks: int = 2,
    progress: Callable[[str], None] = lambda _msg: None,
) -> int:
    """Past weeks held and documented, and this week's group sessions created with empty
    rosters: the week's plan fills them (`openiop.demo.week`). Returns how many sessions were
    created."""
    this_week = iso_week_start(today)
    schedules = _schedules(
        program=program,
        system=system,
        facilitators=facilitators,
        since=this_week - timedelta(weeks=history_weeks),
        today=today,
    )
    count = 0
    now = clock.now()
    for back in range(history_weeks, -1, -1):
        week = this_week - timedelta(weeks=back)
        for schedule in schedules:
            with transaction.atomic():
                session = gw.schedule_generate_week(
                    actor=system, schedule=schedule, week_start=week
                )
                if session is None or session.attendance.exists():
                    continue
                count += 1
                if back == 0:
                    continue  # this week is planned, not rostered by hand
                rows = _roster(session, system, rng)
                if session.ends_at < now:
                    hold_session(session, rows, rng, system)
                    document_session(session, session.facilitator, rng)
        progress(f"{program.name}: group sessions for the week of {week:%Y-%m-%d}")
    return count


def ensure_session_today(*, program: Program, system: User, today: date) -> int:
    """The demo promises a group to run today, whatever weekday it is run on (on a day
    without a scheduled group, one is added and the track's members are put on it)."""
    schedules = list(
        GroupSchedule.objects.filter(program=program)
        .select_related("track", "facilitator")
        .order_by("track__code", "weekday", "start_time", "room")
    )
    start, end = (
        _local(program, today, time(0, 0)),
        _local(program, today + timedelta(days=1), time(0, 0)),
    )
    if (
        not schedules
        or Session.objects.filter(
            program=program, kind="group", starts_at__gte=start, starts_at__lt=end
        ).exists()
    ):
        return 0
    template = schedules[0]
    with transaction.atomic():
        session = gw.session_create(
            actor=system,
            program=program,
            kind="group",
            title=f"{template.track.name}: today's group",
            starts_at=_local(program, today, template.start_time),
            ends_at=_local(program, today, template.end_time),
            facilitator=template.facilitator,
            track=template.track,
            plan_code=template.plan_rotation[0],
            room=template.room,
        )
        _roster(session, system)
    return 1
