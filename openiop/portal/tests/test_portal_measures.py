"""Participants complete their own due outcome measures in the portal (pages and API): only
due measures open, answers are scored by the same action as the clinician's entry (source
"portal"), a critical answer raises its safety event, a resend stores once, and errors name
the item and store nothing."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openiop.measures.actions import assessment_record, schedule_set
from openiop.measures.models import Assessment, Source
from openiop.safety.models import SafetyEvent
from openiop.testing import World, admit

pytestmark = pytest.mark.django_db

PHQ9 = [1, 2, 0, 3, 1, 0, 2, 1, 0]  # total 10, item 9 not endorsed


@pytest.fixture
def scheduled(world: World) -> World:
    """PHQ-9 and GAD-7 weekly in program A, PCL-5 monthly in program B."""
    for code in ("phq9", "gad7"):
        schedule_set(
            actor=world.director_a, program=world.program_a, instrument=code, cadences=["weekly"]
        )
    schedule_set(
        actor=world.clinician_b, program=world.program_b, instrument="pcl5", cadences=["monthly"]
    )
    return world


@pytest.fixture
def me(scheduled: World, client_for):
    return client_for(scheduled.participant_user)


CSSRS_ITEMS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6r"]


def _body(
    answers: Sequence[int | None], key: str | None = None, names: list[str] | None = None
) -> dict[str, Any]:
    """Form data: fields are item_<number>, or item_<name> where items go by name (C-SSRS)."""
    refs = names or [str(n) for n in range(1, len(answers) + 1)]
    body: dict[str, Any] = {"idempotency_key": key or uuid.uuid4().hex}
    body.update({f"item_{r}": str(a) for r, a in zip(refs, answers, strict=True) if a is not None})
    return body


def _api_post(client, path: str, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


# --- pages -------------------------------------------------------------------------------


def test_due_list_shows_only_own_due_measures(scheduled: World, me):
    world = scheduled
    # A's GAD-7 is done; another participant in A still owes theirs; B's PCL-5 is elsewhere.
    assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="gad7",
        answers=[1] * 7,
        administered_at=timezone.now() - timedelta(minutes=5),
    )
    admit(world.program_a, world.track_a, world.clinician_a, first="Casey", last="Other")
    page = me.get("/me/measures/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'href="/me/measures/phq9/"' in body
    assert 'href="/me/measures/gad7/"' not in body
    assert "/me/measures/pcl5/" not in body
    assert "Casey" not in body
    # The completed GAD-7 is listed under the participant's scores with its total only: the
    # program has not turned severity labels on (test_portal_trends covers both ways).
    assert "Generalized Anxiety Disorder" in body
    assert "<td>7</td>" in body
    assert "mild" not in body


def test_overdue_measure_is_badged(scheduled: World, me):
    world = scheduled
    world.enrollment_a.admitted_on -= timedelta(days=10)
    world.enrollment_a.save(update_fields=["admitted_on"])
    body = me.get("/me/measures/").content.decode()
    assert "Overdue" in body


def test_form_states_recall_window_and_items_as_radio_groups(me):
    page = me.get("/me/measures/phq9/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Over the past 2 weeks, how often have you been bothered by" in body
    assert body.count("<fieldset") == 9
    assert body.count('type="radio"') == 36
    assert 'name="idempotency_key"' in body


def test_completing_phq9_stores_portal_assessment_with_exact_score(scheduled: World, me):
    response = me.post("/me/measures/phq9/", _body(PHQ9))
    assert response.status_code == 302
    assert response["Location"] == "/me/measures/"
    row = Assessment.objects.get()
    assert (row.participant, row.instrument, row.source) == (
        scheduled.participant_a,
        "phq9",
        Source.PORTAL,
    )
    assert row.answers == PHQ9
    assert row.total == Decimal(10)
    assert row.entered_by == scheduled.participant_user
    assert SafetyEvent.objects.count() == 0
    after = me.get("/me/measures/").content.decode()
    assert "Saved. Thank you." in after
    assert 'href="/me/measures/phq9/"' not in after  # no longer due


def test_phq9_item9_raises_safety_event_and_shows_help_sent(scheduled: World, me):
    response = me.post("/me/measures/phq9/", _body([0] * 8 + [1]))
    assert response.status_code == 302
    assert response["Location"] == "/me/help/sent/"
    event = SafetyEvent.objects.get()
    assert event.source == "phq9_item9"
    assert event.participant == scheduled.participant_a
    assert event.assessment_id == Assessment.objects.get().external_id


def test_resend_with_same_key_stores_one_assessment(me):
    key = uuid.uuid4().hex
    first = me.post("/me/measures/phq9/", _body(PHQ9, key))
    again = me.post("/me/measures/phq9/", _body(PHQ9, key))
    assert first.status_code == again.status_code == 302
    assert again["Location"] == "/me/measures/"
    assert Assessment.objects.count() == 1


def test_partial_phq9_is_stored_with_null_total(scheduled: World, me):
    answers: list[int | None] = list(PHQ9)
    answers[3] = None
    response = me.post("/me/measures/phq9/", _body(answers))
    assert response.status_code == 302
    row = Assessment.objects.get()
    assert (row.answers, row.total, row.missing) == (answers, None, [4])


def test_form_with_no_answer_is_refused(me):
    response = me.post("/me/measures/phq9/", _body([None] * 9))
    assert response.status_code == 422
    assert "Give at least one answer" in response.content.decode()
    assert Assessment.objects.count() == 0


def test_item9_with_another_item_blank_is_stored_and_raises_event(scheduled: World, me):
    # Issue 17 item 7: this form was refused whole (422, nothing stored, no event).
    answers: list[int | None] = [1, 2, None, 3, 1, 0, 2, 1, 3]
    response = me.post("/me/measures/phq9/", _body(answers))
    assert response.status_code == 302
    assert response["Location"] == "/me/help/sent/"
    row = Assessment.objects.get()
    assert (row.answers, row.total, row.critical) == (answers, None, [9])
    event = SafetyEvent.objects.get()
    assert (event.source, event.assessment_id) == ("phq9_item9", row.external_id)


def test_critical_answer_is_committed_before_the_rest_is_validated(
    scheduled: World, me, django_capture_on_commit_callbacks
):
    key = uuid.uuid4().hex
    body = _body([0, 1, 1, 0, 0, 0, 0, 0, 3], key)
    body["item_1"] = "7"  # not a valid code: the rest of the form is refused
    with django_capture_on_commit_callbacks() as delivered:
        refused = me.post("/me/measures/phq9/", body)
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "Your care team has been told" in page
    # What the participant entered stays in the form.
    assert re.search(r'<input type="radio" name="item_9" value="3"[^>]*checked', page)
    assert re.search(r'<input type="radio" name="item_2" value="1"[^>]*checked', page)
    assert Assessment.objects.count() == 0
    event = SafetyEvent.objects.get()  # committed in its own transaction: not rolled back
    assert event.source == "phq9_item9"
    assert event.notifications.filter(recipient=scheduled.clinician_a).exists()
    assert delivered  # the notifier runs on commit of the event's own transaction
    # The participant corrects the form and sends it again: stored once, linked, one event.
    body["item_1"] = "0"
    sent = me.post("/me/measures/phq9/", body)
    assert sent["Location"] == "/me/help/sent/"
    assert SafetyEvent.objects.get().assessment_id == Assessment.objects.get().external_id


def test_cssrs_skip_logic_leaves_unasked_questions_out(scheduled: World, me):
    schedule_set(
        actor=scheduled.director_a,
        program=scheduled.program_a,
        instrument="cssrs",
        cadences=["monthly"],
    )
    # q2 = no, so q3-q5 are not asked; q6 = no, so q6r is not asked. All no: not critical.
    ok = me.post("/me/measures/cssrs/", _body([0, 0, None, None, None, 0, None], names=CSSRS_ITEMS))
    assert ok.status_code == 302
    assert Assessment.objects.get().answers == [0, 0, None, None, None, 0, None]


def test_cssrs_yes_to_a_skipped_question_is_kept_and_alerts(scheduled: World, me):
    schedule_set(
        actor=scheduled.director_a,
        program=scheduled.program_a,
        instrument="cssrs",
        cadences=["monthly"],
    )
    form = me.get("/me/measures/cssrs/").content.decode()
    assert "blank" not in form.lower()  # nobody is told to leave an answer out
    answers: list[int | None] = [0, 0, 1, None, None, 0, None]  # q2 no, then q3 yes
    response = me.post("/me/measures/cssrs/", _body(answers, names=CSSRS_ITEMS))
    assert response.status_code == 302
    assert response["Location"] == "/me/help/sent/"
    row = Assessment.objects.get()
    assert (row.answers, row.critical, row.risk, row.inconsistent) == (
        answers,
        ["q3"],
        "moderate",
        ["q3"],
    )
    event = SafetyEvent.objects.get()
    assert (event.source, event.severity, event.assessment_id) == (
        "cssrs",
        "urgent",
        row.external_id,
    )


def test_measure_not_due_gives_404(scheduled: World, me):
    assert me.get("/me/measures/pcl5/").status_code == 404  # scheduled in B only
    assert me.get("/me/measures/nosuch/").status_code == 404
    assert me.post("/me/measures/pcl5/", _body([0] * 20)).status_code == 404
    me.post("/me/measures/phq9/", _body(PHQ9))
    assert me.get("/me/measures/phq9/").status_code == 404  # done: no longer due
    assert me.post("/me/measures/phq9/", _body(PHQ9)).status_code == 404
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize("path", ["/me/measures/", "/me/measures/phq9/"])
def test_staff_get_404(scheduled: World, client_for, path):
    assert client_for(scheduled.clinician_a).get(path).status_code == 404
    assert client_for(scheduled.director_a).get(path).status_code == 404


def test_staff_post_gets_404_and_stores_nothing(scheduled: World, client_for):
    staff = client_for(scheduled.clinician_a)
    assert staff.post("/me/measures/phq9/", _body(PHQ9)).status_code == 404
    assert Assessment.objects.count() == 0


def test_portal_nav_and_home_link_to_questionnaires(me):
    body = me.get("/me/").content.decode()
    assert body.count('href="/me/measures/"') == 2


# --- API ---------------------------------------------------------------------------------


def test_api_due_list_is_own_and_carries_the_form(scheduled: World, client_for):
    rows = client_for(scheduled.participant_user).get("/api/v1/me/measures").json()
    assert sorted(r["instrument"] for r in rows) == ["gad7", "phq9"]
    phq9 = next(r for r in rows if r["instrument"] == "phq9")
    assert phq9["recall_window"] == "past 2 weeks"
    assert len(phq9["items"]) == 9
    assert client_for(scheduled.clinician_a).get("/api/v1/me/measures").status_code == 404


def test_api_complete_stores_once_per_key(scheduled: World, client_for):
    client = client_for(scheduled.participant_user)
    key = uuid.uuid4().hex
    first = _api_post(client, "/api/v1/me/measures/phq9", {"answers": PHQ9}, key)
    again = _api_post(client, "/api/v1/me/measures/phq9", {"answers": PHQ9}, key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["safety_event"] is None
    assert "total" not in first.json()
    assert again["Idempotent-Replayed"] == "true"
    row = Assessment.objects.get()
    assert (row.source, row.total) == (Source.PORTAL, Decimal(10))


def test_api_item9_reports_safety_event(scheduled: World, client_for):
    client = client_for(scheduled.participant_user)
    response = _api_post(
        client, "/api/v1/me/measures/phq9", {"answers": [0] * 8 + [2]}, uuid.uuid4().hex
    )
    assert response.status_code == 201
    event = SafetyEvent.objects.get()
    assert response.json()["safety_event"] == str(event.external_id)
    assert event.source == "phq9_item9"


def test_api_refuses_missing_key_wrong_answers_and_not_due(scheduled: World, client_for):
    client = client_for(scheduled.participant_user)
    path = "/api/v1/me/measures/phq9"
    assert _api_post(client, path, {"answers": PHQ9}).status_code == 422  # no key
    short = _api_post(client, path, {"answers": PHQ9[:8]}, uuid.uuid4().hex)
    assert short.status_code == 422
    assert "answers[8]" in short.json()["error"]["fields"]
    other = _api_post(client, "/api/v1/me/measures/pcl5", {"answers": [0] * 20}, uuid.uuid4().hex)
    assert other.status_code == 404
    assert Assessment.objects.count() == 0


def test_api_partial_form_with_critical_answer_is_stored_and_alerts(scheduled: World, client_for):
    client = client_for(scheduled.participant_user)
    answers = [1, None, 0, 0, 0, 0, 0, 0, 2]
    response = _api_post(client, "/api/v1/me/measures/phq9", {"answers": answers}, "k" * 20)
    assert response.status_code == 201
    event = SafetyEvent.objects.get()
    assert response.json()["safety_event"] == str(event.external_id)
    assert Assessment.objects.get().total is None


def test_api_critical_answer_alerts_even_when_the_rest_is_refused(scheduled: World, client_for):
    client = client_for(scheduled.participant_user)
    answers = [9, 0, 0, 0, 0, 0, 0, 0, 3]  # item 1 out of range
    response = _api_post(client, "/api/v1/me/measures/phq9", {"answers": answers}, "k" * 20)
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "answers[0]" in fields
    event = SafetyEvent.objects.get()
    assert str(event.external_id) in " ".join(fields["safety_event"])
    assert Assessment.objects.count() == 0
    # The same key with the answer fixed stores the row under the event's id.
    answers[0] = 0
    again = _api_post(client, "/api/v1/me/measures/phq9", {"answers": answers}, "k" * 20)
    assert again.status_code == 201
    assert again.json()["safety_event"] == str(event.external_id)
    assert SafetyEvent.objects.count() == 1


def test_api_cssrs_recent_behaviour_after_q6_no_is_kept_as_high_risk(scheduled: World, client_for):
    schedule_set(
        actor=scheduled.director_a,
        program=scheduled.program_a,
        instrument="cssrs",
        cadences=["monthly"],
    )
    client = client_for(scheduled.participant_user)
    answers = [0, 0, None, None, None, 0, 1]
    response = _api_post(client, "/api/v1/me/measures/cssrs", {"answers": answers}, "c" * 20)
    assert response.status_code == 201
    event = SafetyEvent.objects.get()
    assert (event.severity, response.json()["safety_event"]) == ("high", str(event.external_id))
    assert Assessment.objects.get().inconsistent == ["q6r"]


def test_api_staff_get_404(scheduled: World, client_for):
    staff = client_for(scheduled.clinician_a)
    response = _api_post(staff, "/api/v1/me/measures/phq9", {"answers": PHQ9}, uuid.uuid4().hex)
    assert response.status_code == 404
    assert Assessment.objects.count() == 0


def test_cssrs_yes_raises_safety_event(scheduled: World, me):
    schedule_set(
        actor=scheduled.director_a,
        program=scheduled.program_a,
        instrument="cssrs",
        cadences=["monthly"],
    )
    answers: list[int | None] = [1, 0, None, None, None, 0, None]
    response = me.post("/me/measures/cssrs/", _body(answers, names=CSSRS_ITEMS))
    assert response["Location"] == "/me/help/sent/"
    assert SafetyEvent.objects.get().source == "cssrs"


def test_instrument_off_by_licence_is_neither_listed_nor_opened(scheduled: World, me, monkeypatch):
    schedule_set(
        actor=scheduled.director_a,
        program=scheduled.program_a,
        instrument="dast10",
        cadences=["intake"],
    )
    assert 'href="/me/measures/dast10/"' in me.get("/me/measures/").content.decode()
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    assert 'href="/me/measures/dast10/"' not in me.get("/me/measures/").content.decode()
    assert me.get("/me/measures/dast10/").status_code == 404
