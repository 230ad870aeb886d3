"""P2-02: one gate for every release; it allows only a valid consent covering recipient,
information and purpose, or a recorded non-consent basis with its required details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from openiop.audit.models import AuditEvent
from openiop.consent.actions import consent_revoke
from openiop.consent.models import Disclosure, sha256_hex
from openiop.consent.selectors import current_notice
from openiop.consent.tests.helpers import RECIPIENT, disclose, make_consent, released
from openiop.core.clock import program_today
from openiop.core.errors import ActionError
from openiop.testing import World, today

pytestmark = pytest.mark.django_db

EMERGENCY = {"medical_personnel": "Dr Ola Ede, ED attending", "nature_of_emergency": "Overdose"}
ALLOWED = None

# (consent spec, call overrides, fields the gate must name -- or ALLOWED).
# consent spec: None = no consent; a dict = consent terms overrides, with "_revoked" to revoke
# it first and "_other_participant" to make it another participant's consent.
CASES: list[Any] = [
    pytest.param({}, {}, ALLOWED, id="consent-covers-everything"),
    pytest.param(
        {"information": ["all_sud_records"]},
        {"information": ["diagnosis", "medications", "attendance"]},
        ALLOWED,
        id="consent-all-sud-records-covers-any-category",
    ),
    pytest.param({}, {"recipient": "  dr  ROBIN lee "}, ALLOWED, id="recipient-case-and-spaces"),
    pytest.param(
        {"purposes": ["treatment", "payment"]}, {"purpose": "payment"}, ALLOWED, id="2nd-purpose"
    ),
    pytest.param({}, {"recipient": "Dr Someone Else"}, {"recipient"}, id="wrong-recipient"),
    pytest.param(
        {"information": ["attendance"]},
        {"information": ["attendance", "diagnosis"]},
        {"information"},
        id="information-not-covered",
    ),
    pytest.param({}, {"purpose": "payment"}, {"purpose"}, id="purpose-not-covered"),
    pytest.param({"_revoked": True}, {}, {"consent"}, id="revoked-consent"),
    pytest.param(
        {
            "signed_on": today() - timedelta(days=30),
            "expires_on": today() - timedelta(days=2),
        },
        {},
        {"consent"},
        id="expired-consent",
    ),
    pytest.param({"_other_participant": True}, {}, {"consent"}, id="another-participants-consent"),
    pytest.param(None, {}, {"consent"}, id="consent-basis-without-consent"),
    pytest.param({}, {"information": []}, {"information"}, id="no-information-named"),
    pytest.param({}, {"information": ["secrets"]}, {"information"}, id="unknown-information"),
    pytest.param({}, {"purpose": "marketing"}, {"purpose"}, id="unknown-purpose"),
    pytest.param(
        {"purposes": ["other"], "purpose_text": "Housing application"},
        {"purpose": "other"},
        {"purpose_text"},
        id="other-purpose-without-text",
    ),
    pytest.param(None, {"basis": "gossip"}, {"basis"}, id="unknown-basis"),
    pytest.param(
        None, {"basis": "medical_emergency", "basis_details": EMERGENCY}, ALLOWED, id="emergency"
    ),
    pytest.param(
        None,
        {"basis": "medical_emergency"},
        {"medical_personnel", "nature_of_emergency"},
        id="emergency-without-details",
    ),
    pytest.param(
        None,
        {"basis": "medical_emergency", "basis_details": {"medical_personnel": "Dr Ede"}},
        {"nature_of_emergency"},
        id="emergency-without-nature",
    ),
    pytest.param(
        {},
        {"basis": "medical_emergency", "basis_details": EMERGENCY, "_cite_consent": True},
        {"consent"},
        id="emergency-citing-a-consent",
    ),
    pytest.param(None, {"basis": "audit_evaluation"}, ALLOWED, id="audit-evaluation"),
    pytest.param(
        None,
        {"basis": "court_order", "basis_details": {"order_reference": "Case 24-CV-1182"}},
        ALLOWED,
        id="court-order",
    ),
    pytest.param(
        None, {"basis": "court_order"}, {"order_reference"}, id="court-order-no-reference"
    ),
    pytest.param(
        None,
        {"basis": "court_order", "basis_details": {"order_reference": "   "}},
        {"order_reference"},
        id="court-order-blank-reference",
    ),
    pytest.param(
        None,
        {"basis": "audit_evaluation", "basis_details": {"favourite_colour": "blue"}},
        {"favourite_colour"},
        id="detail-foreign-to-basis",
    ),
    pytest.param({}, {"content": b"no notice here"}, {"content"}, id="content-without-notice"),
    pytest.param({}, {"content_format": "image/gif"}, {"content_format"}, id="unknown-format"),
]


def _consent_for(world: World, spec: dict[str, Any] | None):
    if spec is None:
        return None
    spec = dict(spec)
    revoked = spec.pop("_revoked", False)
    if spec.pop("_other_participant", False):
        return make_consent(world, participant=world.participant_b, actor=world.clinician_b, **spec)
    consent = make_consent(world, **spec)
    if revoked:
        today = program_today(world.program_a)
        consent_revoke(actor=world.clinician_a, consent=consent, revoked_on=today, reason="")
    return consent


@pytest.mark.parametrize(("consent_spec", "call", "refused"), CASES)
def test_P2_02_gate_decision_table(world: World, consent_spec, call, refused):
    consent = _consent_for(world, consent_spec)
    call = dict(call)
    if call.get("basis", "consent") == "consent" or call.pop("_cite_consent", False):
        call["consent"] = consent
    disclosures_before = Disclosure.objects.count()
    if refused is ALLOWED:
        disclosure = disclose(world, **call)
        assert Disclosure.objects.count() == disclosures_before + 1
        event = AuditEvent.objects.get(action="disclose", object_id=str(disclosure.external_id))
        assert event.participant_external_id == world.participant_a.external_id
        return
    with pytest.raises(ActionError) as caught:
        disclose(world, **call)
    assert set(caught.value.errors) >= refused, caught.value.errors
    assert Disclosure.objects.count() == disclosures_before
    assert not AuditEvent.objects.filter(action="disclose").exists()


def test_P2_02_allowed_disclosure_records_what_was_released(world: World):
    consent = make_consent(world)
    content = released(b"exact bytes")
    disclosure = disclose(world, consent=consent, content=content)
    assert disclosure.content_sha256 == sha256_hex(content)
    assert disclosure.consent == consent and disclosure.basis == "consent"
    assert disclosure.recipient_name == RECIPIENT
    assert disclosure.notice == current_notice(on=today())
    assert disclosure.disclosed_by == world.clinician_a


def test_P2_02_altered_notice_blocks_every_disclosure(world: World):
    notice = current_notice(on=today())
    assert notice is not None
    type(notice).objects.filter(pk=notice.pk).update(text=notice.text + " (edited)")
    with pytest.raises(ActionError) as caught:
        disclose(world, basis="audit_evaluation")
    assert "notice" in caught.value.errors


def test_P2_02_disclosures_are_never_deleted(world: World):
    disclosure = disclose(world, basis="audit_evaluation")
    with pytest.raises(PermissionError):
        disclosure.delete()
