from __future__ import annotations

import json
from datetime import timedelta

import pytest

from openiop.groupwork.models import Note, NoteStatus
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, path, data=json.dumps(body or {}), content_type="application/json"
    )


def test_run_a_session_over_the_api(world: World, client_for):
    session, people, rows = make_group_session(world, members=2)
    base = f"/api/v1/programs/{world.program_a.external_id}/sessions/{session.external_id}"
    client = client_for(world.clinician_a, stepped_up=True)
    roster = client.get(f"{base}/roster").json()
    assert {r["record_number"] for r in roster} == {p.record_number for p in people}
    late = (session.starts_at + timedelta(minutes=10)).isoformat()
    arrived = send(client, "POST", f"{base}/attendance/{rows[0].external_id}/arrive", {"at": late})
    assert arrived.status_code == 200 and arrived.json()["minutes"] == 170
    send(client, "POST", f"{base}/attendance/{rows[1].external_id}/absent", {"reason": "Sick"})
    practice = send(
        client,
        "POST",
        f"{base}/practice",
        {"participant": str(people[0].external_id), "skill": "DEAR MAN", "rating": 4},
    )
    assert practice.status_code == 201
    drafts = send(client, "POST", f"{base}/notes/draft").json()
    assert len(drafts) == 1 and "Practised DEAR MAN" in drafts[0]["sections"]["data"]
    note = drafts[0]
    edited = send(
        client,
        "PATCH",
        f"{base}/notes/{note['id']}",
        {"version": note["version"], "sections": {"assessment": "Engaged."}},
    )
    assert edited.status_code == 200
    stale = send(
        client,
        "PATCH",
        f"{base}/notes/{note['id']}",
        {"version": note["version"], "sections": {"assessment": "x"}},
    )
    assert stale.status_code == 409
    signed = send(client, "POST", f"{base}/notes/sign-all").json()
    assert len(signed["signed"]) == 1 and signed["refused"] == {}
    assert Note.objects.get(external_id=note["id"]).status == NoteStatus.SIGNED
    ledger = client.get(f"/api/v1/programs/{world.program_a.external_id}/ledger").json()
    assert any(row["participant"] == str(people[0].external_id) for row in ledger)


def test_api_bad_input_names_the_field(world: World, client_for):
    base = f"/api/v1/programs/{world.program_a.external_id}/sessions"
    response = send(
        client_for(world.clinician_a),
        "POST",
        base,
        {
            "kind": "group",
            "title": "x",
            "starts_at": "2026-11-20T10:00:00Z",
            "ends_at": "2026-11-20T09:00:00Z",
            "facilitator": str(world.clinician_a.external_id),
            "plan_code": "nope",
        },
    )
    assert response.status_code == 422
    assert {"ends_at", "plan_code"} <= set(response.json()["error"]["fields"])
    extra = send(
        client_for(world.clinician_a), "POST", base, {"kind": "group", "status": "completed"}
    )
    assert extra.status_code == 422 and "status" in extra.json()["error"]["fields"]


def test_sign_all_api_needs_step_up(world: World, client_for):
    path = f"{_session_api(world)}/notes/sign-all"
    response = send(client_for(world.clinician_a), "POST", path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "reauth_required"


def test_roster_api_twins(world: World, client_for):
    path = f"{_session_api(world)}/roster"
    assert client_for(world.intake_a).get(path).status_code == 403
    assert client_for(world.clinician_b).get(path).status_code == 404


def _session_api(world: World) -> str:
    return f"/api/v1/programs/{world.program_a.external_id}/sessions/{world.session_a.external_id}"
