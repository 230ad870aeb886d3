from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.audit.models import AuditEvent
from openiop.safety import actions
from openiop.safety.models import EventStatus, SafetyEvent, StepKind
from openiop.safety.tests.helpers import raise_event
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


def url(name: str, world: World, **kwargs) -> str:
    return reverse(f"safety:{name}", kwargs={"program_id": world.program_a.external_id, **kwargs})


def event_url(name: str, world: World, event: SafetyEvent) -> str:
    return url(name, world, event_id=event.external_id)


def chart(world: World) -> str:
    return reverse(
        "participants:chart",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
        },
    )


def test_safety_page_lists_unacknowledged_first_then_oldest(world: World, client_for):
    first = raise_event(world)
    second = raise_event(world, severity="high")
    actions.safety_event_acknowledge(actor=world.clinician_a, event=first)
    before = AuditEvent.objects.filter(action="read").count()
    response = client_for(world.clinician_a).get(url("list", world))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(str(second.external_id)) < body.index(str(first.external_id))
    assert "High risk: immediate precautions" in body
    assert "My safety notifications" in body and "Clinician of record" in body
    assert AuditEvent.objects.filter(action="read").count() == before + 1


def test_acknowledge_by_htmx_returns_the_row(world: World, client_for):
    event = raise_event(world)
    response = client_for(world.clinician_a).post(
        event_url("acknowledge", world, event), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="event-{event.external_id}"' in response.content.decode()
    event.refresh_from_db()
    assert event.status == EventStatus.ACKNOWLEDGED and event.acknowledged_by == world.clinician_a


def test_detail_timeline_forms_and_close(world: World, client_for):
    event = raise_event(world, severity="high")
    client = client_for(world.supervisor_a)
    page = client.get(event_url("detail", world, event)).content.decode()
    assert "High risk: immediate precautions" in page and "Same-day C-SSRS prompted" in page
    assert "Safety-plan review prompted" in page
    assert "if nobody acknowledges it (high severity: 5 minutes)" in page
    refused = client.post(event_url("close", world, event), {"outcome": "Safe."})
    assert refused.status_code == 422 and "Acknowledge the event before closing" in (
        refused.content.decode()
    )
    client.post(event_url("acknowledge", world, event))
    ok = client.post(event_url("step", world, event), {"kind": "cssrs_done", "text": "Done."})
    assert ok.status_code == 302
    empty = client.post(event_url("step", world, event), {"kind": "note", "text": ""})
    assert empty.status_code == 422 and 'href="#id_step_text"' in empty.content.decode()
    assert client.post(event_url("close", world, event), {"outcome": ""}).status_code == 422
    # C-SSRS recorded, but no safety-plan review and no reason: refused, naming the field.
    missing = client.post(event_url("close", world, event), {"outcome": "Safe."})
    assert missing.status_code == 422
    assert 'href="#id_close_safety_plan_not_reviewed_reason"' in missing.content.decode()
    assert "Record the safety-plan review" in missing.content.decode()
    reason = {"outcome": "Safe.", "safety_plan_not_reviewed_reason": "Reviewed by phone tomorrow."}
    assert client.post(event_url("close", world, event), reason).status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    assert event.safety_plan_not_reviewed_reason == "Reviewed by phone tomorrow."
    assert event.steps.filter(kind=StepKind.CSSRS_DONE, by=world.supervisor_a).exists()
    page = client.get(event_url("detail", world, event)).content.decode()
    assert "Safety plan not reviewed: Reviewed by phone tomorrow." in page


def test_phq9_event_says_item_9_triggers_assessment(world: World, client_for):
    event = raise_event(world, source="phq9_item9")
    page = client_for(world.clinician_a).get(event_url("detail", world, event)).content.decode()
    assert "triggers an assessment, not a risk label" in page


def test_staff_raise_form(world: World, client_for):
    path = url("raise", world, participant_id=world.participant_a.external_id)
    client = client_for(world.clinician_a)
    assert client.get(path).status_code == 200
    bad = client.post(path, {"severity": "nope"})
    assert bad.status_code == 422 and "error-summary" in bad.content.decode()
    response = client.post(path, {"severity": "urgent", "detail": "Worried after group."})
    assert response.status_code == 302
    event = SafetyEvent.objects.get()
    assert event.source == "staff" and event.created_by == world.clinician_a


def test_chart_alerts_show_open_events_in_one_query(world: World, client_for):
    client = client_for(world.clinician_a)
    assert "No open alerts" in client.get(chart(world)).content.decode()
    with CaptureQueriesContext(connection) as empty:
        client.get(chart(world))
    raise_event(world, severity="high")
    raise_event(world)
    with CaptureQueriesContext(connection) as full:
        body = client.get(chart(world)).content.decode()
    assert "High risk: immediate precautions" in body and "unacknowledged" in body
    assert len(full.captured_queries) == len(empty.captured_queries)


def test_runner_flags_open_events_first(world: World, client_for):
    session, people, _ = make_group_session(world, members=3)
    actions.safety_event_raise(
        actor=world.clinician_a, participant=people[2], source="staff", severity="urgent"
    )
    from openiop.groupwork.selectors import roster

    entries = roster(session=session)
    assert entries[0].participant == people[2]
    assert entries[0].safety_event is not None
    assert entries[0].safety_event.text == "open safety event (unacknowledged)"
    path = f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    assert "open safety event (unacknowledged)" in (
        client_for(world.clinician_a).get(path).content.decode()
    )


def test_runner_safety_chip_is_red_and_links_to_the_event(world: World, client_for):
    """Issue 18 item 11: the chip is the danger style and opens the event itself (the
    unacknowledged one when there are several)."""
    session, people, _ = make_group_session(world, members=2)
    older = actions.safety_event_raise(
        actor=world.clinician_a, participant=people[0], source="staff", severity="review"
    )
    actions.safety_event_acknowledge(actor=world.clinician_a, event=older)
    newer = actions.safety_event_raise(
        actor=world.clinician_a, participant=people[0], source="staff", severity="urgent"
    )
    path = f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    body = client_for(world.clinician_a).get(path).content.decode()
    href = event_url("detail", world, newer)
    chip = re.search(r'<a class="badge danger" href="([^"]+)">open safety event', body)
    assert chip is not None, "the chip is a red link"
    assert chip.group(1) == href
    assert client_for(world.clinician_a).get(href).status_code == 200
    css = (Path(settings.BASE_DIR) / "openiop/core/static/openiop/app.css").read_text()
    assert re.search(r"\.badge\.danger\s*\{[^}]*background:\s*#b42318", css)


@pytest.mark.parametrize("persona", ["intake_a", "billing_a"])
def test_intake_and_billing_get_403(world: World, client_for, persona):
    event = raise_event(world)
    client = client_for(getattr(world, persona))
    assert client.get(url("list", world)).status_code == 403
    assert client.get(event_url("detail", world, event)).status_code == 403
    assert client.post(event_url("acknowledge", world, event)).status_code == 403
    assert client.post(event_url("close", world, event), {"outcome": "x"}).status_code == 403
    path = url("raise", world, participant_id=world.participant_a.external_id)
    assert client.get(path).status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN


def test_program_b_gets_404(world: World, client_for):
    event = raise_event(world)
    client = client_for(world.clinician_b)
    assert client.get(url("list", world)).status_code == 404
    assert client.get(event_url("detail", world, event)).status_code == 404
    assert client.post(event_url("acknowledge", world, event)).status_code == 404
    # Program B's own page does not find A's event either.
    other = reverse(
        "safety:detail",
        kwargs={"program_id": world.program_b.external_id, "event_id": event.external_id},
    )
    assert client.get(other).status_code == 404
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN


def test_safety_page_sorts_by_severity_first(world: World, client_for):
    review = raise_event(world, severity="review")
    urgent = raise_event(world, severity="urgent")
    high = raise_event(world, severity="high")
    actions.safety_event_acknowledge(actor=world.clinician_a, event=high)
    body = client_for(world.clinician_a).get(url("list", world)).content.decode()
    spots = [body.index(f"event-{e.external_id}") for e in (high, urgent, review)]
    assert spots == sorted(spots)
    # Its authorisation-failure twins: another program 404, intake 403.
    assert client_for(world.clinician_b).get(url("list", world)).status_code == 404
    assert client_for(world.intake_a).get(url("list", world)).status_code == 403


def test_close_reason_form_twins_save_nothing(world: World, client_for):
    event = raise_event(world)
    actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    body = {
        "outcome": "Safe.",
        "cssrs_not_done_reason": "Declined.",
        "safety_plan_not_reviewed_reason": "Declined.",
    }
    assert (
        client_for(world.clinician_b).post(event_url("close", world, event), body).status_code
        == 404
    )
    assert (
        client_for(world.billing_a).post(event_url("close", world, event), body).status_code == 403
    )
    event.refresh_from_db()
    assert event.status == EventStatus.ACKNOWLEDGED and event.cssrs_not_done_reason == ""
    assert (
        client_for(world.clinician_a).post(event_url("close", world, event), body).status_code
        == 302
    )
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED and event.cssrs_not_done_reason == "Declined."
