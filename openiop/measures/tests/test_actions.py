"""assessment_record, entered in error, schedules: scoring stored exactly, errors name the item,
safety and medical risk inside the transaction, licence flag, and immutability (model,
queryset, SQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.measures.actions import assessment_mark_entered_in_error, schedule_set
from openiop.measures.models import AdministrationSchedule, Assessment, ImmutableAssessmentError
from openiop.measures.scoring import score
from openiop.measures.tests.helpers import phq9, record
from openiop.safety.models import SafetyEvent
from openiop.testing import World

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- recording


@pytest.mark.parametrize(
    ("code", "answers"),
    [
        ("phq9", [1, 2, 3, 0, 1, 2, 3, 0, 2]),
        ("gad7", [3, 3, 2, 1, 0, 0, 1]),
        ("core10", [1, 2, 3, 4, 0, 1, 2, None, 3, 4]),
        ("brs", [4, 2, 5, 1, 3, 2]),
        ("who5", [3, 4, 2, 1, 5]),
    ],
)
def test_record_stores_the_scoring_core_result_exactly(world: World, code, answers):
    expected = score(code, answers)
    a = record(world, world.participant_a, instrument=code, answers=answers)
    a.refresh_from_db()
    assert a.total == (None if expected.total is None else Decimal(str(expected.total)))
    assert a.band == (expected.band or "")
    assert a.positive_screen == expected.positive_screen
    assert a.prorated == expected.prorated
    assert a.critical == list(expected.critical)
    assert a.subscales == dict(expected.subscales)
    assert a.answers == answers
    assert a.instrument_version == expected.version
    assert a.enrollment == world.enrollment_a


def test_record_phq9_spot_check_and_audit(world: World):
    before = AuditEvent.objects.count()
    a = record(world, world.participant_a, answers=[2, 2, 2, 2, 2, 2, 1, 1, 0])
    assert (a.total, a.band, a.positive_screen, a.critical) == (14, "moderate", True, [])
    assert a.result is not None and a.result.total == 14
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None and event.action == "create"
    assert event.participant_external_id == world.participant_a.external_id


@pytest.mark.parametrize(
    ("answers", "field", "item"),
    [
        ([0, 0, 0, 0, 7, 0, 0, 0, 0], "answers[4]", "item 5"),
        ([0, 0, 0], "answers[3]", "item 4"),
        ([0] * 10, "answers[9]", "item 10"),
        ([0, 0, 0, 0, 0, 0, 0, 0, -1], "answers[8]", "item 9"),
    ],
)
def test_item_errors_name_the_item_and_save_nothing(world: World, answers, field, item):
    rows, events = Assessment.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ActionError) as exc:
        record(world, world.participant_a, answers=answers)
    assert list(exc.value.errors) == [field]
    assert exc.value.errors[field][0].startswith(item)
    assert (Assessment.objects.count(), AuditEvent.objects.count()) == (rows, events)


def test_auditc_needs_the_sex_used_for_scoring(world: World):
    with pytest.raises(ActionError) as exc:
        record(world, world.participant_a, instrument="auditc", answers=[1, 1, 1])
    assert "sex" in exc.value.errors
    a = record(world, world.participant_a, instrument="auditc", answers=[1, 1, 1], sex="female")
    assert (a.positive_screen, a.sex_for_scoring) == (True, "female")


def test_licence_flag_blocks_noncommercial_entry(world: World, monkeypatch):
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    with pytest.raises(ActionError) as exc:
        record(world, world.participant_a, instrument="dast10", answers=[0] * 10)
    assert exc.value.code == "licence" and "instrument" in exc.value.errors
    with pytest.raises(ActionError):
        schedule_set(
            actor=world.director_a,
            program=world.program_a,
            instrument="dast10",
            cadences=["intake"],
        )
    assert not Assessment.objects.exists()
    monkeypatch.delenv("OPENIOP_DISABLE_NONCOMMERCIAL")
    assert record(world, world.participant_a, instrument="dast10", answers=[0] * 10).total == 1


def test_future_time_and_missing_episode_are_refused(world: World):
    from datetime import timedelta

    from django.utils import timezone

    from openiop.measures.actions import assessment_record

    with pytest.raises(ActionError) as exc:
        assessment_record(
            actor=world.clinician_a,
            participant=world.participant_a,
            instrument="phq9",
            answers=[0] * 9,
            administered_at=timezone.now() + timedelta(days=1),
        )
    assert "administered_at" in exc.value.errors
    with pytest.raises(ActionError) as exc:
        record(world, world.participant_a, instrument="nope")
    assert "instrument" in exc.value.errors


# --------------------------------------------------------------------------- critical items


def test_a_critical_item_opens_a_safety_event_inside_the_transaction(world: World, monkeypatch):
    """Recording calls safety directly: no registry, nothing a caller or a test can switch off."""
    from openiop.safety import actions as safety_actions

    real = safety_actions.safety_event_raise
    seen = []

    def watch(**kwargs):
        assert connection.in_atomic_block
        seen.append(kwargs["assessment_id"])
        return real(**kwargs)

    monkeypatch.setattr(safety_actions, "safety_event_raise", watch)
    record(world, world.participant_a, answers=phq9(5))
    assert seen == [] and not SafetyEvent.objects.exists()
    a = record(world, world.participant_a, answers=phq9(6, item9=1))
    assert seen == [a.external_id] and a.critical == [9]
    event = SafetyEvent.objects.get(assessment_id=a.external_id)
    assert (event.source, event.severity) == ("phq9_item9", "urgent")


def test_a_failing_safety_action_rolls_the_assessment_back(world: World, monkeypatch):
    from openiop.safety import actions as safety_actions

    class Boom(RuntimeError):
        pass

    def fail(**kwargs):
        raise Boom

    monkeypatch.setattr(safety_actions, "safety_event_raise", fail)
    rows, events = Assessment.objects.count(), AuditEvent.objects.count()
    with pytest.raises(Boom):
        record(world, world.participant_a, answers=phq9(4, item9=2))
    assert (Assessment.objects.count(), AuditEvent.objects.count()) == (rows, events)


def test_critical_fires_even_when_the_form_is_incomplete(world: World):
    a = record(world, world.participant_a, answers=[None] * 8 + [1])
    assert a.total is None and a.critical == [9]
    assert SafetyEvent.objects.filter(assessment_id=a.external_id).count() == 1


def test_safety_runs_before_the_medical_risk_rules(world: World, monkeypatch):
    """Critical items first: the safety event exists when the medical-risk rules run."""
    from openiop.medical import risk

    real = risk.evaluate
    order = []

    def watch(assessment, *args, **kwargs):
        order.append(SafetyEvent.objects.filter(assessment_id=assessment.external_id).exists())
        return real(assessment, *args, **kwargs)

    monkeypatch.setattr(risk, "evaluate", watch)
    record(world, world.participant_a, answers=phq9(6, item9=1))
    assert order == [True]


# --------------------------------------------------------------------------- immutability


def test_scored_assessment_refuses_save_update_and_delete(world: World):
    a = record(world, world.participant_a)
    a.band = "severe"
    with pytest.raises(ImmutableAssessmentError):
        a.save()
    with pytest.raises(ImmutableAssessmentError):
        Assessment.objects.filter(pk=a.pk).update(total=27)
    with pytest.raises(ImmutableAssessmentError):
        Assessment.objects.get(pk=a.pk).delete()
    with pytest.raises(ImmutableAssessmentError):
        Assessment.objects.filter(pk=a.pk).delete()
    assert Assessment.objects.get(pk=a.pk).band == "minimal"


def test_IN_01_raw_sql_cannot_change_or_delete_a_scored_assessment(world: World):
    """On PostgreSQL a trigger refuses raw SQL; SQLite has no such trigger, so there the
    test checks the ORM guards instead (the suite never skips)."""
    from django.db import DatabaseError

    a = record(world, world.participant_a)
    if connection.vendor != "postgresql":
        with pytest.raises(ImmutableAssessmentError):
            Assessment.objects.filter(pk=a.pk).update(total=27)
        return
    for sql in (
        "UPDATE measures_assessment SET total = 27 WHERE id = %s",
        "DELETE FROM measures_assessment WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [a.pk])
    assert Assessment.objects.get(pk=a.pk).total == 0


def test_entered_in_error_is_the_one_change_allowed(world: World):
    a = record(world, world.participant_a)
    with pytest.raises(ActionError) as exc:
        assessment_mark_entered_in_error(actor=world.clinician_a, assessment=a, reason=" ")
    assert "reason" in exc.value.errors
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=a, reason="Keyed for the wrong participant"
    )
    stored = Assessment.objects.get(pk=a.pk)
    assert stored.entered_in_error and stored.entered_in_error_by == world.clinician_a
    assert stored.total == 0  # still there, unchanged
    with pytest.raises(ActionError) as exc:
        assessment_mark_entered_in_error(
            actor=world.clinician_a, assessment=stored, reason="Again, by mistake"
        )
    assert exc.value.code == "conflict"


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("code", "good", "bad"),
    [
        ("phq9", ["intake", "weekly", "every_2_weeks", "discharge"], ["monthly"]),
        ("gad7", ["weekly", "every_2_weeks"], ["monthly"]),
        ("audit", ["intake", "discharge"], ["weekly", "every_2_weeks", "monthly"]),
        ("dast10", ["intake", "discharge"], ["weekly", "monthly"]),
        ("k10", ["monthly"], ["weekly", "every_2_weeks"]),
        ("brs", ["weekly", "monthly"], []),
    ],
)
def test_schedules_must_fit_the_recall_window(world: World, code, good, bad):
    rows = schedule_set(
        actor=world.director_a, program=world.program_a, instrument=code, cadences=good
    )
    assert sorted(r.cadence for r in rows) == sorted(good)
    for cadence in bad:
        with pytest.raises(ActionError) as exc:
            schedule_set(
                actor=world.director_a,
                program=world.program_a,
                instrument=code,
                cadences=["intake", cadence],
            )
        assert list(exc.value.errors) == ["cadences[1]"]
    assert AdministrationSchedule.objects.filter(instrument=code).count() == len(good)


def test_schedule_set_replaces_and_clears(world: World):
    def put(cadences: list[str]) -> None:
        schedule_set(
            actor=world.director_a, program=world.program_a, instrument="phq9", cadences=cadences
        )

    put(["intake", "weekly"])
    put(["every_2_weeks"])
    assert list(AdministrationSchedule.objects.values_list("cadence", flat=True)) == [
        "every_2_weeks"
    ]
    put([])
    assert not AdministrationSchedule.objects.exists()
