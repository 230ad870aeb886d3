"""The program settings page's video link template and in-person place of service
(issue 15 section 3): validated naming the field, audited, director only."""

from __future__ import annotations

import pytest

from openiop.audit.models import AuditEvent
from openiop.programs.models import Program
from openiop.testing import World

pytestmark = pytest.mark.django_db

VALID = {
    "not_on_track_improvement_percent": "12",
    "safety_high_escalate_minutes": "5",
    "video_link_template": "https://video.example.org/{room}",
    "in_person_place_of_service": "22",
}


def _url(world: World) -> str:
    return f"/p/{world.program_a.external_id}/settings/"


def test_director_sets_the_video_template_and_place_of_service(world: World, client_for):
    response = client_for(world.director_a).post(_url(world), VALID)
    assert response.status_code == 302
    program = Program.objects.get(pk=world.program_a.pk)
    assert program.video_link_template == VALID["video_link_template"]
    assert program.in_person_place_of_service == "22"
    changes = [
        e.detail
        for e in AuditEvent.objects.filter(object_id=str(program.external_id), action="update")
    ]
    assert {"in_person_place_of_service": ["11", "22"]} in changes
    assert {"video_link_template": ["", VALID["video_link_template"]]} in changes


def test_bad_template_and_code_are_refused_naming_the_field(world: World, client_for):
    form = {
        **VALID,
        "video_link_template": "http://video.example.org/",
        "in_person_place_of_service": "1X",
    }
    response = client_for(world.director_a).post(_url(world), form)
    assert response.status_code == 422
    body = response.content.decode()
    assert "{room}" in body and "two-digit place-of-service code" in body
    program = Program.objects.get(pk=world.program_a.pk)
    assert program.video_link_template == "" and program.in_person_place_of_service == "11"


def test_older_form_without_the_fields_leaves_them(world: World, client_for):
    Program.objects.filter(pk=world.program_a.pk).update(
        video_link_template="https://v.example/{room}"
    )
    form = {
        k: v
        for k, v in VALID.items()
        if k not in ("video_link_template", "in_person_place_of_service")
    }
    assert client_for(world.director_a).post(_url(world), form).status_code == 302
    program = Program.objects.get(pk=world.program_a.pk)
    assert program.video_link_template == "https://v.example/{room}"
    assert program.in_person_place_of_service == "11"


def test_telehealth_settings_twins(world: World, client_for):
    assert client_for(world.clinician_a).post(_url(world), VALID).status_code == 403
    assert client_for(world.clinician_b).post(_url(world), VALID).status_code == 404
    assert Program.objects.get(pk=world.program_a.pk).in_person_place_of_service == "11"
