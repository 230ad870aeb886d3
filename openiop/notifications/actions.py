"""Writes: contact preferences and consent to contact, each validated, audited and atomic."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.notifications.models import Channel, ConsentMethod, ContactConsent, ContactPreference
from openiop.participants.models import Participant

PREFERENCE_FIELDS = {
    "email_on",
    "sms_on",
    "in_app_on",
    "session_reminders",
    "check_in_nudges",
    "measure_reminders",
    "day_before_at",
    "nudge_at",
    "quiet_start",
    "quiet_end",
}


def contact_preference_update(
    *, actor: User, participant: Participant, **changes: Any
) -> ContactPreference:
    unknown = set(changes) - PREFERENCE_FIELDS
    if unknown:
        raise ActionError({sorted(unknown)[0]: "not a reminder preference"})
    with transaction.atomic():
        pref, _ = ContactPreference.objects.select_for_update().get_or_create(
            participant=participant, defaults={"created_by": actor}
        )
        for name, value in changes.items():
            setattr(pref, name, value)
        pref.save()
        audit_record(actor=actor, action="update", obj=pref, detail={"fields": sorted(changes)})
    return pref


def contact_consent_record(
    *, actor: User, participant: Participant, channel: str, method: str
) -> ContactConsent:
    if channel not in (Channel.EMAIL, Channel.SMS):
        raise ActionError({"channel": "consent is recorded for email or sms"})
    if method not in ConsentMethod.values:
        raise ActionError({"method": "must be portal or staff"})
    with transaction.atomic():
        consent = ContactConsent.objects.create(
            participant=participant,
            channel=channel,
            method=method,
            recorded_by=actor,
            recorded_at=clock.now(),
            created_by=actor,
        )
        audit_record(
            actor=actor, action="create", obj=consent, detail={"channel": channel, "method": method}
        )
    return consent


def contact_consent_withdraw(*, actor: User, participant: Participant, channel: str) -> int:
    with transaction.atomic():
        rows = list(
            ContactConsent.objects.select_for_update().filter(
                participant=participant, channel=channel, withdrawn_at__isnull=True
            )
        )
        for row in rows:
            row.withdrawn_at = clock.now()
            row.save(update_fields=["withdrawn_at", "updated_at"])
            audit_record(actor=actor, action="update", obj=row, detail={"withdrawn": True})
    return len(rows)
