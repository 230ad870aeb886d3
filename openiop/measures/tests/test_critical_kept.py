"""Skip logic decides what is asked, never what is kept (clinical.md section 3; issue 17).

Clinician entry and the staff API store answers to items that skip logic would have skipped,
raise the safety event for every yes, and mark the administration inconsistent; the
assessment and the chart show it plainly, and prompt staff to ask a critical item left blank.
Each test here failed on main before issue 17.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.core import clock
from openiop.measures.models import Assessment
from openiop.measures.tests.helpers import record
from openiop.safety.models import SafetyEvent, Severity
from openiop.testing import World

pytestmark = pytest.mark.django_db

CSSRS_ITEMS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6r"]


def _base(world: World) -> str:
    return (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/measures/"
    )


def _chart(world: World) -> str:
    return f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"


def _now_local(world: World) -> str:
    now = timezone.now() - timedelta(minutes=2)
    return now.astimezone(clock.zone(world.program_a)).strftime("%Y-%m-%dT%H:%M")


def _cssrs_form(world: World, answers: list[int | None]) -> dict[str, str]:
    data = {f"item_{n}": str(a) for n, a in zip(CSSRS_ITEMS, answers, strict=True) if a is not None}
    return data | {"administered_at": _now_local(world)}


def test_clinician_entry_keeps_a_yes_after_q2_no_and_alerts(world: World, client_for):
    client = client_for(world.clinician_a)
    data = _cssrs_form(world, [0, 0, 1, None, None, 0, None])
    response = client.post(_base(world) + "new/cssrs/", data, follow=True)
    assert response.status_code == 200
    row = Assessment.objects.get()
    assert (row.critical, row.risk, row.inconsistent) == (["q3"], "moderate", ["q3"])
    event = SafetyEvent.objects.get()
    assert (event.assessment_id, event.severity) == (row.external_id, Severity.URGENT)
    page = response.content.decode()
    assert "Inconsistent administration: review it" in page
    assert "item q3 was answered yes (1) although q2 is no (0)" in page.lower()
    assert "do not ask anyone to change or remove a" in page


def test_clinician_entry_keeps_recent_behaviour_after_q6_no_as_high(world: World, client_for):
    data = _cssrs_form(world, [0, 0, None, None, None, 0, 1])
    response = client_for(world.clinician_a).post(_base(world) + "new/cssrs/", data)
    assert response.status_code == 302
    row = Assessment.objects.get()
    assert (row.critical, row.risk, row.inconsistent) == (["q6r"], "high", ["q6r"])
    assert SafetyEvent.objects.get().severity == Severity.HIGH


def test_staff_api_keeps_answers_to_skipped_items_and_reports_them(world: World, client_for):
    path = (
        f"/api/v1/programs/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/assessments"
    )
    body = {"instrument": "cssrs", "answers": [0, 0, 1, 0, 0, 0, None]}
    response = client_for(world.clinician_a).post(
        path, json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["critical"], out["risk"], out["inconsistent"]) == (
        ["q3"],
        "moderate",
        ["q3", "q4", "q5"],
    )
    assert SafetyEvent.objects.get().assessment_id is not None


def test_staff_api_stores_partial_phq9_and_names_the_unasked_critical_item(
    world: World, client_for
):
    path = (
        f"/api/v1/programs/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/assessments"
    )
    body = {"instrument": "phq9", "answers": [1] * 8 + [None]}
    response = client_for(world.clinician_a).post(
        path, json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["total"], response.json()["critical_not_assessed"]) == (None, [9])
    empty = client_for(world.clinician_a).post(
        path,
        json.dumps({"instrument": "phq9", "answers": [None] * 9}),
        content_type="application/json",
    )
    assert empty.status_code == 422
    assert "at least one answer" in json.dumps(empty.json())


def test_blank_item9_prompts_staff_to_ask_it_on_assessment_and_chart(world: World, client_for):
    row = record(world, world.participant_a, answers=[1] * 8 + [None])
    client = client_for(world.clinician_a)
    detail = client.get(f"{_base(world)}a/{row.external_id}/").content.decode()
    assert "Item 9 (" in detail and "was left blank: it is <strong>not assessed</strong>" in detail
    chart = client.get(_chart(world)).content.decode()
    assert "PHQ9 of" in chart and "needs follow-up" in chart
    assert "Ask it with the participant today" in chart
    # A later complete PHQ-9 answers the prompt.
    record(world, world.participant_a, answers=[1] * 9)
    assert "needs follow-up" not in client.get(_chart(world)).content.decode()


def test_undetermined_cssrs_risk_is_shown_as_high_until_asked(world: World, client_for):
    row = record(
        world, world.participant_a, instrument="cssrs", answers=[0, 0, None, None, None, 1, None]
    )
    assert SafetyEvent.objects.get().severity == Severity.HIGH
    page = client_for(world.clinician_a).get(f"{_base(world)}a/{row.external_id}/")
    assert "C-SSRS risk not determined: q6r was not answered" in page.content.decode()
    assert "Treat it as high risk and ask it now." in page.content.decode()
    # Issue 16 item 5: it says plainly that it is incomplete, and the risk stays null.
    assert "C-SSRS incomplete: ask the remaining questions." in page.content.decode()
    assert "incomplete: ask the remaining questions (q6r)" in page.content.decode()
    row.refresh_from_db()
    assert not row.risk  # stored empty: no level


def test_chart_prompts_are_not_shown_to_roles_without_assessment_access(world: World, client_for):
    record(world, world.participant_a, answers=[1] * 8 + [None])
    chart = client_for(world.intake_a).get(_chart(world))
    assert chart.status_code == 200  # intake sees the chart, not clinical measures
    assert "needs follow-up" not in chart.content.decode()
    assert "not assessed" not in chart.content.decode()
