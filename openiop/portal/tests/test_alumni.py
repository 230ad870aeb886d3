"""Alumni accounts (issue 15 §4): at discharge a participant may keep check-ins, the safety plan
and "get help now", with alerts to on-call staff; nothing else of the portal; ends on request,
by staff or after the alumni period, in the program's time zone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings

from openiop.accounts.models import User
from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.participants.actions import enrollment_discharge, enrollment_readmit
from openiop.participants.models import Enrollment
from openiop.portal.alumni import Standing, alumni_end_expired, portal_standing
from openiop.portal.models import AlumniMembership
from openiop.safety.models import NotificationReason, SafetyEvent
from openiop.safety.tests.helpers import on_call
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _discharge(world: World, *, keep_alumni: bool, days_ago: int = 0) -> Enrollment:
    return enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(world.program_a) - timedelta(days=days_ago),
        reason="completed",
        step_down_destination="outpatient",
        keep_alumni=keep_alumni,
    )


def _active(user: User) -> bool:
    user.refresh_from_db()
    return user.is_active


@pytest.fixture
def alumnus(world: World, client_for):
    _discharge(world, keep_alumni=True)
    return client_for(world.participant_user)


def test_discharge_with_alumni_keeps_the_account_for_the_period_and_audits(world: World):
    _discharge(world, keep_alumni=True)
    membership = AlumniMembership.objects.get(participant=world.participant_a)
    discharged = today(world.program_a)
    assert membership.started_on == discharged
    assert membership.ends_on == discharged + timedelta(days=settings.OPENIOP_ALUMNI_DAYS)
    assert _active(world.participant_user)
    assert AuditEvent.objects.filter(
        object_type="portal.alumnimembership", object_id=str(membership.external_id)
    ).exists()
    assert portal_standing(world.participant_a)[0] is Standing.ALUMNI


def test_discharge_without_alumni_ends_portal_access(world: World, client_for):
    me = client_for(world.participant_user)
    _discharge(world, keep_alumni=False)
    assert not AlumniMembership.objects.exists()
    assert not _active(world.participant_user)
    assert me.get("/me/").status_code in (302, 404)


def test_alumni_needs_a_portal_account_and_nothing_is_half_saved(world: World):
    world.participant_a.user = None
    world.participant_a.save(update_fields=["user"])
    with pytest.raises(ActionError) as refused:
        _discharge(world, keep_alumni=True)
    assert "keep_alumni" in refused.value.errors
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.discharged_on is None  # the discharge rolled back with it
    assert not AlumniMembership.objects.exists()


def test_alumni_home_offers_only_alumni_pages(alumnus):
    body = alumnus.get("/me/").content.decode()
    assert "Alumni account" in body and "open until" in body
    for kept in ("/me/check-in/", "/me/safety-plan/", "/me/help/", "/me/alumni/"):
        assert kept in body
    for gone in ("/me/goals/", "/me/diary/", "/me/homework/", "/me/measures/"):
        assert gone not in body


@pytest.mark.parametrize("path", ["/me/check-in/", "/me/safety-plan/", "/me/help/", "/me/alumni/"])
def test_alumni_may_open_their_pages(alumnus, path):
    assert alumnus.get(path).status_code == 200


@pytest.mark.parametrize(
    "path", ["/me/goals/", "/me/diary/", "/me/homework/", "/me/measures/", "/me/measures/phq9/"]
)
def test_alumni_are_refused_episode_pages_with_a_page_that_says_why(alumnus, path):
    response = alumnus.get(path)
    assert response.status_code == 403
    body = response.content.decode()
    assert "alumni account keeps check-ins" in body and "988" in body


def test_alumni_api_keeps_check_ins_and_help_only(alumnus):
    assert alumnus.get("/api/v1/me/check-ins").status_code == 200
    assert alumnus.get("/api/v1/me/safety-plan").status_code == 200
    refused = alumnus.get("/api/v1/me/goals")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert alumnus.get("/api/v1/me/measures").status_code == 403


def test_alumni_check_in_concern_alerts_on_call_staff(world: World, alumnus):
    oncall = on_call(world)
    response = alumnus.post(
        "/me/check-in/",
        {
            "idempotency_key": uuid.uuid4().hex,
            "kind": "daily",
            "mood": "2",
            "craving": "3",
            "used_since_last": "no",
            "sleep_hours": "6",
            "medication": "taken",
            "safety_concern": "yes",
        },
    )
    assert response.status_code in (200, 302)
    event = SafetyEvent.objects.get(participant=world.participant_a)
    told = {(n.recipient_id, n.reason) for n in event.notifications.all()}
    assert (oncall.pk, NotificationReason.ON_CALL) in told
    # No clinician of record after discharge: the discharging clinician is not told as such.
    assert (world.clinician_a.pk, NotificationReason.CLINICIAN_OF_RECORD) not in told


def test_ending_alumni_needs_the_tick_and_then_ends_the_account(world: World, alumnus):
    refused = alumnus.post("/me/alumni/", {})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.content.decode()
    assert AlumniMembership.objects.get().ended_at is None

    ended = alumnus.post("/me/alumni/", {"confirm": "on"})
    assert ended.status_code == 302 and ended["Location"].startswith("/accounts/login")
    membership = AlumniMembership.objects.get()
    assert membership.end_reason == "requested" and membership.ended_at is not None
    assert not _active(world.participant_user)
    assert AuditEvent.objects.filter(
        object_type="portal.alumnimembership", action="update", actor=world.participant_user
    ).exists()


def test_alumni_access_lasts_through_its_last_day_then_the_sweep_ends_it(world: World, client_for):
    _discharge(world, keep_alumni=True)
    membership = AlumniMembership.objects.get()
    me = client_for(world.participant_user)
    # The last day is the program's today: still open, and the sweep leaves it alone.
    AlumniMembership.objects.filter(pk=membership.pk).update(ends_on=today(world.program_a))
    assert me.get("/me/").status_code == 200
    assert alumni_end_expired.call() == 0
    # The last day was yesterday: refused at once, before any worker has run.
    yesterday = today(world.program_a) - timedelta(days=1)
    AlumniMembership.objects.filter(pk=membership.pk).update(
        ends_on=yesterday, started_on=yesterday
    )
    assert me.get("/me/check-in/").status_code == 404
    assert alumni_end_expired.call() == 1
    assert alumni_end_expired.call() == 0
    membership.refresh_from_db()
    assert membership.end_reason == "expired"
    assert not _active(world.participant_user)


def test_readmitted_alumnus_is_in_care_again(world: World, alumnus):
    enrollment_readmit(
        actor=world.clinician_a,
        participant=world.participant_a,
        admitted_on=today(world.program_a),
        track=world.track_a,
        primary_clinician=world.clinician_a,
    )
    assert portal_standing(world.participant_a)[0] is Standing.IN_CARE
    assert alumnus.get("/me/goals/").status_code == 200
    assert "My week" in alumnus.get("/me/").content.decode()


def test_in_care_participant_sees_how_alumni_works_and_cannot_end_anything(
    world: World, client_for
):
    me = client_for(world.participant_user)
    page = me.get("/me/alumni/")
    assert page.status_code == 200 and "Ask them at discharge" in page.content.decode()
    assert me.post("/me/alumni/", {"confirm": "on"}).status_code == 200
    assert _active(world.participant_user)


# --- authorisation twins ------------------------------------------------------------------


def test_alumni_page_refuses_staff_and_anonymous(world: World, client_for, client):
    _discharge(world, keep_alumni=True)
    staff = client_for(world.clinician_a)
    assert staff.post("/me/alumni/", {"confirm": "on"}).status_code == 404
    anonymous = client.post("/me/alumni/", {"confirm": "on"})
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    assert AlumniMembership.objects.get().ended_at is None


def test_staff_discharge_form_offers_alumni_and_keeps_the_account(world: World, client_for):
    staff = client_for(world.clinician_a)
    url = (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}"
        f"/episodes/{world.enrollment_a.external_id}/discharge/"
    )
    page = staff.get(url)
    assert "Keep the portal as an alumni account" in page.content.decode()
    response = staff.post(
        url,
        {
            "discharged_on": today(world.program_a).isoformat(),
            "reason": "completed",
            "step_down_destination": "outpatient",
            "keep_alumni": "on",
        },
    )
    assert response.status_code == 302
    assert AlumniMembership.objects.filter(participant=world.participant_a).exists()
    assert _active(world.participant_user)


def test_api_discharge_keeps_alumni_when_asked(world: World, client_for):
    staff = client_for(world.clinician_a)
    response = staff.post(
        f"/api/v1/programs/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/enrollments/{world.enrollment_a.external_id}/discharge",
        {
            "discharged_on": today(world.program_a).isoformat(),
            "reason": "completed",
            "step_down_destination": "outpatient",
            "keep_alumni": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert AlumniMembership.objects.filter(participant=world.participant_a).exists()


def _chart(world: World) -> str:
    return f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"


def test_chart_shows_alumni_and_staff_end_it_after_confirming(world: World, client_for):
    _discharge(world, keep_alumni=True)
    staff = client_for(world.clinician_a)
    chart = staff.get(_chart(world)).content.decode()
    assert "Alumni account: open until" in chart
    end = f"{_chart(world)}alumni/end/"
    asked = staff.post(end)
    assert asked.status_code == 200 and "alumni account now?" in (asked.content.decode())
    assert AlumniMembership.objects.get().ended_at is None
    done = staff.post(end, {"confirm": "yes"})
    assert done.status_code == 302
    membership = AlumniMembership.objects.get()
    assert membership.end_reason == "staff"
    assert not _active(world.participant_user)
    assert "Alumni account: ended" in staff.get(_chart(world)).content.decode()


def test_staff_without_portal_invite_cannot_end_alumni(world: World, client_for):
    from openiop.accounts.roles import Role
    from openiop.testing import make_staff

    _discharge(world, keep_alumni=True)
    billing = make_staff(world.program_a, Role.BILLING, first="Bea")
    response = client_for(billing).post(f"{_chart(world)}alumni/end/", {"confirm": "yes"})
    assert response.status_code in (403, 404)
    assert AlumniMembership.objects.get().ended_at is None
    # Another program's staff cannot reach it either.
    other = client_for(world.clinician_b)
    assert other.post(f"{_chart(world)}alumni/end/", {"confirm": "yes"}).status_code in (403, 404)
    assert AlumniMembership.objects.get().ended_at is None
