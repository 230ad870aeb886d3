from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError, ConflictError
from openiop.safety import actions
from openiop.safety.models import (
    EventStatus,
    NotificationReason,
    SafetyEvent,
    SafetyEventStep,
    SafetyNotification,
    StepKind,
)
from openiop.safety.tasks import safety_escalate_if_due, safety_escalate_overdue
from openiop.safety.tests.helpers import on_call, raise_event
from openiop.testing import World

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def kinds(event: SafetyEvent) -> list[str]:
    return list(event.steps.order_by("at", "id").values_list("kind", flat=True))


def test_raise_notifies_clinician_of_record_and_on_call(world: World):
    oncall = on_call(world)
    before = AuditEvent.objects.count()
    event = raise_event(world)
    assert event.status == EventStatus.OPEN and event.program == world.program_a
    notes = {n.recipient_id: n.reason for n in SafetyNotification.objects.filter(event=event)}
    assert notes == {
        world.clinician_a.pk: NotificationReason.CLINICIAN_OF_RECORD,
        oncall.pk: NotificationReason.ON_CALL,
    }
    assert kinds(event) == [
        StepKind.CREATED,
        StepKind.CSSRS_PROMPTED,
        StepKind.SAFETY_PLAN_PROMPTED,
        StepKind.NOTIFIED,
    ]
    created = AuditEvent.objects.filter(action="create", object_id=str(event.external_id))
    assert created.count() == 1 and AuditEvent.objects.count() == before + 1
    assert created.get().participant_external_id == world.participant_a.external_id


def test_on_call_clinician_of_record_is_notified_once(world: World):
    from openiop.accounts.models import Membership

    Membership.objects.filter(user=world.clinician_a).update(is_on_call=True)
    event = raise_event(world)
    assert SafetyNotification.objects.filter(event=event).count() == 1


def test_raise_is_one_transaction_with_its_notifications(world: World, monkeypatch):
    on_call(world)

    def boom(**kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(actions, "audit_record", boom)
    with pytest.raises(RuntimeError):
        raise_event(world)
    assert not SafetyEvent.objects.exists()
    assert not SafetyNotification.objects.exists()
    assert not SafetyEventStep.objects.exists()


def test_raise_schedules_escalation_in_the_same_transaction(world: World, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    before = DBTaskResult.objects.count()
    event = raise_event(world)
    job = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == before + 1
    assert job is not None and job.args_kwargs["args"] == [event.pk]
    assert job.run_after == event.created_at + timedelta(minutes=30)

    monkeypatch.setattr(actions, "audit_record", lambda **kw: (_ for _ in ()).throw(OSError))
    with pytest.raises(OSError):
        raise_event(world)
    assert DBTaskResult.objects.count() == before + 1


def test_raise_refuses_unknown_source_and_severity(world: World):
    with pytest.raises(ActionError) as err:
        actions.safety_event_raise(
            actor=world.clinician_a,
            participant=world.participant_a,
            source="rumour",
            severity="meh",
            detail="",
        )
    assert set(err.value.errors) == {"source", "severity"}


def test_escalates_after_the_configured_time_when_unacknowledged(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        event = raise_event(world)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert safety_escalate_if_due.call(event.pk) is False
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert safety_escalate_if_due.call(event.pk) is True
    event.refresh_from_db()
    assert event.escalation_level == 1 and event.escalated_at is not None
    escalated = SafetyNotification.objects.filter(event=event, level=1)
    assert {n.recipient_id for n in escalated} == {world.director_a.pk, world.supervisor_a.pk}
    assert StepKind.ESCALATED in kinds(event)
    # The next period starts from the escalation, not from the raise.
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert safety_escalate_if_due.call(event.pk) is False
    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        assert safety_escalate_overdue.call() == 1
    event.refresh_from_db()
    assert event.escalation_level == 2


@override_settings(OPENIOP_SAFETY_ESCALATE_AFTER=timedelta(minutes=5))
def test_escalation_period_comes_from_settings(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        event = raise_event(world)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert safety_escalate_if_due.call(event.pk) is True


def test_no_escalation_once_acknowledged(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        event = raise_event(world)
        actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert safety_escalate_if_due.call(event.pk) is False
        assert actions.safety_event_escalate(event) is False
    event.refresh_from_db()
    assert event.escalation_level == 0
    assert not SafetyNotification.objects.filter(event=event, level__gt=0).exists()


@override_settings(TASKS=IMMEDIATE)
def test_immediate_backend_runs_the_job_which_finds_nothing_due(world: World):
    # The immediate backend cannot defer: the job runs at once and finds nothing due.
    event = raise_event(world)
    event.refresh_from_db()
    assert event.escalation_level == 0


def test_every_step_is_recorded_and_close_needs_acknowledgement(world: World):
    event = raise_event(world)
    with pytest.raises(ConflictError):
        actions.safety_event_close(actor=world.clinician_a, event=event, outcome="Safe.")
    actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    with pytest.raises(ConflictError):
        actions.safety_event_acknowledge(actor=world.supervisor_a, event=event)
    actions.safety_event_record_step(
        actor=world.clinician_a, event=event, kind="cssrs_done", text="Low risk."
    )
    actions.safety_event_record_step(
        actor=world.clinician_a, event=event, kind="safety_plan_reviewed"
    )
    with pytest.raises(ActionError):
        actions.safety_event_record_step(actor=world.clinician_a, event=event, kind="note")
    actions.safety_event_record_step(
        actor=world.clinician_a, event=event, kind="note", text="Called partner."
    )
    with pytest.raises(ActionError) as err:
        actions.safety_event_close(actor=world.clinician_a, event=event, outcome="  ")
    assert "outcome" in err.value.errors
    actions.safety_event_close(actor=world.clinician_a, event=event, outcome="Plan updated.")
    assert event.status == EventStatus.CLOSED and event.closed_by == world.clinician_a
    assert kinds(event) == [
        StepKind.CREATED,
        StepKind.CSSRS_PROMPTED,
        StepKind.SAFETY_PLAN_PROMPTED,
        StepKind.NOTIFIED,
        StepKind.ACKNOWLEDGED,
        StepKind.CSSRS_DONE,
        StepKind.SAFETY_PLAN_REVIEWED,
        StepKind.NOTE,
        StepKind.CLOSED,
    ]
    with pytest.raises(ConflictError):
        actions.safety_event_record_step(
            actor=world.clinician_a, event=event, kind="note", text="late"
        )
    updates = AuditEvent.objects.filter(action="update", object_id=str(event.external_id))
    assert updates.count() == 5  # acknowledge, three steps, close


def test_console_notifier_logs_only_opaque_ids(
    world: World, caplog, django_capture_on_commit_callbacks
):
    on_call(world)
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        event = raise_event(world)
    logged = caplog.text
    assert str(event.external_id) in logged
    for secret in ("Avery", "Quillby", world.participant_a.record_number, "not being here"):
        assert secret not in logged


def test_email_notifier_sends_no_phi(world: World, mailoutbox, django_capture_on_commit_callbacks):
    world.clinician_a.email = "clara@example.org"
    world.clinician_a.save(update_fields=["email"])
    from openiop.safety import notifiers

    notifiers._configured.cache_clear()
    try:
        with (
            override_settings(OPENIOP_NOTIFIER="openiop.safety.notifiers.EmailNotifier"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            event = raise_event(world)
    finally:
        notifiers._configured.cache_clear()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["clara@example.org"]
    assert "a safety event needs your attention" in mail.subject
    assert str(event.external_id) in mail.body
    for secret in ("Avery", "Quillby", world.participant_a.record_number, "not being here"):
        assert secret not in mail.subject + mail.body


def test_no_notifier_call_when_the_raise_rolls_back(world: World, monkeypatch, caplog):
    sent = []
    monkeypatch.setattr(actions, "deliver", lambda made: sent.extend(made))
    monkeypatch.setattr(actions, "audit_record", lambda **kw: (_ for _ in ()).throw(OSError))
    with pytest.raises(OSError):
        raise_event(world)
    assert sent == []
