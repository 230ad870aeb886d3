"""A recorded C-SSRS answers the "same-day C-SSRS" prompt of the participant's open events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.audit.models import AuditEvent
from openiop.measures.actions import assessment_record
from openiop.measures.models import Assessment
from openiop.measures.tests.helpers import long_stay
from openiop.safety import actions
from openiop.safety.models import SafetyEvent, Source, StepKind
from openiop.safety.tests.helpers import raise_event
from openiop.testing import World

pytestmark = pytest.mark.django_db

ALL_NO = [0, 0, None, None, None, 0, None]  # q2 no skips q3-q5; q6 no skips q6r
PLAN_RECENT = [1, 1, 0, 1, 0, 0, None]  # q4 yes: high risk


def cssrs(world: World, participant, answers, **kwargs) -> Assessment:
    return assessment_record(
        actor=world.clinician_a,
        participant=participant,
        instrument="cssrs",
        answers=answers,
        administered_at=kwargs.pop("administered_at", timezone.now() - timedelta(minutes=1)),
        **kwargs,
    )


def done_steps(event: SafetyEvent):
    return list(event.steps.filter(kind=StepKind.CSSRS_DONE))


def test_a_recorded_cssrs_marks_the_prompt_done_with_its_risk_tier(world: World):
    event = raise_event(world)  # staff concern: prompts a same-day C-SSRS
    cssrs(world, world.participant_a, ALL_NO)
    (step,) = done_steps(event)
    assert step.by == world.clinician_a and step.text == "C-SSRS screener recorded: risk none."
    audited = AuditEvent.objects.filter(action="update", object_id=str(event.external_id))
    assert [a.detail for a in audited] == [{"step": "cssrs_done"}]
    # Only once: a second screen does not add another "done".
    cssrs(world, world.participant_a, ALL_NO)
    assert len(done_steps(event)) == 1


def test_acknowledged_events_too_and_a_positive_screen_names_high_risk(world: World):
    event = raise_event(world)
    actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    cssrs(world, world.participant_a, PLAN_RECENT)
    (step,) = done_steps(event)
    assert step.text == "C-SSRS screener recorded: risk high."
    # The positive screen opened its own event, which prompts nothing and is left alone.
    new = SafetyEvent.objects.get(source=Source.CSSRS)
    assert new.severity == "high" and done_steps(new) == []


def test_another_participants_cssrs_does_not_touch_the_event(world: World):
    event = raise_event(world)
    other = long_stay(world, last="Other")
    cssrs(world, other, ALL_NO)
    assert done_steps(event) == []


def test_closed_events_and_portal_screens_are_left_alone(world: World):
    closed = raise_event(world)
    actions.safety_event_acknowledge(actor=world.clinician_a, event=closed)
    actions.safety_event_close(
        actor=world.clinician_a,
        event=closed,
        outcome="Seen, safe.",
        cssrs_not_done_reason="Raised in error: wrong participant.",
        safety_plan_not_reviewed_reason="Raised in error: wrong participant.",
    )
    open_event = raise_event(world)
    cssrs(world, world.participant_a, ALL_NO, source="portal")  # not the clinician's screen
    assert done_steps(closed) == [] and done_steps(open_event) == []


def test_a_screen_from_before_the_concern_does_not_answer_it(world: World):
    person = long_stay(world, last="Earlier")
    event = actions.safety_event_raise(
        actor=world.clinician_a, participant=person, source="staff", severity="urgent"
    )
    cssrs(world, person, ALL_NO, administered_at=timezone.now() - timedelta(days=3))
    assert done_steps(event) == []


def test_the_step_is_in_the_assessments_transaction(world: World, monkeypatch):
    event = raise_event(world)

    def failing(**kwargs):
        raise RuntimeError("step store down")

    monkeypatch.setattr(actions, "safety_event_record_step", failing)
    with pytest.raises(RuntimeError):
        cssrs(world, world.participant_a, ALL_NO)
    assert not Assessment.objects.filter(instrument="cssrs").exists()
    assert done_steps(event) == []
