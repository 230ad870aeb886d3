from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from openiop.core import clock
from openiop.core.clock import program_today
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import iso_week_start
from openiop.groupwork.models import Attendance, Session
from openiop.planner import check_plan, parse_input
from openiop.scheduling import actions
from openiop.scheduling.models import AvailabilityWindow, PlanRunKind
from openiop.scheduling.planning import build_input
from openiop.testing import World, admit

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(world: World) -> date:
    """Next week, with Monday/Wednesday/Friday 09:00-12:00 groups on track AM."""
    monday = iso_week_start(program_today(world.program_a)) + timedelta(weeks=1)
    for day in (0, 2, 4):
        gw.schedule_create(
            actor=world.director_a,
            program=world.program_a,
            track=world.track_a,
            title="Morning group",
            weekday=day,
            start_time=time(9, 0),
            end_time=time(12, 0),
            facilitator=world.clinician_a,
            plan_rotation=["cbt-01", "cbt-03"],
            active_from=monday - timedelta(weeks=2),
        )
    actions.week_sessions_prepare(
        actor=world.director_a, program=world.program_a, week_start=monday
    )
    return monday


def _available(world: World, participant, days, start=time(8, 30), end=time(13, 0)) -> None:
    actions.availability_set(
        actor=world.director_a, participant=participant, windows=[(d, start, end, "") for d in days]
    )


def test_input_is_a_valid_contract_document(world: World, week):
    _available(world, world.participant_a, range(5))
    doc, _ = build_input(program=world.program_a, week_start=week)
    plan_input = parse_input(doc)  # raises on anything the contract forbids
    assert len(plan_input.groups) == 3
    assert doc["rules"]["min_minutes"]["adult"] == 540


def test_plan_apply_and_reasons(world: World, week):
    _available(world, world.participant_a, range(5))
    monday_only, _ = admit(
        world.program_a, world.track_a, world.clinician_a, first="Mona", last="Dayby"
    )
    _available(world, monday_only, [0])
    run = actions.plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=week,
        kind=PlanRunKind.WEEK,
        time_limit=5,
    )
    assert run.status == "OPTIMAL"
    assert check_plan(run.input_doc, run.output_doc) == []
    results = {p["id"]: p for p in run.output_doc["participants"]}
    assert results[str(world.participant_a.external_id)]["meets_minimum"]
    mona = results[str(monday_only.external_id)]
    assert not mona["meets_minimum"] and mona["reasons"]
    counts = actions.plan_run_apply(actor=world.director_a, run=run)
    assert counts["added"] >= 3
    sessions = Session.objects.filter(
        program=world.program_a, kind="group", starts_at__date__gte=week
    )
    assert (
        Attendance.objects.filter(
            session__in=sessions, participant=world.participant_a, removed=False
        ).count()
        == 3
    )
    booked = Session.objects.filter(
        program=world.program_a, kind="individual", attendance__participant=world.participant_a
    )
    assert (
        booked.count() == 1
    )  # the default 60 individual minutes, placed with the primary clinician


def test_participant_without_availability_gets_a_reason(world: World, week):
    run = actions.plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=week,
        kind=PlanRunKind.WEEK,
        time_limit=5,
    )
    result = next(
        p for p in run.output_doc["participants"] if p["id"] == str(world.participant_a.external_id)
    )
    assert not result["meets_minimum"] and result["reasons"]


def test_makeup_run_counts_attended_and_keeps_bookings(world: World):
    this_monday = iso_week_start(program_today(world.program_a))

    tz = clock.zone(world.program_a)
    earlier = datetime.combine(this_monday, time(9, 0), tzinfo=tz)
    held = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind="group",
        title="Held",
        starts_at=earlier,
        ends_at=earlier + timedelta(hours=3),
        facilitator=world.clinician_a,
        track=world.track_a,
        plan_code="cbt-01",
    )
    row = gw.attendance_add(actor=world.clinician_a, session=held, participant=world.participant_a)
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=earlier)
    now = earlier + timedelta(hours=4)
    later = earlier + timedelta(days=2)
    ahead = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind="group",
        title="Ahead",
        starts_at=later,
        ends_at=later + timedelta(hours=3),
        facilitator=world.clinician_a,
        track=world.track_a,
        plan_code="cbt-01",
    )
    gw.attendance_add(actor=world.clinician_a, session=ahead, participant=world.participant_a)
    _available(world, world.participant_a, range(5))
    doc, _ = build_input(program=world.program_a, week_start=this_monday, makeup_after=now)
    me = next(p for p in doc["participants"] if p["id"] == str(world.participant_a.external_id))
    from openiop.groupwork.ledger import weekly_ledger

    attended = weekly_ledger(program=world.program_a, week_start=this_monday)[
        world.participant_a.pk
    ].total
    assert attended >= 180
    assert me["attended_minutes"] == attended + 180  # what was attended, plus what is booked ahead
    assert str(held.external_id) not in {g["id"] for g in doc["groups"]}  # only groups still ahead
    parse_input(doc)


def test_board_run_apply_views_and_twins(world: World, week, client_for):
    _available(world, world.participant_a, range(5))
    base = f"/p/{world.program_a.external_id}/planner/"
    director = client_for(world.director_a)
    page = director.get(base, {"week": week.isoformat()})
    assert page.status_code == 200 and b"Plan this week" in page.content
    assert client_for(world.clinician_a).get(base).status_code == 403
    assert client_for(world.clinician_b).get(base).status_code == 404
    response = director.post(base + "run/", {"week": week.isoformat(), "kind": "week"})
    assert response.status_code == 302
    run_page = director.get(response["Location"])
    assert run_page.status_code == 200 and b"Apply this plan" in run_page.content
    asked = director.post(response["Location"] + "apply/")
    assert asked.status_code == 200 and b"Apply the plan" in asked.content
    applied = director.post(response["Location"] + "apply/", {"confirm": "yes"})
    assert applied.status_code == 302
    again = director.post(response["Location"] + "apply/", {"confirm": "yes"}, follow=True)
    assert b"already applied" in again.content


def test_availability_form_saves_and_names_bad_fields(world: World, client_for):
    program, participant = world.program_a.external_id, world.participant_a.external_id
    path = f"/p/{program}/participants/{participant}/availability/"
    client = client_for(world.intake_a)
    assert client.get(path).status_code == 200
    bad = client.post(
        path, {"start_0": "09:00", "end_0": "", "individual_minutes": "60", "family_minutes": "0"}
    )
    assert bad.status_code == 422 and b"Monday" in bad.content
    odd = client.post(
        path,
        {"start_1": "09:00", "end_1": "12:00", "individual_minutes": "50", "family_minutes": "0"},
    )
    assert odd.status_code == 422 and b"Individual session minutes: Use 0 to 180" in odd.content
    ok = client.post(
        path,
        {
            "start_1": "09:00",
            "end_1": "12:00",
            "individual_minutes": "60",
            "family_minutes": "0",
            "tracks": [str(world.track_a.external_id)],
        },
    )
    assert ok.status_code == 302
    assert AvailabilityWindow.objects.filter(participant=world.participant_a).count() == 1
    assert client_for(world.billing_a).get(path).status_code == 403
