"""Participant portal pages: each flow saves through its action, errors name the field and
save nothing, and a resend with the same idempotency key never stores twice (REL-01)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from openiop.audit.models import AuditEvent
from openiop.portal.models import CheckIn, DiaryCard, GoalUpdate, HomeworkSubmission, WeeklyGoal
from openiop.portal.selectors import today_for
from openiop.safety.models import SafetyEvent, SafetyNotification
from openiop.testing import World
from openiop.treatment.tests.helpers import make_plan

pytestmark = pytest.mark.django_db


def _first_objective(plan: Any) -> Any:
    from openiop.treatment.models import Objective

    return Objective.objects.filter(goal__problem__plan=plan).order_by("id").first()


def _key() -> str:
    return uuid.uuid4().hex


def checkin_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "idempotency_key": _key(),
        "kind": "daily",
        "mood": "6",
        "craving": "3",
        "used_since_last": "no",
        "sleep_hours": "7",
        "medication": "taken",
        "safety_concern": "no",
        "skills_used": ["TIPP"],
        "bring_to_group": "A hard talk with my sister",
    }
    body.update(overrides)
    return body


def _staff_plan_url(world: World) -> str:
    program, participant = world.program_a.external_id, world.participant_a.external_id
    return f"/p/{program}/participants/{participant}/safety-plan/"


@pytest.fixture
def me(world: World, client_for):
    return client_for(world.participant_user)


PAGES = [
    "/me/",
    "/me/check-in/",
    "/me/help/",
    "/me/goals/",
    "/me/diary/",
    "/me/homework/",
    "/me/safety-plan/",
    "/me/safety-plan/edit/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_portal_page_opens_with_safety_plan_one_tap_away(me, path):
    page = me.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'href="/me/safety-plan/"' in body
    assert 'href="tel:988"' in body
    assert 'href="/me/help/"' in body


@pytest.mark.parametrize("path", PAGES)
def test_staff_never_reach_portal_pages(world: World, client_for, path):
    assert client_for(world.clinician_a).get(path).status_code == 404


def test_checkin_saves_and_is_audited_without_participant_words(world: World, me):
    response = me.post("/me/check-in/", checkin_body())
    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    assert (checkin.mood, checkin.craving, checkin.skills_used) == (6, 3, ["TIPP"])
    event = AuditEvent.objects.filter(object_id=str(checkin.external_id)).get()
    assert event.action == "create"
    assert "sister" not in str(event.detail)


def test_checkin_errors_name_the_field_and_save_nothing(me):
    response = me.post("/me/check-in/", checkin_body(mood="", used_since_last="yes"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Mood right now" in body
    assert "Say what you used" in body or "What did you use" in body
    assert CheckIn.objects.count() == 0


def test_checkin_use_needs_what_and_when(me):
    response = me.post("/me/check-in/", checkin_body(used_since_last="yes"))
    assert response.status_code == 422
    assert "Say what you used" in response.content.decode()
    ok = me.post(
        "/me/check-in/",
        checkin_body(used_since_last="yes", use_what="beer", use_when="2026-11-01T20:00"),
    )
    assert ok.status_code == 302
    assert CheckIn.objects.get().use_what == "beer"


def test_checkin_safety_yes_raises_event_and_alerts_clinician_of_record(world: World, me):
    response = me.post("/me/check-in/", checkin_body(safety_concern="yes"))
    assert response.status_code == 302
    assert response["Location"] == "/me/help/sent/"
    event = SafetyEvent.objects.get()
    assert (event.source, event.participant_id) == ("checkin", world.participant_a.pk)
    assert SafetyNotification.objects.filter(event=event, recipient=world.clinician_a).exists()
    assert CheckIn.objects.get().safety_event_id == event.external_id


def test_REL_01_web_resend_with_same_key_stores_one_checkin(me):
    body = checkin_body()
    first = me.post("/me/check-in/", body)
    again = me.post("/me/check-in/", body)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert CheckIn.objects.count() == 1


def test_REL_01_web_same_key_different_answers_is_refused(me):
    body = checkin_body()
    me.post("/me/check-in/", body)
    changed = me.post("/me/check-in/", {**body, "mood": "2"})
    assert changed.status_code == 422
    assert "already sent with different answers" in changed.content.decode()
    assert CheckIn.objects.get().mood == 6


def test_help_button_raises_high_severity_event_once_per_key(world: World, me):
    key = _key()
    me.post("/me/help/", {"idempotency_key": key})
    me.post("/me/help/", {"idempotency_key": key})
    event = SafetyEvent.objects.get()
    assert (event.source, event.severity) == ("help_button", "high")
    page = me.get("/me/help/sent/").content.decode()
    assert "We sent an alert to your clinician." in page
    assert 'href="tel:911"' in page and 'href="tel:988"' in page


def test_help_button_without_key_still_raises(me):
    me.post("/me/help/", {})
    assert SafetyEvent.objects.filter(source="help_button").count() == 1


def test_goal_linked_to_objective_and_setback_update(world: World, me):
    plan = make_plan(world)
    objective = _first_objective(plan)
    missing = me.post(
        "/me/goals/", {"idempotency_key": _key(), "text": "Walk", "share_in_group": "yes"}
    )
    assert missing.status_code == 422
    assert "treatment-plan objective" in missing.content.decode()
    me.post(
        "/me/goals/",
        {
            "idempotency_key": _key(),
            "text": "Walk 20 minutes on 3 days",
            "objective": str(objective.external_id),
            "share_in_group": "yes",
        },
    )
    goal = WeeklyGoal.objects.get()
    assert goal.objective == objective
    response = me.post(
        f"/me/goals/{goal.external_id}/",
        {
            "idempotency_key": _key(),
            "status": "setback",
            "note": "Rained all week",
            "share_in_group": "yes",
        },
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.status == "setback"
    assert GoalUpdate.objects.get().note == "Rained all week"


def test_diary_card_saves_corrects_with_version_and_refuses_future(world: World, me):
    today = today_for(world.participant_a)
    body = {
        "idempotency_key": _key(),
        "urge_use": "2",
        "urge_self_harm": "0",
        "suicidal_ideation": "0",
        "used_substance": "no",
        "self_harm_action": "no",
        **{
            f"emotion_{n}": "1"
            for n in ("sadness", "anxiety", "anger", "shame", "loneliness", "joy")
        },
    }
    assert me.post(f"/me/diary/{today.isoformat()}/", body).status_code == 302
    card = DiaryCard.objects.get()
    assert (card.urge_use, card.version, card.entered_late) == (2, 1, False)
    fix = me.post(
        f"/me/diary/{today.isoformat()}/",
        {**body, "idempotency_key": _key(), "version": "1", "urge_use": "3"},
    )
    assert fix.status_code == 302
    card.refresh_from_db()
    assert (card.urge_use, card.version) == (3, 2)
    stale = me.post(
        f"/me/diary/{today.isoformat()}/", {**body, "idempotency_key": _key(), "version": "1"}
    )
    assert stale.status_code == 422
    assert "changed elsewhere" in stale.content.decode()
    future = (today + timedelta(days=1)).isoformat()
    refused = me.post(f"/me/diary/{future}/", {**body, "idempotency_key": _key()})
    assert refused.status_code == 422
    assert "future" in refused.content.decode()
    week = me.get("/me/diary/")
    assert "filled in" in week.content.decode()


def test_thought_record_from_attended_session(world: World, me):
    listing = me.get("/me/homework/").content.decode()
    assert f"/me/homework/{world.session_a.external_id}/" in listing
    empty = me.post(f"/me/homework/{world.session_a.external_id}/", {"idempotency_key": _key()})
    assert empty.status_code == 422
    response = me.post(
        f"/me/homework/{world.session_a.external_id}/",
        {
            "idempotency_key": _key(),
            "situation": "Late for work",
            "moods": "anxious",
            "mood_intensity": "80",
            "hot_thought": "I will be fired",
        },
    )
    assert response.status_code == 302
    item = HomeworkSubmission.objects.get()
    assert item.kind == "thought_record"
    assert item.answers["mood_intensity"] == 80
    bad = me.post(
        f"/me/homework/{world.session_a.external_id}/",
        {"idempotency_key": _key(), "mood_intensity": "120"},
    )
    assert bad.status_code == 422


def test_safety_plan_participant_then_clinician_with_versions(world: World, me, client_for):
    me.post(
        "/me/safety-plan/edit/",
        {"idempotency_key": _key(), "version": "0", "warning_signs": "Not sleeping"},
    )
    staff = client_for(world.clinician_a)
    url = _staff_plan_url(world)
    assert "Not sleeping" in staff.get(url).content.decode()
    ok = staff.post(
        url + "edit/",
        {"version": "1", "warning_signs": "Not sleeping", "coping_strategies": "Walk"},
    )
    assert ok.status_code == 302
    stale = me.post(
        "/me/safety-plan/edit/", {"idempotency_key": _key(), "version": "1", "warning_signs": "x"}
    )
    assert stale.status_code == 422
    assert "Someone else changed" in stale.content.decode()
    plan = world.participant_a.safety_plan
    plan.refresh_from_db()
    assert (plan.version, plan.coping_strategies, plan.revisions.count()) == (2, "Walk", 1)


def test_safety_plan_review_records_step_on_open_event(world: World, me, client_for):
    me.post("/me/help/", {"idempotency_key": _key()})
    me.post(
        "/me/safety-plan/edit/", {"idempotency_key": _key(), "version": "0", "warning_signs": "x"}
    )
    staff = client_for(world.clinician_a)
    url = _staff_plan_url(world) + "reviewed/"
    assert staff.post(url).status_code == 302
    event = SafetyEvent.objects.get()
    assert event.steps.filter(kind="safety_plan_reviewed").exists()


def test_my_week_shows_hours_against_minimum(world: World, me):
    body = me.get("/me/").content.decode()
    assert "hours</strong> attended" in body


def test_calendar_link_is_made_for_self(world: World, me):
    response = me.post("/me/calendar-link/")
    assert response.status_code == 200
    assert "/calendar/" in response.content.decode()
