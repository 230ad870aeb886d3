"""Issue 17 items 4, 10 (queue) and 11: escalation by severity, out-of-band alerts recorded
step by step, closing rules, and a safety-plan review prompted by every event."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.participants.actions import enrollment_discharge
from openiop.portal.actions import help_request
from openiop.programs.actions import program_safety_settings_update
from openiop.safety import actions, notifiers, selectors
from openiop.safety.models import EventStatus, SafetyEvent, StepKind
from openiop.safety.tasks import safety_escalate_if_due
from openiop.safety.tests.helpers import on_call, raise_event
from openiop.testing import World, today

pytestmark = pytest.mark.django_db

SECRETS = ("Avery", "Quillby", "not being here")


def steps(event: SafetyEvent, kind: str) -> list[str]:
    return list(event.steps.filter(kind=kind).order_by("at", "id").values_list("text", flat=True))


def discharge(world: World) -> None:
    enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(world.program_a),
        reason="completed",
        step_down_destination="outpatient",
    )


def test_help_button_raises_a_high_severity_event(world: World):
    event = help_request(actor=world.participant_user, participant=world.participant_a)
    assert (event.source, event.severity) == ("help_button", "high")


def test_high_severity_escalates_after_the_program_setting_default_5_minutes(world: World):
    assert world.program_a.safety_high_escalate_minutes == 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        high = raise_event(world, severity="high")
        urgent = raise_event(world, severity="urgent")
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert safety_escalate_if_due.call(high.pk) is False
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert safety_escalate_if_due.call(high.pk) is True
        # Other severities keep the general period (30 minutes by default).
        assert safety_escalate_if_due.call(urgent.pk) is False
    high.refresh_from_db()
    assert high.escalation_level == 1


def test_raise_schedules_high_escalation_at_the_program_setting(world: World):
    from django_tasks_db.models import DBTaskResult

    event = raise_event(world, severity="high")
    job = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert job is not None and job.run_after == event.created_at + timedelta(minutes=5)


def test_program_setting_changes_the_high_period_is_validated_and_audited(world: World):
    with pytest.raises(ActionError) as err:
        program_safety_settings_update(
            actor=world.director_a, program=world.program_a, high_escalate_minutes=0
        )
    assert "safety_high_escalate_minutes" in err.value.errors
    program_safety_settings_update(
        actor=world.director_a, program=world.program_a, high_escalate_minutes=10
    )
    assert AuditEvent.objects.filter(
        action="update", object_id=str(world.program_a.external_id)
    ).exists()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        event = raise_event(world, severity="high")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert safety_escalate_if_due.call(event.pk) is False
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert safety_escalate_if_due.call(event.pk) is True


def test_high_event_reaches_on_call_by_email_recorded_step_by_step(
    world: World, mailoutbox, django_capture_on_commit_callbacks
):
    oncall = on_call(world)
    oncall.email = "oona@example.org"
    oncall.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        event = raise_event(world, severity="high")
    assert [m.to for m in mailoutbox] == [["oona@example.org"]]
    mail = mailoutbox[0]
    assert "urgent safety event needs your attention" in mail.subject
    assert str(event.external_id) in mail.body
    for secret in (*SECRETS, world.participant_a.record_number):
        assert secret not in mail.subject + mail.body
    recorded = steps(event, StepKind.OUT_OF_BAND)
    assert f"Email to {oncall.get_full_name()} (on call): sent" in recorded
    assert (
        f"Email to {world.clinician_a.get_full_name()} (clinician of record): "
        "not sent: no address on file"
    ) in recorded


def test_urgent_event_sends_nothing_out_of_band(
    world: World, mailoutbox, django_capture_on_commit_callbacks
):
    oncall = on_call(world)
    oncall.email = "oona@example.org"
    oncall.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        event = raise_event(world, severity="urgent")
    assert mailoutbox == [] and steps(event, StepKind.OUT_OF_BAND) == []


class Refusing:
    name = "SMS"

    def address(self, user):
        return "+15550100"

    def send(self, notification, address):
        raise OSError("provider down")


def test_a_failing_channel_is_recorded_and_never_undoes_the_event(
    world: World, django_capture_on_commit_callbacks
):
    notifiers._channel.cache_clear()
    try:
        with (
            override_settings(
                OPENIOP_OUT_OF_BAND_CHANNELS=["openiop.safety.tests.test_severity.Refusing"]
            ),
            django_capture_on_commit_callbacks(execute=True),
        ):
            event = raise_event(world, severity="high")
    finally:
        notifiers._channel.cache_clear()
    assert SafetyEvent.objects.filter(pk=event.pk).exists()
    name = world.clinician_a.get_full_name()
    assert steps(event, StepKind.OUT_OF_BAND) == [f"SMS to {name} (clinician of record): failed"]


@pytest.mark.parametrize("severity", ["high", "urgent"])
def test_event_with_nobody_to_alert_escalates_at_once(world: World, severity: str):
    discharge(world)  # no clinician of record, and nobody is on call
    event = raise_event(world, severity=severity)
    event.refresh_from_db()
    assert event.escalation_level == 1
    assert steps(event, StepKind.NOTIFIED) == [
        "0 staff notified (nobody to notify)",
        "2 staff notified (escalation: 2)",
    ]
    assert steps(event, StepKind.ESCALATED) == [
        "Nobody on the care team could be alerted: escalation level 1."
    ]
    leads = {n.recipient_id for n in event.notifications.filter(level=1)}
    assert leads == {world.director_a.pk, world.supervisor_a.pk}
    if severity == "high":
        assert steps(event, StepKind.OUT_OF_BAND) == [
            "Nobody to reach out of band: nobody notified."
        ]


def test_every_event_prompts_a_safety_plan_review_cssrs_ones_too(world: World):
    for source in ("cssrs", "phq9_item9", "checkin", "help_button", "staff"):
        event = raise_event(world, source=source, severity="high")
        assert len(steps(event, StepKind.SAFETY_PLAN_PROMPTED)) == 1, source


def test_close_needs_cssrs_and_safety_plan_review_or_reasons(world: World):
    event = raise_event(world)
    actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    with pytest.raises(ActionError) as err:
        actions.safety_event_close(actor=world.clinician_a, event=event, outcome="Safe.")
    assert set(err.value.errors) == {"cssrs_not_done_reason", "safety_plan_not_reviewed_reason"}
    assert "C-SSRS" in err.value.errors["cssrs_not_done_reason"][0]
    actions.safety_event_record_step(actor=world.clinician_a, event=event, kind="cssrs_done")
    with pytest.raises(ActionError) as err:
        actions.safety_event_close(actor=world.clinician_a, event=event, outcome="Safe.")
    assert set(err.value.errors) == {"safety_plan_not_reviewed_reason"}
    event.refresh_from_db()
    assert event.status == EventStatus.ACKNOWLEDGED
    actions.safety_event_close(
        actor=world.clinician_a,
        event=event,
        outcome="Safe.",
        safety_plan_not_reviewed_reason="  Participant left before we could.  ",
    )
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    assert event.safety_plan_not_reviewed_reason == "Participant left before we could."
    closed = steps(event, StepKind.CLOSED)[0]
    assert "Safety plan not reviewed: Participant left before we could." in closed


def test_close_with_both_steps_recorded_needs_no_reason(world: World):
    event = raise_event(world)
    actions.safety_event_acknowledge(actor=world.clinician_a, event=event)
    for kind in ("cssrs_done", "safety_plan_reviewed"):
        actions.safety_event_record_step(actor=world.clinician_a, event=event, kind=kind)
    actions.safety_event_close(actor=world.clinician_a, event=event, outcome="Safe.")
    assert event.status == EventStatus.CLOSED and event.cssrs_not_done_reason == ""


def test_queue_sorts_by_severity_first(world: World):
    review = raise_event(world, severity="review")
    urgent = raise_event(world, severity="urgent")
    high = raise_event(world, severity="high")
    actions.safety_event_acknowledge(actor=world.clinician_a, event=high)
    order = [e.pk for e in selectors.open_events(program=world.program_a)]
    assert order == [high.pk, urgent.pk, review.pk]
