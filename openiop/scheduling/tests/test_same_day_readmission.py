"""A participant discharged and re-admitted on the same day is one person to the planner
(issue 18 item 6): the current week's run used to fail with the planner's raw
`participants[n].id: "…" is already used by participants[m]` shown as a success."""

from __future__ import annotations

from datetime import time

import pytest

from openiop.groupwork.ledger import iso_week_start
from openiop.participants import actions as participant_actions
from openiop.planner import parse_input
from openiop.scheduling import actions
from openiop.scheduling.models import PlanRun
from openiop.scheduling.planning import build_input
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _discharge_and_readmit_today(world: World) -> None:
    participant_actions.enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(world.program_a),
        reason="stepped_up",
        step_down_destination="residential",
    )
    participant_actions.enrollment_readmit(
        actor=world.clinician_a,
        participant=world.participant_a,
        track=world.track_a,
        admitted_on=today(world.program_a),
        primary_clinician=world.clinician_a,
    )


def test_same_day_discharge_and_new_episode_is_one_planner_participant(world: World):
    _discharge_and_readmit_today(world)
    actions.availability_set(
        actor=world.director_a,
        participant=world.participant_a,
        windows=[(d, time(8, 0), time(18, 0), "") for d in range(7)],
    )
    week = iso_week_start(today(world.program_a))
    doc, _ = build_input(program=world.program_a, week_start=week)
    parse_input(doc)  # raised "is already used by" before the fix
    ids = [p["id"] for p in doc["participants"]]
    assert ids.count(str(world.participant_a.external_id)) == 1
    assert len(ids) == len(set(ids))
    # Either episode's days are days in care: the old one's up to the change, the new one's
    # from it, so the whole week stays available.
    mine = next(p for p in doc["participants"] if p["id"] == str(world.participant_a.external_id))
    assert {w["day"] for w in mine["available"]} == set(range(7))


def test_planner_runs_on_the_current_week_after_a_same_day_readmission(world: World, client_for):
    _discharge_and_readmit_today(world)
    week = iso_week_start(today(world.program_a))
    base = f"/p/{world.program_a.external_id}/planner/"
    response = client_for(world.director_a).post(
        base + "run/", {"week": week.isoformat(), "kind": "week"}, follow=True
    )
    assert response.status_code == 200
    assert PlanRun.objects.filter(program=world.program_a).count() == 1
    assert b"already used by" not in response.content


def test_a_planner_refusal_is_an_error_in_plain_words(world: World, client_for, monkeypatch):
    from openiop.planner import PlanInputError

    def refuse(doc):
        raise PlanInputError("participants[31].id", '"abc" is already used by participants[3]')

    monkeypatch.setattr(actions, "parse_input", refuse)
    week = iso_week_start(today(world.program_a))
    base = f"/p/{world.program_a.external_id}/planner/"
    page = client_for(world.director_a).post(
        base + "run/", {"week": week.isoformat(), "kind": "week"}, follow=True
    )
    html = page.content.decode()
    assert 'class="message error" role="alert"' in html
    assert "could not use a participant&#x27;s availability" in html
    assert "participants[" not in html and "already used" not in html
    assert PlanRun.objects.count() == 0


def test_an_unauthorised_planner_run_is_refused(world: World, client_for):
    week = iso_week_start(today(world.program_a))
    url = f"/p/{world.program_a.external_id}/planner/run/"
    body = {"week": week.isoformat(), "kind": "week"}
    assert client_for(world.clinician_a).post(url, body).status_code == 403
    assert client_for(world.clinician_b).post(url, body).status_code == 404
