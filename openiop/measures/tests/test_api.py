"""The measures API: list, create, due; authorisation twins and the error envelope."""

from __future__ import annotations

import json
import random

import pytest

from openiop.accounts.actions import system_user
from openiop.audit.models import AuditEvent
from openiop.core.clock import program_today
from openiop.demo.measures import seed_assessments
from openiop.measures.actions import schedule_set
from openiop.measures.models import Assessment
from openiop.measures.tests.helpers import record
from openiop.testing import World

pytestmark = pytest.mark.django_db


def _path(world: World) -> str:
    return (
        f"/api/v1/programs/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/assessments"
    )


def _post(client, path: str, body: dict):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_create_and_list(world: World, client_for):
    client = client_for(world.clinician_a)
    response = _post(client, _path(world), {"instrument": "phq9", "answers": [1] * 9})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["band"], body["critical"]) == (9, "mild", [9])
    listed = client.get(_path(world)).json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert AuditEvent.objects.filter(action="read", detail__view="api.assessments").exists()


def test_item_error_envelope_names_the_item(world: World, client_for):
    response = _post(
        client_for(world.clinician_a),
        _path(world),
        {"instrument": "phq9", "answers": [0, 0, 0, 0, 9, 0, 0, 0, 0]},
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["answers[4]"] and fields["answers[4]"][0].startswith("item 5")
    assert not Assessment.objects.exists()


def test_unknown_fields_refused(world: World, client_for):
    response = _post(
        client_for(world.clinician_a),
        _path(world),
        {"instrument": "phq9", "answers": [0] * 9, "total": 27},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("who", "status"), [("billing_a", 403), ("intake_a", 403), ("clinician_b", 404)]
)
def test_authorisation_twins(world: World, client_for, who, status):
    record(world, world.participant_a)
    client = client_for(getattr(world, who))
    assert client.get(_path(world)).status_code == status
    assert (
        _post(client, _path(world), {"instrument": "phq9", "answers": [0] * 9}).status_code
        == status
    )
    due = f"/api/v1/programs/{world.program_a.external_id}/assessments/due"
    assert client.get(due).status_code == status
    assert Assessment.objects.count() == 1


def test_due_list(world: World, client_for):
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="gad7", cadences=["intake"]
    )
    due = client_for(world.supervisor_a).get(
        f"/api/v1/programs/{world.program_a.external_id}/assessments/due"
    )
    assert due.status_code == 200
    assert [(d["record_number"], d["instrument"]) for d in due.json()] == [
        (world.participant_a.record_number, "gad7")
    ]


def test_seed_assessments_makes_weekly_trajectories_and_raises_safety_events(
    world: World, monkeypatch
):
    from datetime import timedelta

    from openiop.measures.tests.helpers import long_stay
    from openiop.safety.models import SafetyEvent

    for i in range(12):
        long_stay(world, weeks=6, last=f"Seed{i}")
    monkeypatch.setattr("openiop.demo.measures.ITEM9_RATE", 0.5)
    made = seed_assessments(
        program=world.program_a,
        system=system_user(),
        rng=random.Random(7),
        today=program_today(world.program_a),
    )
    assert made == Assessment.objects.count() > 12 * 6 * 2
    assert set(Assessment.objects.values_list("instrument", flat=True)) == {"phq9", "gad7"}
    critical = Assessment.objects.exclude(critical=[])
    assert critical.exists() and all(a.critical == [9] for a in critical)
    raised = set(SafetyEvent.objects.values_list("assessment_id", flat=True))
    assert raised == {a.external_id for a in critical}
    assert (
        seed_assessments(
            program=world.program_a,
            system=system_user(),
            rng=random.Random(7),
            today=program_today(world.program_a) + timedelta(days=0),
        )
        == 0
    )
