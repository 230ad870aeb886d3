"""P2-03: every release carries the stored §2.32 notice verbatim and is entered in the
accounting of disclosures (date, recipient, what, purpose, basis, user). Plus the release
page's authorisation twins: no RECORD_DISCLOSE -> 403, outsider -> 404, no step-up -> 403."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEvent
from openiop.consent.models import Disclosure, Part2Notice, sha256_hex
from openiop.consent.selectors import current_notice
from openiop.consent.tests.helpers import RECIPIENT, disclose, make_consent
from openiop.testing import World, today

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "part2_notice_header.txt"
DATA = Path(__file__).parent.parent / "data" / "part2_notices.json"


def url(name: str, world: World, **kwargs) -> str:
    return reverse(
        f"consent:{name}",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
            **kwargs,
        },
    )


def release_form(consent=None, **overrides) -> dict:
    data = {
        "basis": "consent",
        "consent": str(consent.external_id) if consent else "",
        "recipient": RECIPIENT,
        "purpose": "treatment",
    }
    data.update(overrides)
    return data


def test_P2_03_stored_notice_is_the_published_text_and_intact(world: World):
    notice = current_notice(on=today())
    assert notice is not None and notice.is_intact
    published = json.loads(DATA.read_text(encoding="utf-8"))["notices"][0]
    assert (notice.version, notice.text) == (published["version"], published["text"])
    assert notice.text.startswith(
        "This record which has been disclosed to you is protected by Federal confidentiality "
        "rules (42 CFR part 2)."
    )


def test_P2_03_released_summary_starts_with_the_notice_verbatim(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.clinician_a, stepped_up=True)
    response = client.post(url("release", world), release_form(consent))
    assert response.status_code == 200, response.content
    golden = GOLDEN.read_bytes()
    assert response.content.startswith(golden)
    assert response["Content-Type"].startswith("text/plain")
    disclosure = Disclosure.objects.get()
    notice = current_notice(on=today())
    assert disclosure.notice == notice
    assert golden.decode().startswith(notice.text)
    assert disclosure.content_sha256 == sha256_hex(response.content)
    body = response.content.decode()
    for text in ("Avery Quillby", "AM track", "Engagement", str(world.clinician_a)):
        assert text in body
    assert "Scope of the consent (42 CFR 2.32(b))" in body and str(consent.external_id) in body


def test_P2_03_filename_and_url_carry_no_name(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.clinician_a, stepped_up=True)
    response = client.post(url("release", world), release_form(consent))
    disposition = response["Content-Disposition"]
    disclosure = Disclosure.objects.get()
    assert disposition == f'attachment; filename="part2-release-{disclosure.external_id}.txt"'
    for name in ("Avery", "Quillby", world.participant_a.record_number):
        assert name not in disposition and name not in url("release", world)


def test_P2_03_each_disclosure_records_the_notice_version(world: World):
    consent = make_consent(world)
    first = disclose(world, consent=consent)
    newer = Part2Notice.objects.create(
        kind="redisclosure_notice",
        version="test-next",
        text=first.notice.text,
        effective_from=first.notice.effective_from.replace(year=2025),
        sha256=first.notice.sha256,
    )
    second = disclose(world, consent=consent)
    assert first.notice.version == "2024-89FR12472-2.32a1"
    assert second.notice == newer
    event = AuditEvent.objects.get(action="disclose", object_id=str(second.external_id))
    assert event.detail["notice_version"] == "test-next"


def test_P2_03_emergency_release_needs_its_details(world: World, client_for):
    client = client_for(world.clinician_a, stepped_up=True)
    refused = client.post(url("release", world), release_form(basis="medical_emergency"))
    assert refused.status_code == 422
    assert b"error-summary" in refused.content and b"Medical personnel" in refused.content
    assert not Disclosure.objects.exists()
    allowed = client.post(
        url("release", world),
        release_form(
            basis="medical_emergency",
            recipient="County ED",
            medical_personnel="Dr Ola Ede",
            nature_of_emergency="Overdose",
        ),
    )
    assert allowed.status_code == 200
    assert Disclosure.objects.get().basis_details["medical_personnel"] == "Dr Ola Ede"


def test_P2_03_revoked_consent_is_not_offered_nor_accepted(world: World, client_for):
    from openiop.consent.actions import consent_revoke
    from openiop.core.clock import program_today

    consent = make_consent(world)
    consent_revoke(
        actor=world.clinician_a,
        consent=consent,
        revoked_on=program_today(world.program_a),
        reason="",
    )
    client = client_for(world.clinician_a, stepped_up=True)
    assert str(consent.external_id).encode() not in client.get(url("release", world)).content
    response = client.post(url("release", world), release_form(consent))
    assert response.status_code == 422
    assert not Disclosure.objects.exists()


def test_P2_03_accounting_report_lists_every_required_column(world: World, client_for):
    consent = make_consent(world)
    disclose(world, consent=consent, information=["attendance", "demographics"])
    disclose(
        world,
        basis="court_order",
        recipient="Superior Court",
        purpose="court",
        basis_details={"order_reference": "Case 24-CV-1182"},
    )
    client = client_for(world.supervisor_a)
    page = client.get(url("disclosures", world)).content.decode()
    for text in (
        "Date and time",
        RECIPIENT,
        "Superior Court",
        "Identity and contact details; Attendance",
        "Treatment",
        "Court or legal proceeding",
        "Written consent",
        "Court order",
        "Case 24-CV-1182",
        str(world.clinician_a),
    ):
        assert text in page, text
    rows = list(csv.reader(io.StringIO(client.get(url("disclosures_csv", world)).content.decode())))
    assert rows[0][:6] == [
        "Date and time (UTC)",
        "Recipient",
        "Information",
        "Purpose",
        "Basis",
        "User",
    ]
    assert {r[1] for r in rows[1:]} == {RECIPIENT, "Superior Court"}
    assert all(r[5] == str(world.clinician_a) for r in rows[1:])


def test_P2_03_report_pages_are_audited_reads(world: World, client_for):
    client = client_for(world.clinician_a)
    client.get(url("disclosures", world))
    client.get(url("disclosures_csv", world))
    events = AuditEvent.objects.filter(participant_external_id=world.participant_a.external_id)
    assert events.filter(action="read", detail__view="disclosure_report").count() == 1
    assert events.filter(action="export", detail__view="disclosure_report_csv").count() == 1


def test_P2_03_report_query_count_does_not_grow(
    world: World, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician_a)
    consent = make_consent(world)
    disclose(world, consent=consent)
    client.get(url("disclosures", world))  # warm the session and caches
    with django_assert_max_num_queries(30) as one:
        client.get(url("disclosures", world))
    for _ in range(4):
        disclose(world, consent=consent)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url("disclosures", world))


# --- authorisation twins for the release page ---------------------------------------------


def test_release_needs_record_disclose(world: World, client_for):
    client = client_for(world.billing_a, stepped_up=True)
    assert client.get(url("release", world)).status_code == 403
    consent = make_consent(world)
    assert client.post(url("release", world), release_form(consent)).status_code == 403
    assert not Disclosure.objects.exists()


def test_release_is_404_for_another_program(world: World, client_for):
    client = client_for(world.clinician_b, stepped_up=True)
    assert client.get(url("release", world)).status_code == 404
    assert client.post(url("release", world), release_form()).status_code == 404


def test_AUTH_07_release_needs_step_up(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.clinician_a)  # logged in with MFA, but no recent re-auth
    assert client.get(url("release", world)).status_code == 403
    assert client.post(url("release", world), release_form(consent)).status_code == 403
    assert not Disclosure.objects.exists()
