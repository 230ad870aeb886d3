"""Writes: contact preferences and consent to contact, each validated, audited and atomic."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

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


def _has_consent(participant: Participant, channel: str) -> bool:
    return ContactConsent.objects.filter(
        participant=participant, channel=channel, withdrawn_at__isnull=True
    ).exists()


def _channel_errors(
    participant: Participant, channel: str, turn_on: bool, consents: bool
) -> dict[str, str]:
    """A channel turned on needs somewhere to send and recorded consent (Part 2: contact is
    itself a disclosure that the person is in care)."""
    if not turn_on:
        return {}
    address = participant.email if channel == Channel.EMAIL else participant.phone
    field = f"{channel}_on"
    if not address.strip():
        what = _("an email address") if channel == Channel.EMAIL else _("a mobile number")
        return {
            field: str(_("We have no %(what)s for you. Ask the front desk to add it."))
            % {"what": what}
        }
    if not consents and not _has_consent(participant, channel):
        return {f"{channel}_consent": str(_("Tick the box to agree to reminders this way."))}
    return {}


@transaction.atomic
def reminder_settings_save(
    *,
    actor: User,
    participant: Participant,
    email_on: bool,
    sms_on: bool,
    email_consent: bool,
    sms_consent: bool,
    day_before_at: time,
    quiet_start: time | None,
    quiet_end: time | None,
) -> ContactPreference:
    """The participant's own reminder choices (portal "Reminders"): channels on or off with
    consent recorded when first given; turning a channel off stops it and withdraws its
    consent. All or nothing."""
    errors = {
        **_channel_errors(participant, Channel.EMAIL, email_on, email_consent),
        **_channel_errors(participant, Channel.SMS, sms_on, sms_consent),
    }
    if (quiet_start is None) != (quiet_end is None):
        errors["quiet_end"] = str(_("Give both the start and the end of quiet hours, or neither."))
    if errors:
        raise ActionError(errors)
    for channel, on, agreed in (
        (Channel.EMAIL, email_on, email_consent),
        (Channel.SMS, sms_on, sms_consent),
    ):
        if on and agreed and not _has_consent(participant, channel):
            contact_consent_record(
                actor=actor, participant=participant, channel=channel, method=ConsentMethod.PORTAL
            )
        if not on:
            contact_consent_withdraw(actor=actor, participant=participant, channel=channel)
    return contact_preference_update(
        actor=actor,
        participant=participant,
        email_on=email_on,
        sms_on=sms_on,
        day_before_at=day_before_at,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
