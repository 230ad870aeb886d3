"""Preference and consent writes are validated and audited."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.notifications import actions
from openiop.notifications.models import ContactConsent

pytestmark = pytest.mark.django_db


def test_preferences_and_consent_are_audited(world: Any) -> None:
    person, staff = world.participant_a, world.clinician_a
    before = AuditEvent.objects.count()
    pref = actions.contact_preference_update(
        actor=staff, participant=person, sms_on=True, quiet_start=time(22, 0)
    )
    assert pref.sms_on and pref.quiet_start == time(22, 0)
    actions.contact_consent_record(actor=staff, participant=person, channel="sms", method="staff")
    assert actions.contact_consent_withdraw(actor=staff, participant=person, channel="sms") == 1
    assert ContactConsent.objects.get().withdrawn_at is not None
    assert AuditEvent.objects.count() == before + 3


def test_bad_input_names_the_field(world: Any) -> None:
    with pytest.raises(ActionError) as bad_field:
        actions.contact_preference_update(
            actor=world.clinician_a, participant=world.participant_a, colour="red"
        )
    assert "colour" in bad_field.value.errors
    with pytest.raises(ActionError) as bad_channel:
        actions.contact_consent_record(
            actor=world.clinician_a, participant=world.participant_a, channel="fax", method="staff"
        )
    assert "channel" in bad_channel.value.errors
