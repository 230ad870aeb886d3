"""security.md Authorisation: break-glass (AC-04) and staff role administration twins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from openiop.accounts.actions import user_set_break_glass
from openiop.accounts.models import BreakGlassGrant, Membership
from openiop.accounts.roles import Role
from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.testing import World, make_program, make_staff

pytestmark = pytest.mark.django_db

REASON = "Participant in crisis at the front desk; on-call clinician unreachable."


@pytest.fixture
def sibling(world: World):
    """A second program in program A's organisation, with its own participant."""
    from openiop.testing import admit, make_track

    program = make_program(org=world.program_a.organisation, name="Sibling IOP")
    track = make_track(program, code="SB")
    clinician = make_staff(program, Role.CLINICIAN)
    participant, _ = admit(program, track, clinician, first="Sage", last="Willowmere")
    return program, participant


def _open(client, program):
    return client.post(
        "/accounts/break-glass/", {"program": str(program.external_id), "reason": REASON}
    )


def test_AC_04_only_designated_users(world: World, client_for, sibling):
    program, _ = sibling
    assert (
        client_for(world.supervisor_a, stepped_up=True).get("/accounts/break-glass/").status_code
        == 403
    )
    assert _open(client_for(world.supervisor_a, stepped_up=True), program).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_AC_04_needs_step_up_and_reason(world: World, client_for, sibling):
    program, _ = sibling
    user_set_break_glass(actor=None, user=world.supervisor_a, designated=True)
    assert _open(client_for(world.supervisor_a), program).status_code == 403  # no step-up
    short = client_for(world.supervisor_a, stepped_up=True).post(
        "/accounts/break-glass/", {"program": str(program.external_id), "reason": "need it"}
    )
    assert short.status_code == 422 and b"Reason:" in short.content
    assert not BreakGlassGrant.objects.exists()


def test_AC_04_grant_is_read_only_flagged_and_time_boxed(world: World, client_for, sibling):
    program, participant = sibling
    user_set_break_glass(actor=None, user=world.supervisor_a, designated=True)
    client = client_for(world.supervisor_a, stepped_up=True)
    base = f"/p/{program.external_id}"
    assert client.get(f"{base}/participants/").status_code == 404  # before the grant
    assert _open(client, program).status_code == 302
    before = AuditEvent.objects.count()
    assert client.get(f"{base}/participants/{participant.external_id}/").status_code == 200
    flagged = AuditEvent.objects.filter(seq__gt=before)
    assert flagged.exists() and all(e.break_glass for e in flagged)
    assert client.get(f"{base}/participants/admit/").status_code == 403  # read-only
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        session = client.session
        session["openiop_last_seen"] = timezone.now().timestamp()
        session.save()
        assert client.get(f"{base}/participants/").status_code == 404


def test_AC_04_grants_are_reported_to_the_program(world: World, client_for, sibling):
    program, _ = sibling
    user_set_break_glass(actor=None, user=world.supervisor_a, designated=True)
    _open(client_for(world.supervisor_a, stepped_up=True), program)
    director = make_staff(program, Role.PROGRAM_DIRECTOR)
    report = client_for(director).get(f"/p/{program.external_id}/break-glass/")
    assert report.status_code == 200 and REASON.encode() in report.content
    clinician = Membership.objects.filter(program=program, role="clinician").get().user
    assert client_for(clinician).get(f"/p/{program.external_id}/break-glass/").status_code == 403


def test_AC_04_not_across_organisations(world: World):
    user_set_break_glass(actor=None, user=world.supervisor_a, designated=True)
    from openiop.accounts.actions import break_glass_start

    with pytest.raises(ActionError) as exc:
        break_glass_start(actor=world.supervisor_a, program=world.program_b, reason=REASON)
    assert "program" in exc.value.errors


def test_staff_roles_page_and_twins(world: World, client_for):
    path = f"/p/{world.program_a.external_id}/staff/"
    page = client_for(world.director_a).get(path)
    assert page.status_code == 200 and world.clinician_a.username.encode() in page.content
    assert client_for(world.clinician_a).get(path).status_code == 403
    assert client_for(world.clinician_b).get(path).status_code == 404


def test_staff_role_revoke_needs_step_up(world: World, client_for):
    membership = world.billing_a.memberships.get()
    path = f"/p/{world.program_a.external_id}/staff/{membership.external_id}/revoke/"
    assert client_for(world.director_a).post(path).status_code == 403
    assert client_for(world.clinician_a, stepped_up=True).post(path).status_code == 403
    director = client_for(world.director_a, stepped_up=True)
    asked = director.post(path)  # destructive: a confirm step first, nothing removed yet
    assert asked.status_code == 200 and b'name="confirm" value="yes"' in asked.content
    membership.refresh_from_db()
    assert membership.is_active
    assert director.post(path, {"confirm": "yes"}).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active


def test_staff_grant_unknown_user_names_field(world: World, client_for):
    response = client_for(world.director_a, stepped_up=True).post(
        f"/p/{world.program_a.external_id}/staff/", {"username": "nobody", "role": "clinician"}
    )
    assert response.status_code == 422 and b"Username:" in response.content


def test_AUTH_01_participant_cannot_be_granted_a_role_in_the_ui(world: World, client_for):
    response = client_for(world.director_a, stepped_up=True).post(
        f"/p/{world.program_a.external_id}/staff/",
        {"username": world.participant_user.username, "role": "clinician"},
    )
    assert response.status_code == 422
    assert not Membership.objects.filter(user=world.participant_user).exists()
