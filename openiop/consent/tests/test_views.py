"""Consent pages: the happy paths, audited reads, and each view's authorisation twins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from openiop.accounts.models import Membership
from openiop.audit.models import AuditEvent
from openiop.consent.models import Consent, Part2NoticeReceipt
from openiop.consent.tests.helpers import make_consent
from openiop.participants.models import Participant
from openiop.testing import World, today
from tests.routes import web_routes

pytestmark = pytest.mark.django_db

READ_PAGES = ["list", "detail", "disclosures", "disclosures_csv"]
WRITE_PAGES = ["create", "revoke"]


def url(name: str, world: World, consent: Consent | None = None) -> str:
    kwargs = {
        "program_id": world.program_a.external_id,
        "participant_id": world.participant_a.external_id,
    }
    if name in ("detail", "revoke"):
        assert consent is not None
        kwargs["consent_id"] = consent.external_id
    return reverse(f"consent:{name}", kwargs=kwargs)


def consent_form(**overrides) -> dict:
    data = {
        "discloser_name": "Program A",
        "information": ["attendance", "demographics"],
        "recipient_name": "Dr Robin Lee",
        "recipient_type": "individual",
        "purposes": ["treatment"],
        "revocation_acknowledged": "on",
        "expires_on": (today() + timedelta(days=60)).isoformat(),
        "signed_by": "Avery Quillby",
        "signer_relation": "patient",
        "signed_on": (today() - timedelta(days=1)).isoformat(),
    }
    data.update(overrides)
    return data


def test_P2_01_create_consent_through_the_form(world: World, client_for):
    client = client_for(world.intake_a)
    page = client.get(url("create", world))
    assert page.status_code == 200 and b"You may revoke this consent" in page.content
    response = client.post(url("create", world), consent_form())
    consent = Consent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", world, consent)
    detail = client.get(response["Location"]).content.decode()
    assert "Active" in detail and "Dr Robin Lee" in detail


def test_P2_01_form_names_every_missing_element(world: World, client_for):
    blank = dict.fromkeys(consent_form(), "")
    response = client_for(world.clinician_a).post(url("create", world), blank)
    assert response.status_code == 422
    body = response.content.decode()
    assert "error-summary" in body
    for label in (
        "Who may disclose",
        "What information",
        "Recipient&#x27;s name",
        "Recipient type",
        "Purpose (§2.31(a)(5))",
        "right to revoke",
        "Expires on",
        "Signed by (name)",
        "Signer is",
        "Date signed",
    ):
        assert label in body, label
    assert not Consent.objects.exists()


def test_P2_01_revoke_through_the_form(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.clinician_a)
    assert client.get(url("revoke", world, consent)).status_code == 200
    response = client.post(
        url("revoke", world, consent), {"revoked_on": today().isoformat(), "reason": "asked"}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    again = client.post(url("revoke", world, consent), {"revoked_on": today().isoformat()})
    assert again.status_code == 422 and b"already revoked" in again.content


def test_consent_pages_are_audited_reads(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.billing_a)  # billing may view consents (to check coverage)
    assert client.get(url("list", world)).status_code == 200
    assert client.get(url("detail", world, consent)).status_code == 200
    reads = AuditEvent.objects.filter(action="read", actor=world.billing_a)
    assert reads.filter(detail__view="consent_list").count() == 1
    assert reads.filter(detail__view="consent", object_id=str(consent.external_id)).count() == 1


def test_chart_links_to_consent_pages(world: World, client_for):
    chart = reverse(
        "participants:chart",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
        },
    )
    body = client_for(world.clinician_a).get(chart).content.decode()
    assert url("list", world) in body and url("release", world) in body
    billing = client_for(world.billing_a).get(chart).content.decode()
    assert url("list", world) in billing and url("release", world) not in billing


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
def test_consent_pages_are_404_for_another_program(world: World, client_for, name):
    consent = make_consent(world)
    client = client_for(world.clinician_b)
    assert client.get(url(name, world, consent)).status_code == 404
    if name in WRITE_PAGES:
        assert client.post(url(name, world, consent), consent_form()).status_code == 404


@pytest.mark.parametrize("name", WRITE_PAGES)
def test_consent_writes_are_403_without_consent_manage(world: World, client_for, name):
    consent = make_consent(world)
    client = client_for(world.billing_a)
    assert client.get(url(name, world, consent)).status_code == 403
    data = consent_form() if name == "create" else {"revoked_on": today().isoformat()}
    assert client.post(url(name, world, consent), data).status_code == 403
    consent.refresh_from_db()
    assert Consent.objects.count() == 1 and consent.revoked_at is None


@pytest.mark.parametrize("name", READ_PAGES)
def test_consent_reads_are_403_without_consent_view(world: World, client_for, name):
    consent = make_consent(world)
    Membership.objects.filter(user=world.billing_a).update(role="admin")
    assert client_for(world.billing_a).get(url(name, world, consent)).status_code == 403


def test_AC_02_isolation_walk_with_a_real_consent(world: World, client_for):
    """tests/routes.py fills consent_id with A's real consent: B still sees nothing."""
    consent = make_consent(world)
    routes = [r for r in web_routes(world) if r.name.startswith("consent:")]
    assert len(routes) == 7 and any(str(consent.external_id) in r.path for r in routes)
    outsider = client_for(world.clinician_b)
    member = client_for(world.clinician_a, stepped_up=True)
    for route in routes:
        assert outsider.get(route.path).status_code == 404, route.name
        assert member.get(route.path).status_code == 200, route.name


# --- §2.22 notice receipt at admission ------------------------------------------------------


def admit_form(world: World, **overrides) -> dict:
    data = {
        "legal_first_name": "Jordan",
        "legal_last_name": "Thistlewick",
        "date_of_birth": "1992-04-05",
        "sex_for_scoring": "unknown",
        "track": str(world.track_a.external_id),
        "admitted_on": today().isoformat(),
        "primary_clinician": str(world.clinician_a.external_id),
        "phase": "engagement",
    }
    data.update(overrides)
    return data


def _admit_url(world: World) -> str:
    return reverse("participants:admit", kwargs={"program_id": world.program_a.external_id})


def test_admit_records_part2_notice_receipt(world: World, client_for):
    client = client_for(world.intake_a)
    response = client.post(_admit_url(world), admit_form(world, part2_notice_given="on"))
    assert response.status_code == 302
    receipt = Part2NoticeReceipt.objects.get()
    assert receipt.participant.legal_last_name == "Thistlewick"
    assert receipt.created_by == world.intake_a
    assert AuditEvent.objects.filter(action="create", object_id=str(receipt.external_id)).exists()


def test_admit_without_the_box_records_no_receipt(world: World, client_for):
    client_for(world.intake_a).post(_admit_url(world), admit_form(world))
    assert Participant.objects.filter(legal_last_name="Thistlewick").exists()
    assert not Part2NoticeReceipt.objects.exists()


def test_admit_and_receipt_commit_together(world: World, client_for, monkeypatch):
    from openiop.core.errors import ActionError
    from openiop.participants import actions

    def refuse(**kwargs):
        raise ActionError({"given_on": "refused for the test"})

    monkeypatch.setattr(actions, "part2_notice_receipt_record", refuse)
    response = client_for(world.intake_a).post(
        _admit_url(world), admit_form(world, part2_notice_given="on")
    )
    assert response.status_code == 422
    assert not Participant.objects.filter(legal_last_name="Thistlewick").exists()
