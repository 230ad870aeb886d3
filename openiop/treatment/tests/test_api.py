from __future__ import annotations

import json

import pytest

from openiop.testing import World, today
from openiop.treatment.models import Problem, TreatmentPlan
from openiop.treatment.tests.helpers import first_items, make_plan, soon

pytestmark = pytest.mark.django_db


def base(world: World) -> str:
    return (
        f"/api/v1/programs/{world.program_a.external_id}"
        f"/participants/{world.participant_a.external_id}"
    )


def send(client, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_active_plan_tree(world: World, client_for):
    client = client_for(world.clinician_a)
    assert client.get(f"{base(world)}/plan").json() == {"plan": None}
    plan = make_plan(world)
    tree = client.get(f"{base(world)}/plan").json()["plan"]
    assert tree["id"] == str(plan.external_id) and tree["status"] == "active"
    goal = tree["problems"][0]["goals"][0]
    assert goal["measure"] and goal["target_date"]
    assert goal["objectives"][0]["interventions"][0]["curriculum_modules"] == ["cbt"]


def test_build_a_plan_over_the_api(world: World, client_for):
    client = client_for(world.clinician_a)
    created = send(
        client,
        f"{base(world)}/plans",
        {"effective_on": today().isoformat(), "review_on": soon(30).isoformat()},
    )
    assert created.status_code == 201, created.content
    plan = created.json()
    path = f"{base(world)}/plans/{plan['id']}"
    plan = send(client, f"{path}/problems", {"version": 1, "statement": "Low mood"}).json()
    problem = plan["problems"][0]["id"]
    goal_body = {"version": 2, "statement": "Work", "measure": "PHQ-9", "target_date": str(soon())}
    plan = send(client, f"{path}/problems/{problem}/goals", goal_body).json()
    goal = plan["problems"][0]["goals"][0]["id"]
    objective_body = {"version": 3, "statement": "Daily task", "target_date": str(soon(20))}
    plan = send(client, f"{path}/goals/{goal}/objectives", objective_body).json()
    objective = plan["problems"][0]["goals"][0]["objectives"][0]["id"]
    intervention = {
        "version": 4,
        "description": "CBT group",
        "frequency": "3 a week",
        "responsible": str(world.clinician_a.external_id),
        "curriculum_modules": ["cbt"],
    }
    response = send(client, f"{path}/objectives/{objective}/interventions", intervention)
    assert response.status_code == 201, response.content
    response = send(client, f"{path}/activate", {"version": 5})
    assert response.json()["status"] == "active"
    status = {"version": 6, "status": "achieved", "reason": "Done"}
    response = send(client, f"{path}/goals/{goal}/status", status)
    assert response.status_code == 200
    assert response.json()["problems"][0]["goals"][0]["status"] == "achieved"
    assert response.json()["version"] == 7


def test_stale_version_is_409(world: World, client_for):
    plan = make_plan(world)
    response = send(
        client_for(world.clinician_a),
        f"{base(world)}/plans/{plan.external_id}/problems",
        {"version": 1, "statement": "late"},
    )
    assert response.status_code == 409
    assert "version" in response.json()["error"]["fields"]


def test_smart_parts_are_required_and_unknown_fields_refused(world: World, client_for):
    plan = make_plan(world)
    problem, _, _ = first_items(plan)
    path = f"{base(world)}/plans/{plan.external_id}/problems/{problem.external_id}/goals"
    client = client_for(world.clinician_a)
    missing = send(client, path, {"version": plan.version, "statement": "x"})
    assert missing.status_code == 422
    assert {"measure", "target_date"} <= set(missing.json()["error"]["fields"])
    extra = send(
        client,
        f"{base(world)}/plans/{plan.external_id}/problems",
        {"version": plan.version, "statement": "x", "status": "achieved"},
    )
    assert extra.status_code == 422 and "status" in extra.json()["error"]["fields"]
    past = send(
        client,
        path,
        {"version": plan.version, "statement": "x", "measure": "y", "target_date": "2001-01-01"},
    )
    assert past.status_code == 422 and "target_date" in past.json()["error"]["fields"]


@pytest.mark.parametrize("persona", ["billing_a", "intake_a"])
def test_billing_and_intake_get_403(world: World, client_for, persona):
    plan = make_plan(world)
    client = client_for(getattr(world, persona))
    response = client.get(f"{base(world)}/plan")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    write = send(
        client, f"{base(world)}/plans/{plan.external_id}/problems", {"version": 1, "statement": "x"}
    )
    assert write.status_code == 403
    assert Problem.objects.count() == 1


def test_program_b_clinician_gets_404(world: World, client_for):
    plan = make_plan(world)
    client = client_for(world.clinician_b)
    assert client.get(f"{base(world)}/plan").status_code == 404
    assert client.get(f"{base(world)}/plans/{plan.external_id}").status_code == 404
    response = send(
        client,
        f"{base(world)}/plans",
        {"effective_on": today().isoformat(), "review_on": soon(30).isoformat()},
    )
    assert response.status_code == 404
    assert TreatmentPlan.objects.count() == 1
