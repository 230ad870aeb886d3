"""Issue 17 items 7 (check-in), 8 (diary card) and 10 (honest help page): a critical answer
is acted on first, in its own transaction, and never lost to another field; the participant
is told what actually happened, and always 911 and 988."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from openiop.participants.actions import enrollment_discharge
from openiop.portal import actions
from openiop.portal.models import CheckIn, DiaryCard
from openiop.portal.selectors import today_for
from openiop.safety.models import SafetyEvent
from openiop.safety.tests.helpers import on_call
from openiop.testing import World, today

pytestmark = pytest.mark.django_db

EMOTIONS = ("sadness", "anxiety", "anger", "shame", "loneliness", "joy")


def _key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def me(world: World, client_for):
    return client_for(world.participant_user)


def checkin(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "idempotency_key": _key(),
        "kind": "daily",
        "mood": "2",
        "craving": "7",
        "used_since_last": "no",
        "sleep_hours": "7",
        "medication": "taken",
        "safety_concern": "yes",
        "bring_to_group": "Marigold words",
    }
    body.update(overrides)
    return body


def diary(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "idempotency_key": _key(),
        "urge_use": "1",
        "urge_self_harm": "5",
        "suicidal_ideation": "0",
        "used_substance": "no",
        "self_harm_action": "yes",
        **{f"emotion_{n}": "2" for n in EMOTIONS},
    }
    body.update(overrides)
    return body


def discharge(world: World) -> None:
    enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(world.program_a),
        reason="completed",
        step_down_destination="outpatient",
        # These tests are about a participant who still reaches the portal after discharge:
        # an alumni account (issue 15 §4) keeps check-ins and help.
        keep_alumni=True,
    )


def no_leads(world: World) -> None:
    from openiop.accounts.models import Membership

    leads = [world.director_a, world.supervisor_a]
    Membership.objects.filter(program=world.program_a, user__in=leads).update(is_active=False)


def _crisis(body: str) -> None:
    assert 'href="tel:911"' in body and 'href="tel:988"' in body and 'href="sms:988"' in body


# --- item 7: the check-in --------------------------------------------------------------


def test_checkin_yes_with_sleep_blank_raises_event_and_keeps_the_form(world: World, me):
    first = checkin(sleep_hours="")
    response = me.post("/me/check-in/", first)
    assert response.status_code == 422
    body = response.content.decode()
    event = SafetyEvent.objects.get()
    assert (event.source, event.participant) == ("checkin", world.participant_a)
    assert not CheckIn.objects.exists()
    assert "Hours slept last night" in body  # the error names the field
    assert "Marigold words" in body  # what they typed is kept
    assert re.search(r'name="craving" value="7"[^>]*checked', body)  # what they chose too
    assert "We sent an alert to your clinician" in body
    _crisis(body)
    # Sending the completed form again (same form key) stores it with the same event.
    done = me.post("/me/check-in/", {**first, "sleep_hours": "5"})
    assert done.status_code == 302 and done["Location"] == "/me/help/sent/"
    assert SafetyEvent.objects.count() == 1
    assert CheckIn.objects.get().safety_event_id == event.external_id


def test_checkin_yes_with_use_but_no_time_still_raises(me):
    response = me.post("/me/check-in/", checkin(used_since_last="yes", use_what="beer"))
    assert response.status_code == 422
    assert "Say when you used" in response.content.decode()
    assert SafetyEvent.objects.filter(source="checkin").count() == 1
    assert not CheckIn.objects.exists()


def test_checkin_yes_after_discharge_still_raises(world: World, me):
    discharge(world)  # as an alumnus, who keeps check-ins (issue 15 §4)
    response = me.post("/me/check-in/", checkin(), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert SafetyEvent.objects.filter(source="checkin").count() == 1
    assert CheckIn.objects.get().safety_event_id is not None
    # Nobody assigned or on call: the program's leads are alerted at once, and it says so.
    assert "We sent an alert to the program's clinical leads" in body
    _crisis(body)


def test_checkin_no_with_errors_raises_nothing(me):
    assert me.post("/me/check-in/", checkin(safety_concern="no", sleep_hours="")).status_code == 422
    assert not SafetyEvent.objects.exists()


def test_api_checkin_yes_with_sleep_missing_raises_then_stores_on_retry(world: World, client_for):
    me = client_for(world.participant_user)
    key = _key()
    body: dict[str, Any] = {
        "kind": "daily",
        "mood": 2,
        "craving": 7,
        "used_since_last": False,
        "medication": "taken",
        "safety_concern": True,
    }
    refused = me.post(
        "/api/v1/me/check-ins",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert refused.status_code == 422
    answer = refused.json()
    assert "sleep_hours" in answer["error"]["fields"]
    event = SafetyEvent.objects.get()
    assert answer["safety_event"]["id"] == str(event.external_id)
    assert "988" in answer["safety_event"]["message"]
    stored = me.post(
        "/api/v1/me/check-ins",
        data=json.dumps({**body, "sleep_hours": 4}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert stored.status_code == 201 and stored.json()["safety_event"] == str(event.external_id)
    assert SafetyEvent.objects.count() == 1


def test_staff_posting_to_portal_safety_routes_get_404_and_raise_nothing(world: World, client_for):
    staff = client_for(world.clinician_a)
    day = today_for(world.participant_a).isoformat()
    assert staff.post("/me/check-in/", checkin()).status_code == 404
    assert staff.post(f"/me/diary/{day}/", diary()).status_code == 404
    assert staff.post("/me/help/", {"idempotency_key": _key()}).status_code == 404
    assert staff.get("/me/help/sent/").status_code == 404
    assert not SafetyEvent.objects.exists()


def test_anonymous_posting_to_portal_safety_routes_is_sent_to_log_in(world: World, client_for):
    anonymous = client_for(None)
    day = today_for(world.participant_a).isoformat()
    for path, body in (
        ("/me/check-in/", checkin()),
        (f"/me/diary/{day}/", diary()),
        ("/me/help/", {}),
    ):
        assert anonymous.post(path, body).status_code in (302, 401, 403)
    assert not SafetyEvent.objects.exists()


# --- item 8: the diary card ------------------------------------------------------------


def test_diary_self_harm_opens_event_and_shows_988_911_on_save(world: World, me):
    day = today_for(world.participant_a).isoformat()
    saved = me.post(f"/me/diary/{day}/", diary(), follow=True)
    assert saved.status_code == 200
    event = SafetyEvent.objects.get()
    assert (event.source, event.severity) == ("diary_card", "urgent")
    assert "harmed themself" in event.detail
    assert DiaryCard.objects.get().safety_event_id == event.external_id
    body = saved.content.decode()
    assert "saved" in body and "We sent an alert to your clinician" in body
    _crisis(body)


def test_diary_suicidal_ideation_threshold(world: World, me):
    day = today_for(world.participant_a)
    low = diary(self_harm_action="no", urge_self_harm="1", suicidal_ideation="2")
    assert me.post(f"/me/diary/{day.isoformat()}/", low).status_code == 302
    assert not SafetyEvent.objects.exists()
    assert DiaryCard.objects.get().suicidal_ideation == 2
    yesterday = (day - timedelta(days=1)).isoformat()
    high = diary(self_harm_action="no", urge_self_harm="1", suicidal_ideation="3")
    response = me.post(f"/me/diary/{yesterday}/", high)
    assert response.status_code == 302 and response["Location"] == "/me/help/sent/"
    event = SafetyEvent.objects.get()
    assert "thoughts of suicide 3/5" in event.detail


def test_diary_self_harm_with_a_missing_rating_still_raises_and_keeps_the_card(world: World, me):
    day = today_for(world.participant_a).isoformat()
    first = diary(emotion_joy="", note="Lavender words")
    response = me.post(f"/me/diary/{day}/", first)
    assert response.status_code == 422
    body = response.content.decode()
    assert SafetyEvent.objects.filter(source="diary_card").count() == 1
    assert not DiaryCard.objects.exists()
    assert "Lavender words" in body and "Joy" in body
    _crisis(body)
    assert me.post(f"/me/diary/{day}/", {**first, "emotion_joy": "1"}).status_code == 302
    assert SafetyEvent.objects.count() == 1
    # A later correction of the same day keeps the one event.
    card = DiaryCard.objects.get()
    fix = diary(idempotency_key=_key(), version=str(card.version), note="Fixed")
    assert me.post(f"/me/diary/{day}/", fix).status_code == 302
    assert SafetyEvent.objects.count() == 1


def test_diary_needs_a_suicidal_ideation_rating(world: World, me):
    day = today_for(world.participant_a).isoformat()
    response = me.post(f"/me/diary/{day}/", diary(self_harm_action="no", suicidal_ideation=""))
    assert response.status_code == 422
    assert "Thoughts of ending my life" in response.content.decode()


def test_api_diary_self_harm_returns_the_event(world: World, client_for):
    me = client_for(world.participant_user)
    day = today_for(world.participant_a).isoformat()
    body = {
        "emotions": dict.fromkeys(EMOTIONS, 1),
        "urge_use": 0,
        "urge_self_harm": 5,
        "suicidal_ideation": 1,
        "self_harm_action": True,
    }
    card = me.put(
        f"/api/v1/me/diary/{day}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=_key(),
    )
    assert card.status_code == 200
    event = SafetyEvent.objects.get(source="diary_card")
    assert card.json()["safety_event"] == str(event.external_id)
    assert card.json()["suicidal_ideation"] == 1


def test_action_links_card_to_event_in_one_call(world: World):
    card = actions.diary_save(
        actor=world.participant_user,
        participant=world.participant_a,
        data=actions.DiaryInput(
            day=today_for(world.participant_a),
            emotions=dict.fromkeys(EMOTIONS, 0),
            urge_use=0,
            urge_self_harm=0,
            suicidal_ideation=5,
        ),
    )
    assert card.safety_event_id == SafetyEvent.objects.get().external_id


# --- item 10: the honest help page -----------------------------------------------------


def test_help_page_says_who_was_alerted(world: World, me):
    on_call(world)
    me.post("/me/help/", {"idempotency_key": _key()})
    body = me.get("/me/help/sent/").content.decode()
    assert "We sent an alert to your clinician and the clinician on call" in body
    assert "will contact you" not in body
    _crisis(body)


def test_help_page_says_leads_were_alerted_when_nobody_else_could_be(world: World, me):
    discharge(world)  # no clinician of record, and nobody is on call
    body = me.post("/me/help/", {"idempotency_key": _key()}, follow=True).content.decode()
    assert "We sent an alert to the program's clinical leads" in body
    assert "your clinician" not in body.split("We sent an alert")[1].split(".")[0]
    _crisis(body)


def test_help_page_says_nobody_could_be_reached_when_nobody_was(world: World, me):
    discharge(world)  # no clinician of record, and nobody is on call
    no_leads(world)  # and nobody leads the program
    response = me.post("/me/help/", {"idempotency_key": _key()}, follow=True)
    body = response.content.decode()
    assert SafetyEvent.objects.filter(source="help_button", severity="high").count() == 1
    assert "We could not reach anyone on your care team right now" in body
    assert "have been alerted" not in body and "has been told" not in body
    _crisis(body)


def test_api_help_is_honest_too(world: World, client_for):
    discharge(world)
    no_leads(world)
    me = client_for(world.participant_user)
    helped = me.post(
        "/api/v1/me/help", data="{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY=_key()
    )
    assert helped.status_code == 201
    answer = helped.json()
    assert answer["care_team_alerted"] is False
    assert "could not reach anyone" in answer["message"] and "988" in answer["message"]


def test_help_sent_without_a_recent_event_makes_no_claim(me):
    body = me.get("/me/help/sent/").content.decode()
    assert "We sent an alert" not in body and "could not reach" not in body
    _crisis(body)


def test_staff_see_the_suicidal_ideation_rating_and_the_runner_flags_it(world: World, client_for):
    from openiop.core import clock
    from openiop.portal.selectors import runner_portal
    from openiop.testing import make_group_session

    session, _, _ = make_group_session(world, members=1)
    actions.diary_save(
        actor=world.participant_user,
        participant=world.participant_a,
        data=actions.DiaryInput(
            day=clock.local_date(session.starts_at, world.program_a),
            emotions=dict.fromkeys(EMOTIONS, 0),
            urge_use=0,
            urge_self_harm=0,
            suicidal_ideation=2,
        ),
    )
    program, person = world.program_a.external_id, world.participant_a.external_id
    path = f"/p/{program}/participants/{person}/between-sessions/"
    page = client_for(world.clinician_a).get(path)
    assert page.status_code == 200 and "Thoughts of suicide" in page.content.decode()
    # Its authorisation-failure twins: another program 404, billing 403.
    assert client_for(world.clinician_b).get(path).status_code == 404
    assert client_for(world.billing_a).get(path).status_code == 403
    flags = runner_portal(session=session, participant_ids=[world.participant_a.pk])
    assert any("thoughts of suicide 2/5" in f for f in flags[world.participant_a.pk].flags)


def test_portal_safety_api_twins_staff_404_anonymous_401(world: World, client_for):
    day = today_for(world.participant_a).isoformat()
    calls: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("post", "/api/v1/me/check-ins", {"safety_concern": True}),
        ("put", f"/api/v1/me/diary/{day}", {"self_harm_action": True, "suicidal_ideation": 5}),
        ("post", "/api/v1/me/help", {}),
    )
    for client, status in ((client_for(world.clinician_a), 404), (client_for(None), 401)):
        for method, path, body in calls:
            response = getattr(client, method)(
                path,
                data=json.dumps(body),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=_key(),
            )
            assert response.status_code == status, (path, response.status_code)
    assert not SafetyEvent.objects.exists()
