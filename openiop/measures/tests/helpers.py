"""Tiny builders for measures tests: the real actions underneath."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from openiop.core import clock
from openiop.core.clock import program_today
from openiop.measures.actions import assessment_record
from openiop.measures.models import Assessment
from openiop.participants.models import Participant
from openiop.testing import World, admit


def phq9(total: int, item9: int = 0) -> list[int]:
    """PHQ-9 codes summing to `total` with item 9 as given."""
    answers = [0] * 8 + [item9]
    remaining = total - item9
    for i in range(8):
        answers[i] = min(3, remaining)
        remaining -= answers[i]
    assert remaining == 0
    return answers


def on_day(world: World, day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=clock.zone(world.program_a))


def long_stay(world: World, *, weeks: int = 8, last: str = "Longstay") -> Participant:
    """A participant of program A admitted `weeks` weeks ago."""
    start = program_today(world.program_a) - timedelta(weeks=weeks)
    participant, _ = admit(
        world.program_a, world.track_a, world.clinician_a, last=last, admitted_on=start
    )
    return participant


def record(
    world: World,
    participant: Participant,
    *,
    instrument: str = "phq9",
    answers: Sequence[int | None] | None = None,
    day: date | None = None,
    **kwargs: Any,
) -> Assessment:
    when = on_day(world, day) if day else timezone.now() - timedelta(minutes=1)
    return assessment_record(
        actor=world.clinician_a,
        participant=participant,
        instrument=instrument,
        answers=answers if answers is not None else [0] * 9,
        administered_at=when,
        **kwargs,
    )


def trajectory(world: World, participant: Participant, totals: Sequence[int]) -> list[Assessment]:
    """Weekly PHQ-9s from admission with the given totals."""
    start = participant.enrollments.get().admitted_on
    return [
        record(world, participant, answers=phq9(t), day=start + timedelta(weeks=i))
        for i, t in enumerate(totals)
    ]


def store_fit(
    program: Any, expectation: Any, *, histories: int = 150, instrument: str = "phq9"
) -> Any:
    """Store `expectation` as the program's current growth fit of `instrument` (as the worker
    would)."""
    from openiop.measures import history
    from openiop.measures.actions import growth_fit_store

    return growth_fit_store(
        program=program,
        instrument=instrument,
        expectation=expectation,
        stamp=history.history_stamp(program, instrument),
        n_histories=histories,
        n_assessments=histories * 8,
        seconds=0.0,
    )
