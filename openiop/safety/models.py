"""Safety events (clinical.md section 6): a positive critical item, a "yes" to the check-in
safety question, the help button or a staff member's concern opens an event that must be
acknowledged, escalates while it is not, and keeps every step taken. Nothing is deleted.

`detail` is written by the system or by staff (e.g. "PHQ-9 item 9 = 2"); participants' own
words never go in it, and none of these fields is ever logged (only opaque ids are).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel

if TYPE_CHECKING:
    from openiop.participants.models import Participant


class Source(models.TextChoices):
    PHQ9_ITEM9 = "phq9_item9", "PHQ-9 item 9"
    CORE10_ITEM6 = "core10_item6", "CORE-10 item 6"
    CSSRS = "cssrs", "C-SSRS screener"
    CHECKIN = "checkin", "Check-in safety question"
    DIARY = "diary_card", "Diary card"
    HELP_BUTTON = "help_button", "\u201cI need help now\u201d button"
    STAFF = "staff", "Raised by staff"


class Severity(models.TextChoices):
    HIGH = "high", "High risk"
    URGENT = "urgent", "Urgent"
    REVIEW = "review", "Review"


class EventStatus(models.TextChoices):
    OPEN = "open", "Open (not acknowledged)"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLOSED = "closed", "Closed"


class StepKind(models.TextChoices):
    CREATED = "created", "Event raised"
    NOTIFIED = "notified", "Staff notified"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ESCALATED = "escalated", "Escalated"
    CSSRS_PROMPTED = "cssrs_prompted", "Same-day C-SSRS prompted"
    SAFETY_PLAN_PROMPTED = "safety_plan_prompted", "Safety-plan review prompted"
    OUT_OF_BAND = "out_of_band", "Out-of-band alert"
    CSSRS_DONE = "cssrs_done", "C-SSRS done"
    SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", "Safety plan reviewed"
    NOTE = "note", "Note"
    HELP_PRESSED = "help_pressed", "\u201cI need help now\u201d pressed again"
    CLOSED = "closed", "Closed"


class NotificationReason(models.TextChoices):
    CLINICIAN_OF_RECORD = "clinician_of_record", "Clinician of record"
    ON_CALL = "on_call", "On call"
    ESCALATION = "escalation", "Escalation"


class SafetyEvent(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="safety_events"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    detail = models.CharField(max_length=500, blank=True)
    # The measures assessment that raised it, as an opaque id (no foreign key across apps
    # that may ship separately).
    assessment_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    # Closing needs a recorded C-SSRS and safety-plan review, or the reason each was not done.
    cssrs_not_done_reason = models.TextField(blank=True)
    safety_plan_not_reviewed_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="safety_event_source_valid", condition=Q(source__in=Source.values)
            ),
            models.CheckConstraint(
                name="safety_event_severity_valid", condition=Q(severity__in=Severity.values)
            ),
            models.CheckConstraint(
                name="safety_event_status_valid", condition=Q(status__in=EventStatus.values)
            ),
            # Acknowledged and closed events say who acknowledged them and when.
            models.CheckConstraint(
                name="safety_event_ack_recorded",
                condition=Q(status="open")
                | Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
            ),
            # A closed event has an outcome and a closer.
            models.CheckConstraint(
                name="safety_event_close_recorded",
                condition=~Q(status="closed")
                | (Q(closed_by__isnull=False, closed_at__isnull=False) & ~Q(outcome="")),
            ),
        ]
        indexes = [
            models.Index(
                fields=["program", "participant"],
                condition=~Q(status="closed"),
                name="safety_event_not_closed",
            )
        ]
        ordering = ["created_at", "id"]

    @property
    def is_open(self) -> bool:
        return self.status == EventStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == EventStatus.CLOSED

    @property
    def is_high_risk(self) -> bool:
        return self.severity == Severity.HIGH


class SafetyEventStep(BaseModel):
    """One thing that happened to an event. `by` is empty for the system (escalation)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(SafetyEvent, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=24, choices=StepKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="safety_step_kind_valid", condition=Q(kind__in=StepKind.values)
            ),
        ]
        ordering = ["at", "id"]

    @property
    def participant(self) -> Participant:
        return self.event.participant


class SafetyNotification(BaseModel):
    """The in-app copy of an alert to one staff member; the notifier backend sends the rest."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(SafetyEvent, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="safety_notifications"
    )
    reason = models.CharField(max_length=24, choices=NotificationReason.choices)
    level = models.PositiveSmallIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "level"], name="safety_notification_once_per_level"
            ),
            models.CheckConstraint(
                name="safety_notification_reason_valid",
                condition=Q(reason__in=NotificationReason.values),
            ),
        ]
        ordering = ["-created_at", "-id"]
