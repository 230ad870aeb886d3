from __future__ import annotations

import json

import pytest

from openiop.participants.models import Participant
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def base(world: World) -> str:
    return f"/api/v1/programs/{world.program_a.external_id}"


def send(client, method: str, path: str, body: dict):
    return client.generic(method, path, data=json.dumps(body), content_type="application/json")


def admit_body(world: World, **overrides) -> dict:
    body = {
        "legal_first_name": "Kai",
        "legal_last_name": "Brambleford",
        "date_of_birth": "1985-07-09",
        "track": str(world.track_a.external_id),
        "admitted_on": today().isoformat(),
        "primary_clinician": str(world.clinician_a.external_id),
    }
    body.update(overrides)
    return body


def test_list_and_get(world: World, client_for):
    client = client_for(world.clinician_a)
    listing = client.get(f"{base(world)}/participants").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert item["display_name"] == "Avery Quillby" and item["episode"]["phase"] == "engagement"
    detail = client.get(f"{base(world)}/participants/{item['id']}").json()
    assert detail["record_number"] == world.participant_a.record_number
    assert detail["episodes"][0]["is_open"] is True


def test_list_forbidden_twin_for_member_without_permission(world: World, client_for):
    from openiop.accounts.models import Membership

    Membership.objects.filter(user=world.billing_a).update(role="admin")
    response = client_for(world.billing_a).get(f"{base(world)}/participants")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_admit_via_api(world: World, client_for):
    response = send(
        client_for(world.clinician_a), "POST", f"{base(world)}/participants", admit_body(world)
    )
    assert response.status_code == 201, response.content
    assert response.json()["episodes"][0]["track"]["code"] == "AM"


def test_admit_forbidden_for_billing(world: World, client_for):
    response = send(
        client_for(world.billing_a), "POST", f"{base(world)}/participants", admit_body(world)
    )
    assert response.status_code == 403
    assert not Participant.objects.filter(legal_last_name="Brambleford").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_first_name": ""}, "legal_first_name"),
        ({"date_of_birth": "1985-13-40"}, "date_of_birth"),
        ({"date_of_birth": "2020-01-01"}, "date_of_birth"),
        ({"phase": "bliss"}, "phase"),
        ({"track": "00000000-0000-0000-0000-000000000000"}, "track"),
        ({"primary_clinician": "not-a-uuid"}, "primary_clinician"),
        ({"sex_for_scoring": "other"}, "sex_for_scoring"),
    ],
)
def test_admit_bad_input_names_field(world: World, client_for, overrides, field):
    response = send(
        client_for(world.clinician_a),
        "POST",
        f"{base(world)}/participants",
        admit_body(world, **overrides),
    )
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not Participant.objects.filter(legal_last_name="Brambleford").exists()


@pytest.mark.parametrize(
    "forbidden", ["id", "record_number", "program", "created_by", "version", "status"]
)
def test_AC_05_admit_rejects_read_only_fields(world: World, client_for, forbidden):
    body = admit_body(world, **{forbidden: "x"})
    response = send(client_for(world.clinician_a), "POST", f"{base(world)}/participants", body)
    assert response.status_code == 422
    assert forbidden in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "forbidden", ["id", "record_number", "program", "created_by", "participant", "episodes"]
)
def test_AC_05_patch_rejects_read_only_fields(world: World, client_for, forbidden):
    path = f"{base(world)}/participants/{world.participant_a.external_id}"
    response = send(client_for(world.clinician_a), "PATCH", path, {"version": 1, forbidden: "x"})
    assert response.status_code == 422
    assert forbidden in response.json()["error"]["fields"]
    world.participant_a.refresh_from_db()
    assert world.participant_a.version == 1


def test_patch_and_stale_version(world: World, client_for):
    client = client_for(world.clinician_a)
    path = f"{base(world)}/participants/{world.participant_a.external_id}"
    ok = send(client, "PATCH", path, {"version": 1, "preferred_name": "Ave"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = send(client, "PATCH", path, {"version": 1, "preferred_name": "A"})
    assert stale.status_code == 409
    assert "version" in stale.json()["error"]["fields"]


def test_patch_forbidden_for_billing(world: World, client_for):
    path = f"{base(world)}/participants/{world.participant_a.external_id}"
    assert (
        send(
            client_for(world.billing_a), "PATCH", path, {"version": 1, "pronouns": "x"}
        ).status_code
        == 403
    )


def _episode_path(world: World) -> str:
    return f"{base(world)}/participants/{world.participant_a.external_id}/enrollments"


def test_phase_discharge_readmit_via_api(world: World, client_for):
    client = client_for(world.clinician_a)
    ep = f"{_episode_path(world)}/{world.enrollment_a.external_id}"
    on = today().isoformat()
    phase = send(
        client,
        "POST",
        f"{ep}/phase",
        {"to_phase": "early_recovery", "effective_on": on, "reason": "ok"},
    )
    assert phase.status_code == 200 and phase.json()["phase"] == "early_recovery"
    body = {"discharged_on": on, "reason": "completed", "step_down_destination": "outpatient"}
    closed = send(client, "POST", f"{ep}/discharge", body)
    assert closed.status_code == 200 and closed.json()["is_open"] is False
    again = send(client, "POST", f"{ep}/discharge", body)
    assert again.status_code == 409
    readmit = send(
        client,
        "POST",
        _episode_path(world),
        {
            "track": str(world.track_a.external_id),
            "admitted_on": on,
            "primary_clinician": str(world.clinician_a.external_id),
        },
    )
    assert readmit.status_code == 201
    assert len(client.get(_episode_path(world)).json()) == 2


def test_episode_writes_forbidden_for_intake_and_billing(world: World, client_for):
    ep = f"{_episode_path(world)}/{world.enrollment_a.external_id}"
    on = today().isoformat()
    intake = client_for(world.intake_a)
    assert (
        send(
            intake,
            "POST",
            f"{ep}/phase",
            {"to_phase": "maintenance", "effective_on": on, "reason": "x"},
        ).status_code
        == 403
    )
    billing = client_for(world.billing_a)
    body = {"discharged_on": on, "reason": "completed", "step_down_destination": "outpatient"}
    assert send(billing, "POST", f"{ep}/discharge", body).status_code == 403
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.is_open


def test_discharge_bad_input_names_field(world: World, client_for):
    ep = f"{_episode_path(world)}/{world.enrollment_a.external_id}"
    response = send(
        client_for(world.clinician_a),
        "POST",
        f"{ep}/discharge",
        {"discharged_on": "2026-01-01", "reason": "x", "step_down_destination": "outpatient"},
    )
    assert response.status_code == 422
    assert "reason" in response.json()["error"]["fields"]


def test_openapi_schema_is_served(client_for):
    response = client_for(None).get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/programs/{program_id}/participants" in paths


def test_tracks_endpoint_and_twin(world: World, client_for):
    ok = client_for(world.clinician_a).get(f"{base(world)}/tracks")
    assert ok.status_code == 200 and ok.json()[0]["code"] == "AM"
    assert client_for(world.clinician_b).get(f"{base(world)}/tracks").status_code == 404


def _admit_page_form(world: World, **overrides) -> dict:
    body = {**admit_body(world), "sex_for_scoring": "unknown", "phase": "engagement"}
    body.update(overrides)
    return body


def test_api_admission_records_the_part2_notice_receipt_as_the_page_does(world: World, client_for):
    from django.urls import reverse

    from openiop.audit.models import AuditEvent
    from openiop.consent.models import Part2NoticeReceipt

    page = client_for(world.intake_a).post(
        reverse("participants:admit", kwargs={"program_id": world.program_a.external_id}),
        _admit_page_form(world, legal_last_name="Pageworth", part2_notice_given="on"),
    )
    assert page.status_code == 302
    api = send(
        client_for(world.intake_a),
        "POST",
        f"{base(world)}/participants",
        admit_body(world, legal_last_name="Apiworth", part2_notice_given=True),
    )
    assert api.status_code == 201, api.content
    by_page = Part2NoticeReceipt.objects.get(participant__legal_last_name="Pageworth")
    by_api = Part2NoticeReceipt.objects.get(participant__legal_last_name="Apiworth")
    assert str(by_api.participant.external_id) == api.json()["id"]
    for field in ("program_id", "notice_id", "given_on", "method", "created_by_id"):
        assert getattr(by_api, field) == getattr(by_page, field), field
    assert by_api.given_on == today() and by_api.created_by == world.intake_a
    assert AuditEvent.objects.filter(
        action="create", object_id=str(by_api.external_id), actor=world.intake_a
    ).exists()


def test_api_admission_without_the_notice_records_no_receipt(world: World, client_for):
    from openiop.consent.models import Part2NoticeReceipt

    response = send(
        client_for(world.intake_a), "POST", f"{base(world)}/participants", admit_body(world)
    )
    assert response.status_code == 201
    assert not Part2NoticeReceipt.objects.exists()


def test_api_admission_and_receipt_commit_together(world: World, client_for, monkeypatch):
    from openiop.core.errors import ActionError
    from openiop.participants import actions

    def refuse(**kwargs):
        raise ActionError({"given_on": "refused for the test"})

    monkeypatch.setattr(actions, "part2_notice_receipt_record", refuse)
    response = send(
        client_for(world.intake_a),
        "POST",
        f"{base(world)}/participants",
        admit_body(world, part2_notice_given=True),
    )
    assert response.status_code == 422
    assert not Participant.objects.filter(legal_last_name="Brambleford").exists()
