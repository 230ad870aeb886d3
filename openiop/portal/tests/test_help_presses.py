"""Issue 18 item 11: repeated "I need help now" presses within a few minutes join one open
event (each press recorded on it, escalation once); a press is never refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine

from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.portal.actions import help_request
from openiop.safety import actions as safety_actions
from openiop.safety.models import SafetyEvent, StepKind
from openiop.testing import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(world: World, client_for):
    return client_for(world.participant_user)


@pytest.fixture
def escalations(monkeypatch) -> list[int]:
    scheduled: list[int] = []
    monkeypatch.setattr(safety_actions, "schedule", lambda job, event: scheduled.append(event.pk))
    return scheduled


def _press(me) -> None:
    response = me.post("/me/help/", {"idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 302 and response["Location"].endswith("/me/help/sent/")


def test_presses_within_minutes_join_one_event(world: World, me, escalations):
    start = clock.now()
    with time_machine.travel(start, tick=False):
        _press(me)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        _press(me)
        me.post("/me/help/", {})  # no key: still recorded, never refused
    event = SafetyEvent.objects.get()
    assert (event.source, event.severity) == ("help_button", "high")
    presses = list(event.steps.filter(kind=StepKind.HELP_PRESSED).values_list("text", flat=True))
    assert presses == [f"Press {n} of \u201cI need help now\u201d." for n in (2, 3)]
    assert escalations == [event.pk], "escalation is scheduled once"
    updates = AuditEvent.objects.filter(action="update", object_id=str(event.external_id))
    assert updates.count() == 2
    page = me.get("/me/help/sent/").content.decode()
    assert "We sent an alert to your clinician." in page


def test_the_window_runs_from_the_latest_press(world: World, escalations):
    start = clock.now()
    for minutes in (0, 8, 16):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            help_request(actor=world.participant_user, participant=world.participant_a)
    assert SafetyEvent.objects.count() == 1
    with time_machine.travel(start + timedelta(minutes=16 + 11), tick=False):
        later = help_request(actor=world.participant_user, participant=world.participant_a)
    assert SafetyEvent.objects.count() == 2
    assert later.steps.filter(kind=StepKind.HELP_PRESSED).count() == 0
    assert len(escalations) == 2


def test_an_acknowledged_event_still_collects_presses(world: World, escalations):
    first = help_request(actor=world.participant_user, participant=world.participant_a)
    safety_actions.safety_event_acknowledge(actor=world.clinician_a, event=first)
    again = help_request(actor=world.participant_user, participant=world.participant_a)
    assert again.pk == first.pk
    assert again.steps.filter(kind=StepKind.HELP_PRESSED).count() == 1


def test_a_press_after_the_event_closed_opens_a_new_one(world: World, escalations):
    first = help_request(actor=world.participant_user, participant=world.participant_a)
    safety_actions.safety_event_acknowledge(actor=world.clinician_a, event=first)
    safety_actions.safety_event_close(
        actor=world.clinician_a,
        event=first,
        outcome="Safe; plan reviewed.",
        cssrs_not_done_reason="Screened by phone.",
        safety_plan_not_reviewed_reason="Reviewed by phone.",
    )
    second = help_request(actor=world.participant_user, participant=world.participant_a)
    assert second.pk != first.pk


def test_other_sources_never_join_a_help_event(world: World, escalations):
    help_request(actor=world.participant_user, participant=world.participant_a)
    safety_actions.safety_event_raise(
        actor=world.clinician_a, participant=world.participant_a, source="staff", severity="urgent"
    )
    assert SafetyEvent.objects.count() == 2
