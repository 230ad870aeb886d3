"""Issue 18 item 10: a refused availability form shows again with everything typed, errors
under names people read (the day, not 'windows[0].end_time'), and saves nothing."""

from __future__ import annotations

import pytest

from openiop.scheduling.models import AvailabilityWindow, PlanningProfile
from openiop.testing import World

pytestmark = pytest.mark.django_db


def _path(world: World) -> str:
    program, participant = world.program_a.external_id, world.participant_a.external_id
    return f"/p/{program}/participants/{participant}/availability/"


def test_a_refused_form_keeps_what_was_typed(world: World, client_for):
    client = client_for(world.intake_a)
    response = client.post(
        _path(world),
        {
            "start_0": "09:00",
            "end_0": "12:00",
            "note_0": "after the school run",
            "start_2": "14:00",
            "end_2": "13:00",  # ends before it starts
            "individual_minutes": "45",
            "family_minutes": "30",
            "commitments": "Works Thursdays",
            "tracks": [str(world.track_a.external_id)],
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Wednesday: The window must end after it starts." in body
    assert "windows[" not in body
    for typed in (
        'value="09:00"',
        'value="after the school run"',
        'value="14:00"',
        'value="13:00"',
        'value="45"',
        'value="30"',
        'value="Works Thursdays"',
    ):
        assert typed in body, typed
    assert f'value="{world.track_a.external_id}" checked' in body
    # Nothing half-saved: the profile is not stored when the windows are refused.
    assert not PlanningProfile.objects.filter(participant=world.participant_a).exists()
    assert not AvailabilityWindow.objects.filter(participant=world.participant_a).exists()


def test_a_too_long_note_is_refused_with_its_length(world: World, client_for):
    response = client_for(world.intake_a).post(
        _path(world),
        {
            "start_1": "09:00",
            "end_1": "12:00",
            "note_1": "x" * 130,
            "individual_minutes": "60",
            "family_minutes": "0",
        },
    )
    assert response.status_code == 422
    assert "Tuesday: Keep the note to 120 characters (it has 130)." in response.content.decode()


def test_the_stored_values_show_on_opening(world: World, client_for):
    client = client_for(world.intake_a)
    ok = client.post(
        _path(world),
        {"start_4": "10:00", "end_4": "15:00", "individual_minutes": "60", "family_minutes": "0"},
    )
    assert ok.status_code == 302
    body = client.get(_path(world)).content.decode()
    assert 'name="start_4" value="10:00"' in body and 'name="end_4" value="15:00"' in body
