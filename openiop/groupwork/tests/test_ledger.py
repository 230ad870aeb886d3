from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from openiop.accounts.roles import Role
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import under_minimum, weekly_ledger
from openiop.testing import World, admit, make_program, make_staff, make_track

pytestmark = pytest.mark.django_db
MONDAY = date(2025, 6, 2)  # a past week the shared test world never touches


def _at(program, day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.zone(program))


@pytest.fixture
def person(world: World):
    """Someone in care since well before the test week (the shared world's own participant
    was admitted last week, and has a group yesterday that would land in some weeks)."""
    participant, _ = admit(
        world.program_a,
        world.track_a,
        world.clinician_a,
        first="Lee",
        last="Ledgerby",
        admitted_on=date(2025, 5, 1),
    )
    return participant


def _group(world: World, person, start: datetime, minutes: int = 180, kind: str = "group"):
    session = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind=kind,
        title="g",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        facilitator=world.clinician_a,
        plan_code="cbt-01" if kind == "group" else "",
    )
    return gw.attendance_add(actor=world.clinician_a, session=session, participant=person)


def _attend(world, person, participant_minutes: list[int], start_day=MONDAY):
    """One 180-minute group per day; arrival chosen so the participant attends exactly N."""
    for offset, minutes in enumerate(participant_minutes):
        start = _at(world.program_a, start_day + timedelta(days=offset), 9)
        row = _group(world, person, start)
        gw.attendance_arrive(
            actor=world.clinician_a, attendance=row, at=start + timedelta(minutes=180 - minutes)
        )


@pytest.mark.parametrize(("minutes", "meets"), [([180, 180, 179], False), ([180, 180, 180], True)])
def test_adult_boundary_539_540(world: World, person, minutes, meets):
    _attend(world, person, minutes)
    row = weekly_ledger(
        program=world.program_a,
        week_start=MONDAY,
        now=_at(world.program_a, MONDAY + timedelta(days=6), 23),
    )[person.pk]
    assert row.total == sum(minutes)
    assert row.meets_minimum is meets
    assert row.shortfall == (0 if meets else 1)


@pytest.mark.parametrize(("minutes", "meets"), [(359, False), (360, True)])
def test_adolescent_boundary_359_360(db, minutes, meets):
    program = make_program(population="adolescent")
    track = make_track(program)
    clinician = make_staff(program, Role.CLINICIAN)
    person, _ = admit(
        program, track, clinician, born=date(2010, 3, 1), admitted_on=date(2025, 5, 1)
    )
    first = _at(program, MONDAY, 15)
    remaining = minutes
    for day in range(2):
        start = first + timedelta(days=day)
        session = gw.session_create(
            actor=clinician,
            program=program,
            kind="group",
            title="g",
            starts_at=start,
            ends_at=start + timedelta(minutes=180),
            facilitator=clinician,
            plan_code="cbt-01",
        )
        row = gw.attendance_add(actor=clinician, session=session, participant=person)
        take = min(remaining, 180)
        gw.attendance_arrive(
            actor=clinician, attendance=row, at=start + timedelta(minutes=180 - take)
        )
        remaining -= take
    ledger = weekly_ledger(program=program, week_start=MONDAY, now=first + timedelta(days=6))
    assert ledger[person.pk].total == minutes and ledger[person.pk].meets_minimum is meets


def test_week_is_iso_monday_to_sunday_in_program_time(world: World, person):
    _attend(world, person, [180], start_day=MONDAY - timedelta(days=1))  # Sunday: previous week
    ledger = weekly_ledger(program=world.program_a, week_start=MONDAY)
    assert person.pk not in ledger


def test_modalities_are_separate(world: World, person):
    start = _at(world.program_a, MONDAY, 13)
    row = _group(world, person, start, minutes=60, kind="individual")
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=start)
    _attend(world, person, [180])
    ledger = weekly_ledger(program=world.program_a, week_start=MONDAY)[person.pk]
    assert ledger.minutes["individual"] == 60 and ledger.minutes["group"] == 180
    assert ledger.total == 240


def test_at_risk_when_remaining_schedule_cannot_close_the_gap(world: World, person):
    _attend(world, person, [180])
    _group(world, person, _at(world.program_a, MONDAY + timedelta(days=2), 9))  # not yet held
    now = _at(world.program_a, MONDAY + timedelta(days=1), 12)
    row = weekly_ledger(program=world.program_a, week_start=MONDAY, now=now)[person.pk]
    assert row.scheduled_remaining == 180 and row.total == 180 and row.at_risk
    listed = under_minimum(program=world.program_a, week_start=MONDAY, now=now)
    assert person in [u.participant for u in listed]


def test_participant_weeks_for_the_chart(world: World, person):
    from openiop.groupwork.ledger import participant_weeks

    _attend(world, person, [180, 120])
    _attend(world, person, [60], start_day=MONDAY - timedelta(days=7))
    weeks = dict(participant_weeks(participant=person, weeks=3, today=MONDAY + timedelta(days=3)))
    assert weeks[MONDAY].total == 300 and not weeks[MONDAY].meets_minimum
    assert weeks[MONDAY - timedelta(days=7)].total == 60
    assert weeks[MONDAY - timedelta(days=14)].total == 0
