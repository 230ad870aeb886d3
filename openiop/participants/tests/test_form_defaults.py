"""Issue 18 item 11: the change-phase and discharge forms open on sensible current values:
today on the program's calendar, the phase after the current one, an outpatient step-down,
and no silent discharge reason early in an episode."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from openiop.participants import actions
from openiop.participants.models import Phase
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _page(world: World, client_for, name: str) -> str:
    path = reverse(
        f"participants:{name}",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
            "enrollment_id": world.enrollment_a.external_id,
        },
    )
    response = client_for(world.director_a).get(path)
    assert response.status_code == 200
    return response.content.decode()


def _selected(body: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None, name
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return chosen.group(1) if chosen else ""


def _date(body: str, name: str) -> str:
    found = re.search(rf'<input type="date" name="{name}" value="([^"]*)"', body)
    return found.group(1) if found else ""


def test_change_phase_offers_the_next_phase_from_today(world: World, client_for):
    assert world.enrollment_a.phase == Phase.ENGAGEMENT
    body = _page(world, client_for, "change_phase")
    assert _selected(body, "to_phase") == Phase.EARLY_RECOVERY
    assert _date(body, "effective_on") == today(world.program_a).isoformat()


def test_change_phase_from_the_last_phase_preselects_nothing(world: World, client_for):
    actions.enrollment_change_phase(
        actor=world.director_a,
        enrollment=world.enrollment_a,
        to_phase=Phase.COMMUNITY_INTEGRATION,
        effective_on=today(world.program_a),
        reason="progress",
    )
    body = _page(world, client_for, "change_phase")
    assert _selected(body, "to_phase") == ""


def test_discharge_early_in_an_episode_asks_for_the_reason(world: World, client_for):
    body = _page(world, client_for, "discharge")
    assert _selected(body, "reason") == ""
    assert "Choose why the episode ends" in body
    assert _selected(body, "step_down_destination") == "outpatient"
    assert _date(body, "discharged_on") == today(world.program_a).isoformat()


def test_discharge_late_in_an_episode_preselects_completed(world: World, client_for):
    actions.enrollment_change_phase(
        actor=world.director_a,
        enrollment=world.enrollment_a,
        to_phase=Phase.MAINTENANCE,
        effective_on=today(world.program_a),
        reason="progress",
    )
    body = _page(world, client_for, "discharge")
    assert _selected(body, "reason") == "completed"


def test_a_discharge_without_a_reason_names_the_field(world: World, client_for):
    path = reverse(
        "participants:discharge",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
            "enrollment_id": world.enrollment_a.external_id,
        },
    )
    response = client_for(world.director_a).post(
        path,
        {
            "discharged_on": today(world.program_a).isoformat(),
            "reason": "",
            "step_down_destination": "outpatient",
        },
    )
    assert response.status_code == 422
    assert "Choose why the episode ends." in response.content.decode()
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.discharged_on is None
