from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from openiop.core.errors import ActionError, ConflictError
from openiop.groupwork import actions as gw
from openiop.groupwork.minutes import attended_minutes
from openiop.groupwork.models import AttendanceStatus, PracticeRecord
from openiop.testing import World, admit, make_group_session

pytestmark = pytest.mark.django_db


def test_minutes_are_clamped_and_floored():
    from datetime import datetime

    start = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    end = start + timedelta(minutes=180)
    assert (
        attended_minutes(
            session_start=start,
            session_end=end,
            arrived_at=start - timedelta(minutes=5),
            departed_at=None,
        )
        == 180
    )
    assert (
        attended_minutes(
            session_start=start,
            session_end=end,
            arrived_at=start + timedelta(minutes=12, seconds=40),
            departed_at=end,
        )
        == 167
    )
    assert (
        attended_minutes(
            session_start=start,
            session_end=end,
            arrived_at=start,
            departed_at=start + timedelta(minutes=95),
        )
        == 95
    )
    assert (
        attended_minutes(session_start=start, session_end=end, arrived_at=None, departed_at=None)
        == 0
    )


def test_late_arrival_and_early_departure(world: World):
    session, _, rows = make_group_session(world, members=2)
    late = gw.attendance_arrive(
        actor=world.clinician_a, attendance=rows[0], at=session.starts_at + timedelta(minutes=20)
    )
    assert late.status == AttendanceStatus.PRESENT and late.minutes == 160
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[1], at=session.starts_at)
    early = gw.attendance_depart(
        actor=world.clinician_a, attendance=rows[1], at=session.starts_at + timedelta(minutes=120)
    )
    assert early.minutes == 120


def test_bad_times_name_the_field(world: World):
    session, _, rows = make_group_session(world, members=1)
    with pytest.raises(ActionError) as exc:
        gw.attendance_depart(actor=world.clinician_a, attendance=rows[0], at=session.ends_at)
    assert "departed_at" in exc.value.errors
    with pytest.raises(ActionError) as exc:
        gw.attendance_arrive(
            actor=world.clinician_a, attendance=rows[0], at=session.starts_at - timedelta(hours=5)
        )
    assert "arrived_at" in exc.value.errors


def test_walk_in_and_remove_keep_the_record(world: World):
    session, people, rows = make_group_session(world, members=2)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[1], at=session.starts_at)
    gw.practice_record_save(
        actor=world.clinician_a, session=session, participant=people[1], skill="DEAR MAN", rating=4
    )
    removed = gw.attendance_remove(actor=world.clinician_a, attendance=rows[1])
    assert removed.removed
    back = gw.attendance_add(actor=world.clinician_a, session=session, participant=people[1])
    assert not back.removed and back.arrived_at is not None and back.minutes > 0
    assert PracticeRecord.objects.filter(session=session, participant=people[1]).count() == 1
    walk_in, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Walk", last="Inby")
    row = gw.attendance_add(
        actor=world.clinician_a, session=session, participant=walk_in, walk_in=True
    )
    assert row.walk_in
    with pytest.raises(ConflictError):
        gw.attendance_add(actor=world.clinician_a, session=session, participant=walk_in)


def test_program_b_participant_cannot_join(world: World):
    session, _, _ = make_group_session(world, members=1)
    with pytest.raises(ActionError) as exc:
        gw.attendance_add(actor=world.clinician_a, session=session, participant=world.participant_b)
    assert "participant" in exc.value.errors


def test_practice_capture_refuses_peer_names(world: World):
    session, people, _ = make_group_session(world, members=2)
    with pytest.raises(ActionError) as exc:
        gw.practice_record_save(
            actor=world.clinician_a,
            session=session,
            participant=people[0],
            skill="GIVE",
            comment=f"Role-played with {people[1].legal_first_name}.",
        )
    assert "comment" in exc.value.errors
    with pytest.raises(ActionError) as exc:
        gw.practice_record_save(
            actor=world.clinician_a, session=session, participant=people[0], skill="", rating=9
        )
    assert set(exc.value.errors) == {"skill", "rating"}


def test_close_session_marks_absent_and_departures(world: World):
    session, _, rows = make_group_session(world, members=3)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    gw.session_close(actor=world.clinician_a, session=session)
    rows = [r.__class__.objects.get(pk=r.pk) for r in rows]
    assert rows[0].minutes == 180 and rows[0].departed_at == session.ends_at
    assert {r.status for r in rows[1:]} == {AttendanceStatus.ABSENT}


def test_group_session_needs_a_real_plan(world: World):
    from django.utils import timezone

    with pytest.raises(ActionError) as exc:
        gw.session_create(
            actor=world.clinician_a,
            program=world.program_a,
            kind="group",
            title="x",
            starts_at=timezone.now(),
            ends_at=timezone.now() - timedelta(minutes=1),
            facilitator=world.billing_a,
            plan_code="no-such-plan",
        )
    assert set(exc.value.errors) == {"plan_code", "ends_at", "facilitator"}
