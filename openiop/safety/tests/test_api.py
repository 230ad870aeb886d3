from __future__ import annotations

import json

import pytest

from openiop.safety.models import EventStatus, SafetyEvent, SafetyNotification
from openiop.safety.tests.helpers import raise_event
from openiop.testing import World

pytestmark = pytest.mark.django_db


def base(world: World, program=None) -> str:
    return f"/api/v1/programs/{(program or world.program_a).external_id}"


def post(client, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_list_raise_acknowledge(world: World, client_for):
    client = client_for(world.clinician_a)
    path = f"{base(world)}/participants/{world.participant_a.external_id}/safety-events"
    created = post(client, path, {"severity": "high", "detail": "Concern"})
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    assert SafetyNotification.objects.filter(event__external_id=event_id).exists()
    listed = client.get(f"{base(world)}/safety/events").json()["items"]
    assert [e["id"] for e in listed] == [event_id] and listed[0]["severity"] == "high"
    ack = post(client, f"{base(world)}/safety/events/{event_id}/acknowledge", {})
    assert ack.status_code == 200 and ack.json()["status"] == EventStatus.ACKNOWLEDGED
    again = post(client, f"{base(world)}/safety/events/{event_id}/acknowledge", {})
    assert again.status_code == 409


def test_api_refuses_unknown_fields(world: World, client_for):
    path = f"{base(world)}/participants/{world.participant_a.external_id}/safety-events"
    response = post(client_for(world.clinician_a), path, {"severity": "urgent", "source": "cssrs"})
    assert response.status_code == 422
    assert not SafetyEvent.objects.exists()


@pytest.mark.parametrize("persona", ["intake_a", "billing_a"])
def test_api_intake_and_billing_403(world: World, client_for, persona):
    event = raise_event(world)
    client = client_for(getattr(world, persona))
    assert client.get(f"{base(world)}/safety/events").status_code == 403
    ack = post(client, f"{base(world)}/safety/events/{event.external_id}/acknowledge", {})
    assert ack.status_code == 403
    path = f"{base(world)}/participants/{world.participant_a.external_id}/safety-events"
    assert post(client, path, {"severity": "urgent"}).status_code == 403


def test_api_program_b_404(world: World, client_for):
    event = raise_event(world)
    client = client_for(world.clinician_b)
    assert client.get(f"{base(world)}/safety/events").status_code == 404
    ack = post(client, f"{base(world)}/safety/events/{event.external_id}/acknowledge", {})
    assert ack.status_code == 404
    own = post(
        client, f"{base(world, world.program_b)}/safety/events/{event.external_id}/acknowledge", {}
    )
    assert own.status_code == 404
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN
