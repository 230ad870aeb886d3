"""Due and overdue lists, change summaries (clinical.md section 4) and constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.core.clock import program_today
from openiop.measures import selectors
from openiop.measures.actions import assessment_mark_entered_in_error, schedule_set
from openiop.measures.tests.helpers import long_stay, phq9, record, trajectory
from openiop.testing import World, admit

pytestmark = pytest.mark.django_db


def _schedule(world: World, code: str = "phq9", cadences=("intake", "weekly")) -> None:
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument=code, cadences=cadences
    )


@pytest.mark.parametrize(
    ("totals", "category"),
    [
        ([18, 14, 9], "recovered"),  # T6-like: reliable drop and crossed the cutoff of 10
        ([22, 18, 14], "improved"),  # reliable drop, still at or above the cutoff
        ([18, 15, 13], "unchanged"),  # a drop of 5 is below the threshold of 6
        ([8, 12, 15], "deteriorated"),
        ([16, 10], "improved"),  # at the cutoff counts as clinical
        ([16], "not available"),  # one administration: nothing to compare
    ],
)
def test_change_summary_categories(world: World, totals, category):
    person = long_stay(world)
    trajectory(world, person, totals)
    summary = selectors.change_summary(participant=person, instrument="phq9")
    assert summary.category == category
    assert summary.intake is not None and summary.intake.total == totals[0]
    assert summary.latest is not None and summary.latest.total == totals[-1]


def test_change_summary_skips_entered_in_error_and_unpublished_thresholds(world: World):
    person = long_stay(world)
    first, *_ = trajectory(world, person, [5, 18, 9])
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=first, reason="Keyed for another participant"
    )
    assert selectors.change_summary(participant=person, instrument="phq9").category == "recovered"
    record(world, person, instrument="k10", answers=[3] * 10)
    record(world, person, instrument="k10", answers=[1] * 10)
    k10 = selectors.change_summary(participant=person, instrument="k10")
    assert k10.category == "not available" and k10.change is None


def test_intake_due_then_overdue_then_satisfied(world: World):
    _schedule(world, cadences=("intake",))
    today = program_today(world.program_a)
    fresh, _ = admit(
        world.program_a, world.track_a, world.clinician_a, last="Fresh", admitted_on=today
    )
    items = {i.participant.pk: i for i in selectors.due_list(program=world.program_a, today=today)}
    assert not items[fresh.pk].overdue and items[fresh.pk].due_on == today + timedelta(days=7)
    # participant A was admitted 7 days ago: due today, not yet overdue; tomorrow overdue
    assert not items[world.participant_a.pk].overdue
    later = selectors.due_list(program=world.program_a, today=today + timedelta(days=1))
    assert {i.participant.pk for i in later if i.overdue} == {world.participant_a.pk}
    record(world, world.participant_a)
    after = selectors.due_list(program=world.program_a, today=today + timedelta(days=1))
    assert world.participant_a.pk not in {i.participant.pk for i in after}


def test_weekly_due_seven_days_after_the_last(world: World):
    _schedule(world, cadences=("weekly",))
    person = long_stay(world, weeks=4)
    start = person.enrollments.get().admitted_on
    record(world, person, answers=phq9(12), day=start + timedelta(days=14))
    today = start + timedelta(days=19)
    mine = [
        i
        for i in selectors.due_list(program=world.program_a, today=today)
        if i.participant == person
    ]
    assert mine[0].due_on == start + timedelta(days=21) and not mine[0].overdue
    assert selectors.due_list(
        program=world.program_a, today=start + timedelta(days=18)
    ) == [] or all(
        i.participant != person
        for i in selectors.due_list(program=world.program_a, today=start + timedelta(days=18))
    )
    late = selectors.due_list(program=world.program_a, today=start + timedelta(days=22))
    assert [i.overdue for i in late if i.participant == person] == [True]


def test_no_schedules_no_due_list(world: World):
    assert selectors.due_list(program=world.program_a, today=program_today(world.program_a)) == []


def _due_queries(world: World) -> int:
    with CaptureQueriesContext(connection) as ctx:
        selectors.due_list(program=world.program_a, today=program_today(world.program_a))
    return len(ctx.captured_queries)


def test_due_list_queries_are_constant(world: World):
    _schedule(world)
    _schedule(world, "gad7")
    people = [long_stay(world, weeks=10, last=f"Many{i}") for i in range(2)]
    for person in people:
        trajectory(world, person, [15, 14, 12, 10, 9])
    small = _due_queries(world)
    for i in range(5):
        person = long_stay(world, weeks=10, last=f"More{i}")
        trajectory(world, person, [15, 14, 12, 10, 9, 8, 8, 7, 6, 6])
    large = _due_queries(world)
    assert small == large <= 3
