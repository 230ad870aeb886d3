"""Synthetic PHQ-9 and GAD-7 trajectories for demos (entirely fictional).

Each open episode gets weekly administrations from admission to yesterday, following one of
four courses seen in IOP outcome data: responders (most of the drop in the first weeks), slow
responders, non-responders and deteriorators. A few participants endorse PHQ-9 item 9 once,
so the safety workflow has something to show. Everything goes through `assessment_record`,
so scoring, audit, safety events and medical-risk prompts happen exactly as for real entries.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core import clock
from openiop.core.clock import program_today
from openiop.measures.actions import assessment_record, schedule_set
from openiop.measures.models import Assessment
from openiop.participants.models import Enrollment
from openiop.programs.models import Program

COURSES = (("responder", 0.4), ("slow", 0.3), ("non_responder", 0.2), ("deteriorator", 0.1))
ITEM9_RATE = 0.08
SEEDED = {"phq9": 9, "gad7": 7}  # instrument -> item count (all 0-3)
SEED_SCHEDULE = ("intake", "weekly", "discharge")


def _course(rng: random.Random) -> str:
    pick = rng.uniform(0, sum(w for _, w in COURSES))
    for name, weight in COURSES:
        pick -= weight
        if pick <= 0:
            return name
    return COURSES[-1][0]


def _expected(course: str, intake: float, week: int) -> float:
    if course == "responder":
        return intake * (0.35 + 0.65 * math.exp(-week / 2.0))
    if course == "slow":
        return intake * (0.55 + 0.45 * math.exp(-week / 6.0))
    if course == "deteriorator":
        return intake + 1.2 * week
    return intake


def _answers(rng: random.Random, items: int, total: int, fixed: dict[int, int]) -> list[int]:
    """Item codes (0-3) summing to `total`, with some items fixed (0-based index -> code)."""
    answers = [fixed.get(i, 0) for i in range(items)]
    free = [i for i in range(items) if i not in fixed]
    remaining = max(0, min(total - sum(answers), 3 * len(free)))
    while remaining > 0:
        i = rng.choice([j for j in free if answers[j] < 3])
        answers[i] += 1
        remaining -= 1
    return answers


def _moment(program: Program, on: date, rng: random.Random) -> datetime:
    at = time(hour=rng.choice([9, 10, 13]), minute=rng.choice([0, 15, 30]))
    return datetime.combine(on, at, tzinfo=clock.zone(program))


def _seed_episode(
    *, episode: Enrollment, program: Program, system: User, rng: random.Random, today: date
) -> int:
    course = _course(rng)
    item9_week = rng.randint(0, 3) if rng.random() < ITEM9_RATE else None
    intakes = {"phq9": rng.randint(12, 22), "gad7": rng.randint(9, 17)}
    made = 0
    week = 0
    until = min(today, program_today(program))
    while (on := episode.admitted_on + timedelta(weeks=week)) < until:
        for code, items in SEEDED.items():
            noise = rng.gauss(0, 1.5)
            total = round(min(3 * items, max(0, _expected(course, intakes[code], week) + noise)))
            fixed = {8: 1} if code == "phq9" and week == item9_week else {}
            if code == "phq9" and not fixed:
                fixed = {8: 0}
            assessment_record(
                actor=system,
                participant=episode.participant,
                instrument=code,
                answers=_answers(rng, items, total, fixed),
                administered_at=_moment(program, on, rng),
            )
            made += 1
        week += 1
    return made


def seed_assessments(*, program: Program, system: User, rng: random.Random, today: date) -> int:
    """Weekly PHQ-9 and GAD-7 for each open episode of `program` without assessments yet, and
    the program's schedules for both. Returns how many assessments were recorded."""
    for code in SEEDED:
        schedule_set(actor=system, program=program, instrument=code, cadences=SEED_SCHEDULE)
    seeded = Assessment.objects.filter(program=program).values("enrollment_id")
    episodes = (
        Enrollment.objects.filter(program=program, discharged_on__isnull=True)
        .exclude(pk__in=seeded)
        .select_related("participant", "participant__program")
        .order_by("id")
    )
    made = 0
    for episode in episodes:
        with transaction.atomic():
            made += _seed_episode(
                episode=episode, program=program, system=system, rng=rng, today=today
            )
    return made
