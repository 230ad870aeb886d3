from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEvent
from openiop.participants.models import Enrollment, Participant, Phase
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def url(name: str, world: World, **kwargs) -> str:
    return reverse(
        f"participants:{name}", kwargs={"program_id": world.program_a.external_id, **kwargs}
    )


def chart_kwargs(world: World) -> dict:
    return {"participant_id": world.participant_a.external_id}


def episode_kwargs(world: World) -> dict:
    return {**chart_kwargs(world), "enrollment_id": world.enrollment_a.external_id}


def admit_form(world: World, **overrides) -> dict:
    data = {
        "legal_first_name": "Jordan",
        "legal_last_name": "Thistlewick",
        "date_of_birth": "1992-04-05",
        "sex_for_scoring": "unknown",
        "track": str(world.track_a.external_id),
        "admitted_on": today().isoformat(),
        "primary_clinician": str(world.clinician_a.external_id),
        "phase": "engagement",
    }
    data.update(overrides)
    return data


def test_program_home_shows_census(world: World, client_for):
    response = client_for(world.clinician_a).get(url("program_home", world))
    assert response.status_code == 200
    assert b"Active census: 1 participant" in response.content


def test_list_shows_participants_and_records_reads(world: World, client_for):
    before = AuditEvent.objects.filter(action="read").count()
    response = client_for(world.clinician_a).get(url("list", world))
    assert response.status_code == 200
    assert b"Avery Quillby" in response.content
    reads = AuditEvent.objects.filter(action="read").count() - before
    assert reads == 1  # one event per participant shown


def test_list_search_and_filters(world: World, client_for):
    client = client_for(world.clinician_a)
    assert b"Avery Quillby" in client.get(url("list", world), {"q": "quill"}).content
    assert b"Avery Quillby" not in client.get(url("list", world), {"q": "zzz"}).content
    assert b"Avery Quillby" in client.get(url("list", world), {"phase": "engagement"}).content
    assert b"Avery Quillby" not in client.get(url("list", world), {"phase": "maintenance"}).content
    clinician = {"clinician": str(world.clinician_a.external_id)}
    assert b"Avery Quillby" in client.get(url("list", world), clinician).content
    assert (
        b"Avery Quillby"
        in client.get(url("list", world), {"track": str(world.track_a.external_id)}).content
    )


def test_list_htmx_returns_partial(world: World, client_for):
    response = client_for(world.clinician_a).get(
        url("list", world), {"q": "avery"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"Avery Quillby" in response.content


def test_list_bad_filter_names_field(world: World, client_for):
    response = client_for(world.clinician_a).get(url("list", world), {"phase": "nonsense"})
    assert response.status_code == 200
    assert b"Phase:" in response.content


def test_list_forbidden_for_member_without_permission(world: World, client_for):
    from openiop.accounts.models import Membership

    Membership.objects.filter(user=world.billing_a).update(role="admin")
    assert client_for(world.billing_a).get(url("list", world)).status_code == 403


def test_chart_shows_header(world: World, client_for):
    response = client_for(world.clinician_a).get(url("chart", world, **chart_kwargs(world)))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Avery Quillby",
        "AM track",
        "Engagement",
        "No open alerts",
        str(world.clinician_a),
    ):
        assert text in body


def test_chart_unknown_participant_is_404(world: World, client_for):
    response = client_for(world.clinician_a).get(
        url("chart", world, participant_id=world.participant_b.external_id)
    )
    assert response.status_code == 404


def test_admit_flow(world: World, client_for):
    client = client_for(world.intake_a)
    assert client.get(url("admit", world)).status_code == 200
    response = client.post(url("admit", world), admit_form(world))
    assert response.status_code == 302
    participant = Participant.objects.get(legal_last_name="Thistlewick")
    assert response["Location"] == url("chart", world, participant_id=participant.external_id)


def test_admit_forbidden_for_billing(world: World, client_for):
    client = client_for(world.billing_a)
    assert client.get(url("admit", world)).status_code == 403
    assert client.post(url("admit", world), admit_form(world)).status_code == 403
    assert not Participant.objects.filter(legal_last_name="Thistlewick").exists()


@pytest.mark.parametrize(
    ("overrides", "label"),
    [
        ({"legal_first_name": ""}, b"Legal first name: "),
        ({"date_of_birth": "not-a-date"}, b"Date of birth: "),
        ({"date_of_birth": (today() - timedelta(days=3000)).isoformat()}, b"adult program"),
        ({"track": str(__import__("uuid").uuid4())}, b"Track: "),
        ({"email": "nope"}, b"Email: "),
        ({"emergency_contact_name": "Kim"}, b"emergency contact"),
    ],
)
def test_admit_bad_input_names_field_and_saves_nothing(world: World, client_for, overrides, label):
    count = Participant.objects.count()
    response = client_for(world.clinician_a).post(
        url("admit", world), admit_form(world, **overrides)
    )
    assert response.status_code == 422
    assert b"error-summary" in response.content
    assert label in response.content
    assert Participant.objects.count() == count


def test_edit_flow_and_stale_version(world: World, client_for):
    client = client_for(world.clinician_a)
    edit_url = url("edit", world, **chart_kwargs(world))
    assert client.get(edit_url).status_code == 200
    data = admit_form(
        world, legal_first_name="Avery", legal_last_name="Quillby", pronouns="they/them", version=1
    )
    assert client.post(edit_url, data).status_code == 302
    stale = client.post(edit_url, {**data, "pronouns": "he/him"})
    assert stale.status_code == 422
    assert b"Someone else changed this record" in stale.content


def test_edit_forbidden_for_billing(world: World, client_for):
    assert (
        client_for(world.billing_a).get(url("edit", world, **chart_kwargs(world))).status_code
        == 403
    )


def test_change_phase_flow(world: World, client_for):
    client = client_for(world.clinician_a)
    phase_url = url("change_phase", world, **episode_kwargs(world))
    assert client.get(phase_url).status_code == 200
    response = client.post(
        phase_url,
        {
            "to_phase": "early_recovery",
            "effective_on": today().isoformat(),
            "reason": "Engaged",
        },
    )
    assert response.status_code == 302
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.phase == Phase.EARLY_RECOVERY


def test_change_phase_bad_input(world: World, client_for):
    response = client_for(world.clinician_a).post(
        url("change_phase", world, **episode_kwargs(world)),
        {"to_phase": "engagement", "effective_on": today().isoformat(), "reason": "x"},
    )
    assert response.status_code == 422
    assert b"already in this phase" in response.content


def test_change_phase_forbidden_for_intake(world: World, client_for):
    assert (
        client_for(world.intake_a)
        .get(url("change_phase", world, **episode_kwargs(world)))
        .status_code
        == 403
    )


def test_discharge_and_readmit_flow(world: World, client_for):
    client = client_for(world.clinician_a)
    response = client.post(
        url("discharge", world, **episode_kwargs(world)),
        {
            "discharged_on": today().isoformat(),
            "reason": "completed",
            "step_down_destination": "outpatient",
        },
    )
    assert response.status_code == 302
    world.enrollment_a.refresh_from_db()
    assert not world.enrollment_a.is_open
    chart = client.get(url("chart", world, **chart_kwargs(world)))
    assert b"Open a new episode" in chart.content
    readmit = client.post(
        url("readmit", world, **chart_kwargs(world)),
        {
            "track": str(world.track_a.external_id),
            "admitted_on": today().isoformat(),
            "primary_clinician": str(world.clinician_a.external_id),
            "phase": "engagement",
        },
    )
    assert readmit.status_code == 302
    assert (
        Enrollment.objects.filter(
            participant=world.participant_a, discharged_on__isnull=True
        ).count()
        == 1
    )


def test_discharge_bad_input_names_field(world: World, client_for):
    response = client_for(world.clinician_a).post(
        url("discharge", world, **episode_kwargs(world)),
        {
            "discharged_on": "2001-01-01",
            "reason": "completed",
            "step_down_destination": "outpatient",
        },
    )
    assert response.status_code == 422
    assert b"Discharge date" in response.content
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.is_open


def test_discharge_forbidden_for_billing(world: World, client_for):
    assert (
        client_for(world.billing_a)
        .post(url("discharge", world, **episode_kwargs(world)))
        .status_code
        == 403
    )


def test_readmit_forbidden_for_billing(world: World, client_for):
    assert (
        client_for(world.billing_a).get(url("readmit", world, **chart_kwargs(world))).status_code
        == 403
    )


def test_readmit_while_open_names_problem(world: World, client_for):
    response = client_for(world.clinician_a).post(
        url("readmit", world, **chart_kwargs(world)),
        {
            "track": str(world.track_a.external_id),
            "admitted_on": today().isoformat(),
            "primary_clinician": str(world.clinician_a.external_id),
            "phase": "engagement",
        },
    )
    assert response.status_code == 422
    assert b"already has an open episode" in response.content


def test_program_home_links_follow_the_role(world: World, client_for):
    clinician = client_for(world.clinician_a).get(url("program_home", world)).content
    assert b"Today's sessions" in clinician and b"Staff and roles" not in clinician
    director = client_for(world.director_a).get(url("program_home", world)).content
    assert b"Staff and roles" in director and b"Audit log" in director
    billing = client_for(world.billing_a).get(url("program_home", world)).content
    assert b"Today's sessions" not in billing and b"Weekly hours" in billing
