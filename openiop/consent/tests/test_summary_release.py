"""`participant_summary_release`: the "Release participant summary" page's write as an
action. It builds the summary and passes exactly those bytes through the gate, validated,
audited and atomic."""

from __future__ import annotations

from typing import Any

import pytest

from openiop.audit.models import AuditEvent
from openiop.consent.actions import participant_summary_release
from openiop.consent.models import Disclosure, Part2Notice, sha256_hex
from openiop.consent.selectors import current_notice
from openiop.consent.summary import SUMMARY_INFORMATION, notice_header
from openiop.consent.tests.helpers import RECIPIENT, make_consent
from openiop.core.errors import ActionError
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _release(world: World, **overrides):
    call: dict[str, Any] = {
        "actor": world.clinician_a,
        "participant": world.participant_a,
        "recipient": RECIPIENT,
        "purpose": "treatment",
        "basis": "consent",
    }
    call.update(overrides)
    return participant_summary_release(**call)


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_release_builds_the_summary_records_and_audits_the_disclosure(world: World):
    consent = make_consent(world)
    disclosure, content = _release(world, consent=consent)
    notice = current_notice(on=today())
    assert notice is not None
    assert content.startswith(notice_header(notice).encode())
    body = content.decode()
    assert "Scope of the consent (42 CFR 2.32(b))" in body and str(consent.external_id) in body
    assert world.participant_a.legal_name in body and "AM track" in body
    assert disclosure.content_sha256 == sha256_hex(content)
    assert disclosure.information == list(SUMMARY_INFORMATION)
    assert disclosure.consent == consent and disclosure.notice == notice
    event = AuditEvent.objects.get(action="disclose", object_id=str(disclosure.external_id))
    assert event.actor == world.clinician_a


def test_non_consent_release_states_no_consent_scope(world: World):
    disclosure, content = _release(
        world,
        basis="medical_emergency",
        recipient="County ED",
        basis_details={"medical_personnel": "Dr Ola Ede", "nature_of_emergency": "Overdose"},
    )
    assert disclosure.basis == "medical_emergency"
    assert b"Scope of the consent" not in content


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"basis": "friendship"}, "basis"),
        ({"purpose": "curiosity"}, "purpose"),
        ({"recipient": "Someone Else"}, "recipient"),  # refused by the gate
        ({"basis": "medical_emergency"}, "medical_personnel"),
    ],
)
def test_refused_release_names_the_field_and_saves_nothing(world: World, overrides, field):
    consent = make_consent(world)
    since = _last_seq()
    with pytest.raises(ActionError) as refused:
        _release(world, **{"consent": consent if "basis" not in overrides else None, **overrides})
    assert field in refused.value.errors
    assert not Disclosure.objects.exists()
    assert _last_seq() == since


def test_release_without_a_stored_notice_is_refused(world: World, monkeypatch):
    consent = make_consent(world)
    monkeypatch.setattr("openiop.consent.actions.current_notice", lambda *a, **k: None)
    with pytest.raises(ActionError) as refused:
        _release(world, consent=consent)
    assert "notice" in refused.value.errors
    assert not Disclosure.objects.exists()
    assert Part2Notice.objects.exists()


def test_release_keeps_no_disclosure_when_its_audit_fails(world: World, monkeypatch):
    consent = make_consent(world)
    since = _last_seq()

    def fail(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("openiop.consent.actions.audit_record", fail)
    with pytest.raises(RuntimeError):
        _release(world, consent=consent)
    assert not Disclosure.objects.exists()
    assert _last_seq() == since


def test_the_page_releases_what_the_action_builds(world: World, client_for):
    from django.urls import reverse

    consent = make_consent(world)
    path = reverse(
        "consent:release",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
        },
    )
    client = client_for(world.clinician_a, stepped_up=True)
    form = {
        "basis": "consent",
        "consent": str(consent.external_id),
        "recipient": RECIPIENT,
        "purpose": "treatment",
    }
    page = client.post(path, form)
    assert page.status_code == 200
    _, content = _release(world, consent=consent)
    assert page.content == content
