"""The demo's current week, run the way a program runs it.

The director plans the week on everyone's recorded availability and applies the plan: the same
actions as *Plan this week* and *Apply this plan* on the weekly board, so group places and
individual and family sessions are booked by the real planner. The sessions of the week that
have already ended, by the program's own clock, are then held: arrivals and departures (a few
late, a few leaving early, a few absent) go through the attendance actions, and each group is
documented. If anyone missed a session and groups are still ahead, *Find make-up sessions* is
run and applied too. Sessions still ahead stay booked. The first group of today is left for the
tour to run, whatever the hour.

Everything is relative to `clock.now()` and the program's `today`, so the seed gives a
believable week whether it runs on Monday just after midnight or on Sunday night.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from openiop.accounts.models import User
from openiop.core import clock
from openiop.demo.groupwork import document_session, hold_session
from openiop.groupwork.ledger import iso_week_start, week_bounds, weekly_ledger
from openiop.groupwork.models import Attendance, Session, SessionKind, SessionStatus
from openiop.programs.models import Program
from openiop.scheduling import actions as planning
from openiop.scheduling.models import PlanRunKind

# This week's sessions go better than the history's: the plan fits people's lives. Someone
# whose bookings leave room above the minimum misses a session now and then; the demo keeps
# those booked to just the minimum at their sessions (late arrivals still cost them minutes).
ABSENT_RATE = 0.06
ABSENT_RATE_NO_SLACK = 0.0
PLAN_SEED = 0
# Long enough for the planner to prove its plan optimal (about 5 of CP-SAT's deterministic
# units for the default demo), so the search ends on the proof or the deterministic budget,
# never on the wall clock of a busy machine: the same --seed gives the same week.
PLAN_TIME_LIMIT = 30.0


@dataclass
class WeekResult:
    group_places: int = 0
    sessions_booked: int = 0
    held: int = 0
    makeup_places: int = 0


def _first_group_today(program: Program, today: date) -> Session | None:
    start, end = clock.day_bounds(today, program)
    return (
        Session.objects.filter(
            program=program, kind=SessionKind.GROUP, starts_at__gte=start, starts_at__lt=end
        )
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_at")
        .first()
    )


def _ended(program: Program, week: date, keep: Session | None) -> list[Session]:
    start, end = week_bounds(program, week)
    sessions = (
        Session.objects.filter(
            program=program,
            starts_at__gte=start,
            starts_at__lt=end,
            ends_at__lte=clock.now(),
            status__in=[SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS],
        )
        .select_related("facilitator", "program")
        .order_by("starts_at", "pk")
    )
    return [s for s in sessions if keep is None or s.pk != keep.pk]


def seed_week(
    *, program: Program, director: User, system: User, today: date, rng: random.Random
) -> WeekResult:
    """Plan, apply and (so far as the week has gone) hold the program's current week."""
    week = iso_week_start(today)
    result = WeekResult()
    planning.week_sessions_prepare(actor=director, program=program, week_start=week)
    run = planning.plan_run_create(
        actor=director,
        program=program,
        week_start=week,
        kind=PlanRunKind.WEEK,
        seed=PLAN_SEED,
        time_limit=PLAN_TIME_LIMIT,
    )
    counts = planning.plan_run_apply(actor=director, run=run)
    result.group_places, result.sessions_booked = counts["added"], counts["booked"]

    keep = _first_group_today(program, today)
    missed = False
    required = program.rules.min_weekly_minutes(program.population)
    booked = weekly_ledger(program=program, week_start=week, now=week_bounds(program, week)[0])
    slack = {pid: row.scheduled_remaining - required for pid, row in booked.items()}
    for session in _ended(program, week, keep):
        length = int((session.ends_at - session.starts_at).total_seconds() // 60)

        def rate(row: Attendance, length: int = length) -> float:
            return (
                ABSENT_RATE if slack.get(row.participant_id, 0) >= length else ABSENT_RATE_NO_SLACK
            )

        with transaction.atomic():
            rows = list(
                session.attendance.filter(removed=False)
                .select_related("participant")
                .order_by("pk")
            )
            hold_session(session, rows, rng, system, absent_rate=rate)
            for row in rows:
                slack[row.participant_id] = slack.get(row.participant_id, 0) - (
                    length - row.minutes
                )
            if session.kind == SessionKind.GROUP:
                document_session(session, session.facilitator, rng)
            missed |= session.attendance.filter(status="absent").exists()
        result.held += 1

    now = clock.now()
    _, week_end = week_bounds(program, week)
    groups_ahead = Session.objects.filter(
        program=program, kind=SessionKind.GROUP, starts_at__gt=now, starts_at__lt=week_end
    ).exists()
    if missed and groups_ahead:
        makeup = planning.plan_run_create(
            actor=director,
            program=program,
            week_start=week,
            kind=PlanRunKind.MAKEUP,
            now=now,
            seed=PLAN_SEED,
            time_limit=PLAN_TIME_LIMIT,
        )
        result.makeup_places = planning.plan_run_apply(actor=director, run=makeup)["added"]
    return result
