"""Measures pages: authorisation twins, the entry form, detail, due list, schedules, reads
audited, and constant query counts."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.measures.actions import schedule_set
from openiop.measures.models import AdministrationSchedule, Assessment
from openiop.measures.tests.helpers import long_stay, phq9, record, trajectory
from openiop.testing import World

pytestmark = pytest.mark.django_db


def _base(world: World) -> str:
    return (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/measures/"
    )


def _reads(participant) -> int:
    return AuditEvent.objects.filter(
        action="read", participant_external_id=participant.external_id
    ).count()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("clinician_a", 200),
        ("supervisor_a", 200),
        ("director_a", 200),
        ("intake_a", 403),
        ("billing_a", 403),
        ("clinician_b", 404),
    ],
)
def test_measures_page_authorisation(world: World, client_for, who, status):
    record(world, world.participant_a, answers=phq9(12))
    response = client_for(getattr(world, who)).get(_base(world))
    assert response.status_code == status
    enter = client_for(getattr(world, who)).get(_base(world) + "new/phq9/")
    assert enter.status_code == status


def test_measures_page_shows_chart_table_and_category(world: World, client_for):
    person = long_stay(world)
    trajectory(world, person, [18, 14, 9])
    path = f"/p/{world.program_a.external_id}/participants/{person.external_id}/measures/"
    before = _reads(person)
    body = client_for(world.clinician_a).get(path).content.decode()
    assert _reads(person) == before + 1
    found = re.search(r'id="measure-phq9-data" type="application/json">(.*?)</script>', body)
    assert found is not None
    spec = json.loads(found.group(1))
    assert spec["type"] == "line" and spec["datasets"][0]["data"] == [18.0, 14.0, 9.0]
    assert {"value": 10.0, "label": "clinical cutoff 10", "color": "#b42318"} in spec["references"]
    assert 5.0 in [r["value"] for r in spec["references"]]
    assert "recovered" in body and "<table>" in body and "<script>" not in body


def test_entry_form_critical_item_first_with_labels(world: World, client_for):
    body = client_for(world.clinician_a).get(_base(world) + "new/phq9/").content.decode()
    assert body.index("Item 9:") < body.index("Item 1:")
    assert "on almost every day" in body and "safety workflow" in body


def test_entry_post_records_and_warns_on_item9(world: World, client_for):
    client = client_for(world.clinician_a)
    data = {f"item_{n}": "1" for n in range(1, 10)}
    data["administered_at"] = _now_local(world)
    response = client.post(_base(world) + "new/phq9/", data, follow=True)
    assert response.status_code == 200
    a = Assessment.objects.get()
    assert (a.total, a.critical) == (9, [9])
    assert "Item 9 endorsed: follow the safety workflow" in response.content.decode()


def _now_local(world: World) -> str:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now() - timedelta(minutes=2)
    return now.astimezone(clock.zone(world.program_a)).strftime("%Y-%m-%dT%H:%M")


def test_entry_post_bad_code_names_the_item_and_saves_nothing(world: World, client_for):
    data = {f"item_{n}": "0" for n in range(1, 10)}
    data.update({"item_5": "7", "administered_at": _now_local(world)})
    response = client_for(world.clinician_a).post(_base(world) + "new/phq9/", data)
    assert response.status_code == 422
    assert "Item 5" in response.content.decode()
    assert not Assessment.objects.exists()


def test_entry_post_refused_for_intake_and_outsiders(world: World, client_for):
    data = {f"item_{n}": "0" for n in range(1, 10)} | {"administered_at": _now_local(world)}
    assert client_for(world.intake_a).post(_base(world) + "new/phq9/", data).status_code == 403
    assert client_for(world.clinician_b).post(_base(world) + "new/phq9/", data).status_code == 404
    assert not Assessment.objects.exists()


def test_licence_flag_blocks_the_entry_page(world: World, client_for, monkeypatch):
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    client = client_for(world.clinician_a)
    page = client.get(_base(world) + "new/dast10/")
    assert "switched off" in page.content.decode()
    data = {f"item_{n}": "0" for n in range(1, 11)} | {"administered_at": _now_local(world)}
    assert client.post(_base(world) + "new/dast10/", data).status_code == 403
    assert not Assessment.objects.exists()


def test_detail_and_entered_in_error(world: World, client_for):
    a = record(world, world.participant_a, answers=phq9(3, item9=1))
    url = f"{_base(world)}a/{a.external_id}/"
    assert client_for(world.clinician_b).get(url).status_code == 404
    assert client_for(world.billing_a).get(url).status_code == 403
    before = _reads(world.participant_a)
    page = client_for(world.supervisor_a).get(url)
    assert page.status_code == 200 and "Item 9 endorsed" in page.content.decode()
    assert _reads(world.participant_a) == before + 1
    assert (
        client_for(world.intake_a)
        .post(url + "entered-in-error/", {"reason": "typo in form"})
        .status_code
        == 403
    )
    bad = client_for(world.clinician_a).post(url + "entered-in-error/", {"reason": ""})
    assert bad.status_code == 422
    ok = client_for(world.clinician_a).post(url + "entered-in-error/", {"reason": "wrong person"})
    assert ok.status_code == 302
    assert Assessment.objects.get().entered_in_error


def test_due_page_lists_and_audits_each_participant(world: World, client_for):
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["intake"]
    )
    path = f"/p/{world.program_a.external_id}/measures/due/"
    assert client_for(world.clinician_b).get(path).status_code == 404
    assert client_for(world.billing_a).get(path).status_code == 403
    before = _reads(world.participant_a)
    body = client_for(world.clinician_a).get(path).content.decode()
    assert world.participant_a.record_number in body
    assert _reads(world.participant_a) == before + 1


def test_schedule_page_validates_recall_window(world: World, client_for):
    path = f"/p/{world.program_a.external_id}/measures/schedules/"
    assert client_for(world.clinician_a).get(path).status_code == 403  # not schedule.manage
    client = client_for(world.director_a)
    bad = client.post(path, {"instrument": "audit", "cadences": ["weekly"]})
    assert bad.status_code == 422 and "12 months" in bad.content.decode()
    ok = client.post(path, {"instrument": "phq9", "cadences": ["intake", "weekly"]})
    assert ok.status_code == 302
    assert AdministrationSchedule.objects.filter(program=world.program_a).count() == 2


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_query_counts_are_constant(world: World, client_for):
    for code in ("phq9", "gad7"):
        schedule_set(
            actor=world.director_a, program=world.program_a, instrument=code, cadences=["weekly"]
        )
    person = long_stay(world, weeks=10)
    client = client_for(world.clinician_a)
    p = f"/p/{world.program_a.external_id}/participants/{person.external_id}"
    paths = [f"{p}/measures/", f"{p}/", f"/p/{world.program_a.external_id}/measures/due/"]
    trajectory(world, person, [15] * 5)
    for _ in range(5):
        record(
            world,
            person,
            instrument="gad7",
            answers=[1] * 7,
            day=person.enrollments.get().admitted_on,
        )
    small = [_count(client, path) for path in paths]
    trajectory(world, person, [14] * 10)
    for i in range(4):
        extra = long_stay(world, weeks=10, last=f"Extra{i}")
        trajectory(world, extra, [12] * 10)
    large = [_count(client, path) for path in paths]
    assert small == large
