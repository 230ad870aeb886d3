from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

import pytest

from openiop.safety.assessments import raise_for_assessment
from openiop.safety.models import SafetyEvent, Severity, Source, StepKind
from openiop.testing import World

pytestmark = pytest.mark.django_db


def assessment(world: World, instrument: str, answers, critical, risk: str = ""):
    # Duck-typed: the fields of measures.Assessment safety reads.
    return SimpleNamespace(
        external_id=uuid4(),
        instrument=instrument,
        answers=answers,
        critical=critical,
        risk=risk,
        entered_in_error=False,
        participant=world.participant_a,
        entered_by=world.clinician_a,
    )


def test_phq9_item9_is_urgent_and_prompts_a_cssrs(world: World):
    event = raise_for_assessment(assessment(world, "phq9", [1] * 8 + [1], [9]))
    assert event is not None
    assert (event.source, event.severity) == (Source.PHQ9_ITEM9, Severity.URGENT)
    assert "not a risk label" in event.detail
    assert event.steps.filter(kind=StepKind.CSSRS_PROMPTED).exists()


def test_core10_item6_is_urgent(world: World):
    event = raise_for_assessment(assessment(world, "core10", [0] * 5 + [2] + [0] * 4, [6]))
    assert event is not None and event.source == Source.CORE10_ITEM6
    assert event.severity == Severity.URGENT


@pytest.mark.parametrize(
    ("risk", "severity"),
    [("high", Severity.HIGH), ("moderate", Severity.URGENT), ("low", Severity.REVIEW)],
)
def test_cssrs_severity_follows_risk(world: World, risk, severity):
    event = raise_for_assessment(assessment(world, "cssrs", [1, 1, 0, 0, 0, 0, 0], ["q1"], risk))
    assert event is not None and event.source == Source.CSSRS and event.severity == severity
    assert not event.steps.filter(kind=StepKind.CSSRS_PROMPTED).exists()


def test_undetermined_cssrs_risk_is_high_until_the_missing_item_is_asked(world: World):
    # q6 (behaviour) yes, recency q6r unanswered: it may be recent, so it is treated as high.
    event = raise_for_assessment(
        assessment(world, "cssrs", [0, 0, None, None, None, 1, None], ["q6"], "")
    )
    assert event is not None and event.severity == Severity.HIGH
    assert "risk not determined: treated as high until q6r is asked" in event.detail


def test_the_portal_raises_once_before_the_row_and_recording_links_to_it(world: World):
    from openiop.safety.assessments import raise_for_answers

    row = assessment(world, "phq9", [None] * 8 + [3], [9])
    first = raise_for_answers(
        actor=world.participant_user,
        participant=world.participant_a,
        instrument="phq9",
        answers=[7] + [None] * 7 + [3],  # a wrong code elsewhere does not hide item 9
        assessment_id=row.external_id,
    )
    assert first is not None and first.source == Source.PHQ9_ITEM9
    assert raise_for_assessment(row) == first
    assert SafetyEvent.objects.count() == 1


def test_nothing_critical_raises_nothing(world: World):
    assert raise_for_assessment(assessment(world, "phq9", [0] * 9, [])) is None
    assert raise_for_assessment(assessment(world, "gad7", [3] * 7, [1])) is None
    assert not SafetyEvent.objects.exists()


def test_there_is_no_hook_registry_to_switch_safety_off():
    """measures calls safety directly (docs/measures.md): nothing to unregister or empty."""
    import importlib.util

    assert importlib.util.find_spec("openiop.measures.hooks") is None


def test_a_recorded_critical_phq9_opens_an_event(world: World):
    from datetime import timedelta

    from django.utils import timezone

    from openiop.measures.actions import assessment_record

    row = assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="phq9",
        answers=[0] * 8 + [2],
        administered_at=timezone.now() - timedelta(minutes=1),
    )
    event = SafetyEvent.objects.get(assessment_id=row.external_id)
    assert (event.source, event.severity) == (Source.PHQ9_ITEM9, Severity.URGENT)
    assert event.participant == world.participant_a
