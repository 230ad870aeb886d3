"""Contact preferences, consent to contact, the outbound message log and SMS opt-outs.

Messages carry only fixed neutral texts (42 CFR Part 2: being in the program is itself
protected), so the log stores a kind and a status, never a body.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from openiop.core.models import BaseModel


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    IN_APP = "in_app", "In the portal"


class Kind(models.TextChoices):
    SESSION_DAY_BEFORE = "session_day_before", "Session reminder (day before)"
    SESSION_HOUR_BEFORE = "session_hour_before", "Session reminder (hour before)"
    CHECK_IN = "check_in", "Check-in nudge"
    DIARY_CARD = "diary_card", "Diary card nudge"
    MEASURE_DUE = "measure_due", "Questionnaire due"
    STAFF_ALERT = "staff_alert", "Staff alert"


class ConsentMethod(models.TextChoices):
    PORTAL = "portal", "Participant in the portal"
    STAFF = "staff", "Recorded by staff"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    STOPPED = "stopped", "Stopped (opted out)"


class ContactPreference(BaseModel):
    """One participant's choices; quiet hours are wall-clock times in the program's zone."""

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.CASCADE, related_name="contact_preference"
    )
    email_on = models.BooleanField(default=False)
    sms_on = models.BooleanField(default=False)
    in_app_on = models.BooleanField(default=True)
    session_reminders = models.BooleanField(default=True)
    check_in_nudges = models.BooleanField(default=True)
    measure_reminders = models.BooleanField(default=True)
    day_before_at = models.TimeField(default=time(18, 0))
    nudge_at = models.TimeField(default=time(19, 0))
    quiet_start = models.TimeField(null=True, blank=True, default=time(21, 0))
    quiet_end = models.TimeField(null=True, blank=True, default=time(8, 0))

    def channel_on(self, channel: str) -> bool:
        return {
            Channel.EMAIL: self.email_on,
            Channel.SMS: self.sms_on,
            Channel.IN_APP: self.in_app_on,
        }[Channel(channel)]


class ContactConsent(BaseModel):
    """Consent to be contacted on one channel: who recorded it, when and how (withdrawable)."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="contact_consents"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    method = models.CharField(max_length=16, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["participant", "channel"], name="contact_consent_idx")]


class OutboundMessage(BaseModel):
    """Every planned, sent, failed or held message; `dedupe_key` makes planning idempotent."""

    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=64, blank=True)  # opaque external id of the session etc.
    dedupe_key = models.CharField(max_length=200, unique=True)
    event_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    send_after = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error_code = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "send_after"], name="outbound_due_idx")]


class SmsOptOut(BaseModel):
    """A number that replied STOP (active) or START afterwards (inactive); audited history."""

    phone = models.CharField(max_length=32, unique=True)
    opted_out = models.BooleanField(default=True)
    last_keyword = models.CharField(max_length=16)
    changed_at = models.DateTimeField()
