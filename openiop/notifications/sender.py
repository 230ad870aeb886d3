"""Sends what is due, from the worker only (pages enqueue, never send).

Every send and failure is logged on the OutboundMessage row; a failure retries with
exponential backoff up to OPENIOP_NOTIFY_MAX_ATTEMPTS, then the row is `failed`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from openiop.core import clock
from openiop.notifications import sms, texts
from openiop.notifications.models import (
    Channel,
    ContactConsent,
    OutboundMessage,
    SmsOptOut,
    Status,
)
from openiop.notifications.quiet import send_after

logger = logging.getLogger(__name__)


def has_consent(participant_id: int, channel: str) -> bool:
    return ContactConsent.objects.filter(
        participant_id=participant_id, channel=channel, withdrawn_at__isnull=True
    ).exists()


def sms_stopped(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=normalise_phone(phone), opted_out=True).exists()


def normalise_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10:  # a US number without its country code
        digits = "1" + digits
    return "+" + digits


def _hold(message: OutboundMessage) -> str | None:
    """Why the message must not go (a status), or None."""
    participant = message.participant
    if participant is None:
        return None
    pref = getattr(participant, "contact_preference", None)
    if pref is None or not pref.channel_on(message.channel):
        return Status.SUPPRESSED
    if message.channel == Channel.IN_APP:
        return None
    if not has_consent(participant.pk, message.channel):
        return Status.SUPPRESSED
    if message.channel == Channel.SMS:
        if not participant.phone:
            return Status.SUPPRESSED
        if sms_stopped(participant.phone):
            return Status.STOPPED
    if message.channel == Channel.EMAIL and not participant.email:
        return Status.SUPPRESSED
    return None


def _deliver(message: OutboundMessage) -> str:
    participant = message.participant
    assert participant is not None
    program = participant.program
    if message.channel == Channel.SMS:
        body = texts.sms_text(message.kind, message.event_at, program)
        return sms.provider().send(normalise_phone(participant.phone), body)
    if message.channel == Channel.EMAIL:
        body = texts.email_text(
            message.kind, message.event_at, program, settings.OPENIOP_PORTAL_URL
        )
        send_mail(texts.EMAIL_SUBJECT, body, None, [participant.email])
        return ""
    return ""  # in-app: the row itself is the notification


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.OPENIOP_NOTIFY_RETRY_SECONDS * 2 ** (attempts - 1))


def send_one(message: OutboundMessage, now: datetime) -> str:
    hold = _hold(message)
    if hold is not None:
        message.status = hold
        message.save(update_fields=["status", "updated_at"])
        return hold
    message.attempts += 1
    try:
        message.provider_message_id = _deliver(message)
    # Any provider failure is logged and retried, never raised into the sweep.
    except Exception as error:  # noqa: BLE001
        message.last_error_code = getattr(error, "code", type(error).__name__)[:64]
        if message.attempts >= settings.OPENIOP_NOTIFY_MAX_ATTEMPTS:
            message.status = Status.FAILED
        else:
            message.send_after = _retry_at(message, now)
        logger.warning("notification %s failed: %s", message.external_id, message.last_error_code)
    else:
        message.status = Status.SENT
        message.sent_at = now
    message.save()
    return message.status


def _retry_at(message: OutboundMessage, now: datetime) -> datetime:
    # getattr: see planner._plan_one (the reverse one-to-one, unknown to mypy's plugin).
    pref = getattr(message.participant, "contact_preference", None) if message.participant else None
    retry = now + _backoff(message.attempts)
    if pref is None or message.participant is None:
        return retry
    return send_after(retry, pref.quiet_start, pref.quiet_end, message.participant.program)


def send_due(now: datetime | None = None) -> int:
    now = now or clock.now()
    sent = 0
    ids = list(
        OutboundMessage.objects.filter(status=Status.QUEUED, send_after__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        with transaction.atomic():
            # Row lock: several workers may sweep at once; only one sends each message.
            message = (
                OutboundMessage.objects.select_for_update(of=("self",))
                .select_related("participant__program", "participant__contact_preference")
                .filter(pk=pk, status=Status.QUEUED)
                .first()
            )
            if message is None:
                continue
            sent += send_one(message, now) == Status.SENT
    return sent
