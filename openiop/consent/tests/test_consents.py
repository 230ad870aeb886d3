"""P2-01: consents hold every §2.31(a) element; incomplete ones are unusable; revocation
applies at once; expiry ends a consent without anyone acting."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from openiop.audit.models import AuditEvent
from openiop.consent.actions import consent_create, consent_revoke
from openiop.consent.models import Consent, ConsentStatus
from openiop.consent.selectors import revocation_statement
from openiop.consent.tests.helpers import disclose, make_consent, terms
from openiop.core.clock import program_today
from openiop.core.errors import ActionError, ConflictError
from openiop.testing import World, today

pytestmark = pytest.mark.django_db

# One case per §2.31(a) element: the terms that leave it out, and the field that must be named.
MISSING_ELEMENTS = [
    pytest.param({"discloser_name": ""}, "discloser_name", id="who_may_disclose"),
    pytest.param({"information": []}, "information", id="what_information"),
    pytest.param({"recipient_name": " "}, "recipient_name", id="recipient_name"),
    pytest.param({"recipient_type": ""}, "recipient_type", id="recipient_type"),
    pytest.param({"purposes": []}, "purposes", id="purpose"),
    pytest.param({"purposes": ["other"]}, "purpose_text", id="other_purpose_text"),
    pytest.param({"revocation_acknowledged": False}, "revocation_acknowledged", id="revoke_right"),
    pytest.param({"expires_on": None, "expiry_event": ""}, "expires_on", id="expiry"),
    pytest.param({"signed_by": ""}, "signed_by", id="signature"),
    pytest.param({"signer_relation": ""}, "signer_relation", id="signer_relation"),
    pytest.param(
        {"signer_relation": "guardian", "signer_authority": ""},
        "signer_authority",
        id="signer_authority",
    ),
    pytest.param({"signed_on": None}, "signed_on", id="date_signed"),
]


def test_P2_01_complete_consent_is_active_and_audited(world: World):
    consent = make_consent(world)
    assert consent.status_on(program_today(world.program_a)) == ConsentStatus.ACTIVE
    version, text = revocation_statement()
    assert (consent.revocation_statement_version, consent.revocation_statement) == (version, text)
    assert AuditEvent.objects.filter(action="create", object_id=str(consent.external_id)).exists()


@pytest.mark.parametrize(("overrides", "field"), MISSING_ELEMENTS)
def test_P2_01_missing_element_is_rejected(world: World, overrides, field):
    with pytest.raises(ActionError) as caught:
        make_consent(world, **overrides)
    assert field in caught.value.errors
    assert not Consent.objects.exists()


def test_P2_01_missing_patient_is_rejected(world: World):
    with pytest.raises(ActionError) as caught:
        consent_create(actor=world.clinician_a, participant=None, terms=terms())
    assert "participant" in caught.value.errors


def test_P2_01_every_missing_element_is_named_at_once(world: World):
    with pytest.raises(ActionError) as caught:
        consent_create(actor=world.clinician_a, participant=None, terms=terms(**_all_blank()))
    assert set(caught.value.errors) >= {
        "participant",
        "discloser_name",
        "information",
        "recipient_name",
        "recipient_type",
        "purposes",
        "revocation_acknowledged",
        "expires_on",
        "signed_by",
        "signer_relation",
        "signed_on",
    }


def _all_blank() -> dict:
    return {
        "discloser_name": "",
        "information": [],
        "recipient_name": "",
        "recipient_type": "",
        "purposes": [],
        "revocation_acknowledged": False,
        "expires_on": None,
        "signed_by": "",
        "signer_relation": "",
        "signed_on": None,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"information": ["attendance", "gossip"]}, "information"),
        ({"purposes": ["marketing"]}, "purposes"),
        ({"recipient_type": "friend"}, "recipient_type"),
        ({"signed_on": today() + timedelta(days=3)}, "signed_on"),
        ({"expires_on": today() - timedelta(days=30)}, "expires_on"),
    ],
)
def test_P2_01_invalid_element_values_are_named(world: World, overrides, field):
    with pytest.raises(ActionError) as caught:
        make_consent(world, **overrides)
    assert field in caught.value.errors


def test_P2_01_expiry_event_alone_is_enough(world: World):
    consent = make_consent(world, expires_on=None, expiry_event="On discharge from the program")
    assert consent.status_on(program_today(world.program_a)) == ConsentStatus.ACTIVE


def test_P2_01_row_that_loses_an_element_is_incomplete_and_unusable(world: World):
    consent = make_consent(world)
    Consent.objects.filter(pk=consent.pk).update(revocation_acknowledged=False)
    consent.refresh_from_db()
    assert consent.status_on(program_today(world.program_a)) == ConsentStatus.INCOMPLETE
    with pytest.raises(ActionError) as caught:
        disclose(world, consent=consent)
    assert "consent" in caught.value.errors


def test_P2_01_revocation_applies_at_once(world: World):
    consent = make_consent(world)
    disclose(world, consent=consent)  # usable before
    today = program_today(world.program_a)
    consent_revoke(actor=world.clinician_a, consent=consent, revoked_on=today, reason="asked")
    consent.refresh_from_db()
    assert consent.status_on(today) == ConsentStatus.REVOKED
    assert consent.revoked_at is not None and consent.revoked_by == world.clinician_a
    with pytest.raises(ActionError) as caught:
        # The stale in-memory object still says "not revoked": the gate re-reads the row.
        disclose(world, consent=Consent(pk=consent.pk))
    assert "revoked" in caught.value.errors["consent"][0]


def test_P2_01_revocation_is_not_repeated_or_dated_ahead(world: World):
    consent = make_consent(world)
    today = program_today(world.program_a)
    with pytest.raises(ActionError) as caught:
        consent_revoke(
            actor=world.clinician_a,
            consent=consent,
            revoked_on=today + timedelta(days=2),
            reason="",
        )
    assert "revoked_on" in caught.value.errors
    consent_revoke(actor=world.clinician_a, consent=consent, revoked_on=today, reason="")
    with pytest.raises(ConflictError):
        consent_revoke(actor=world.clinician_a, consent=consent, revoked_on=today, reason="")


def test_P2_01_consent_expires_on_its_date(world: World):
    consent = make_consent(world, expires_on=today() + timedelta(days=5))
    disclose(world, consent=consent)
    later = timezone.now() + timedelta(days=7)
    with time_machine.travel(later, tick=False):
        assert consent.status_on(program_today(world.program_a)) == ConsentStatus.EXPIRED
        with pytest.raises(ActionError) as caught:
            disclose(world, consent=consent)
        assert "expired" in caught.value.errors["consent"][0]


def test_P2_01_consents_are_never_deleted(world: World):
    consent = make_consent(world)
    with pytest.raises(PermissionError):
        consent.delete()
    assert Consent.objects.filter(pk=consent.pk).exists()
