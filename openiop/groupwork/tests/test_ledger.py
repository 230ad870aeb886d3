from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest

from openiop.accounts.roles import Role
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import under_minimum, weekly_ledger
from openiop.testing import World, admit, make_group_session, make_program, make_staff, make_track

pytestmark = pytest.mark.django_db
MONDAY = date(2025, 6, 2)  # a past week the shared test world never touches


def _at(program, day: date, hour: int) -> datetime:
    return datetime(
        day.year, day.month, day.day, hour, 0, tzinfo=zoneinfo.ZoneInfo(program.time_zone)
    )


def _attend(world, participant_minutes: list[int], start_day=MONDAY, program=None):
    """One 180-minute group per day; arrival chosen so the participant attends exactly N."""
    for offset, minutes in enumerate(participant_minutes):
        start = _at(world.program_a, start_day + timedelta(days=offset), 9)
        _session, _, rows = make_group_session(world, members=1, starts_at=start, minutes=180)
        gw.attendance_arrive(
            actor=world.clinician_a, attendance=rows[0], at=start + timedelta(minutes=180 - minutes)
        )


@pytest.mark.parametrize(("minutes", "meets"), [([180, 180, 179], False), ([180, 180, 180], True)])
def test_adult_boundary_539_540(world: World, minutes, meets):
    _attend(world, minutes)
    row = weekly_ledger(
        program=world.program_a,
        week_start=MONDAY,
        now=_at(world.program_a, MONDAY + timedelta(days=6), 23),
    )[world.participant_a.pk]
    assert row.total == sum(minutes)
    assert row.meets_minimum is meets
    assert row.shortfall == (0 if meets else 1)


@pytest.mark.parametrize(("minutes", "meets"), [(359, False), (360, True)])
def test_adolescent_boundary_359_360(minutes, meets):
    program = make_program(population="adolescent")
    track = make_track(program)
    clinician = make_staff(program, Role.CLINICIAN)
    person, _ = admit(program, track, clinician, born=date.today() - timedelta(days=365 * 15))
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


def test_week_is_iso_monday_to_sunday_in_program_time(world: World):
    _attend(world, [180], start_day=MONDAY - timedelta(days=1))  # Sunday: previous week
    ledger = weekly_ledger(program=world.program_a, week_start=MONDAY)
    assert world.participant_a.pk not in ledger


def test_modalities_are_separate(world: World):
    start = _at(world.program_a, MONDAY, 13)
    session = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind="individual",
        title="1:1",
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        facilitator=world.clinician_a,
    )
    row = gw.attendance_add(
        actor=world.clinician_a, session=session, participant=world.participant_a
    )
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=start)
    _attend(world, [180])
    ledger = weekly_ledger(program=world.program_a, week_start=MONDAY)[world.participant_a.pk]
    assert (
        ledger.minutes["individual"] == 60
        and ledger.minutes["group"] == 180
        and ledger.total == 240
    )


def test_at_risk_when_remaining_schedule_cannot_close_the_gap(world: World):
    _attend(world, [180])
    wednesday = _at(world.program_a, MONDAY + timedelta(days=2), 9)
    make_group_session(world, members=1, starts_at=wednesday, minutes=180)  # expected, not yet held
    now = _at(world.program_a, MONDAY + timedelta(days=1), 12)
    row = weekly_ledger(program=world.program_a, week_start=MONDAY, now=now)[world.participant_a.pk]
    assert row.scheduled_remaining == 180 and row.total == 180 and row.at_risk
    listed = under_minimum(program=world.program_a, week_start=MONDAY, now=now)
    assert next(u.participant for u in listed) == world.participant_a
