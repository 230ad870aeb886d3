"""Issue 15 section 7, the portal safety gap: the measure page sends the answers so far when a
critical answer is picked and when the participant leaves it unsent. A critical answer opens
its safety event at once (once per form key); the answers so far are kept as a draft scored by
the clinician-entry rules; sending the form later turns that draft into the one scored row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from openiop.accounts.models import UserKind
from openiop.audit.models import AuditEvent
from openiop.measures.actions import schedule_set
from openiop.measures.models import Assessment, AssessmentStatus, Source
from openiop.safety.models import SafetyEvent
from openiop.testing import World, make_user

pytestmark = pytest.mark.django_db

PHQ9_URL = "/me/measures/phq9/progress/"
CORE10_URL = "/me/measures/core10/progress/"


@pytest.fixture
def scheduled(world: World) -> World:
    for code in ("phq9", "core10"):
        schedule_set(
            actor=world.director_a, program=world.program_a, instrument=code, cadences=["weekly"]
        )
    return world


@pytest.fixture
def me(scheduled: World, client_for) -> Client:
    return client_for(scheduled.participant_user)


def _body(answers: Sequence[int | None], key: str) -> dict[str, Any]:
    body: dict[str, Any] = {"idempotency_key": key}
    body.update({f"item_{n}": str(a) for n, a in enumerate(answers, 1) if a is not None})
    return body


def _key() -> str:
    return uuid.uuid4().hex


ITEM9_ONLY = [None] * 8 + [1]  # "several days" on item 9, the rest left empty


def test_critical_answer_raises_the_event_once_however_often_sent(scheduled: World, me):
    key = _key()
    first = me.post(PHQ9_URL, _body(ITEM9_ONLY, key))
    assert first.status_code == 200
    event = SafetyEvent.objects.get(participant=scheduled.participant_a)
    assert first.json()["safety_event"] == str(event.external_id)
    assert event.source == "phq9_item9"
    for _ in range(2):
        again = me.post(PHQ9_URL, _body([0, 1, None, None, None, None, None, None, 1], key))
        assert again.json()["safety_event"] == str(event.external_id)
    assert SafetyEvent.objects.count() == 1
    draft = Assessment.objects.get()
    assert (draft.status, draft.source, draft.external_id) == (
        AssessmentStatus.DRAFT,
        Source.PORTAL,
        event.assessment_id,
    )
    assert draft.answers == [0, 1, None, None, None, None, None, None, 1]
    assert draft.total is None  # PHQ-9 has no proration: a missing item leaves it null


def test_non_critical_partial_raises_nothing_and_is_kept_as_a_draft(scheduled: World, me):
    response = me.post(PHQ9_URL, _body([1, 2, None, None, None, None, None, None, 0], _key()))
    assert response.status_code == 200
    assert response.json()["safety_event"] is None
    assert not SafetyEvent.objects.exists()
    draft = Assessment.objects.get()
    assert draft.status == AssessmentStatus.DRAFT and draft.missing == [3, 4, 5, 6, 7, 8]
    assert AuditEvent.objects.filter(action="create", detail__draft=True).count() == 1
    # A draft is not an administration: the measure stays due and the form still opens.
    assert me.get("/me/measures/phq9/").status_code == 200
    assert draft.completeness.startswith("draft, not sent by the participant; incomplete: 6")


def test_staff_see_the_draft_marked_as_such(scheduled: World, me, client_for):
    me.post(PHQ9_URL, _body([1, 2, None, None, None, None, None, None, 0], _key()))
    draft = Assessment.objects.get()
    world = scheduled
    path = (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}"
        f"/measures/a/{draft.external_id}/"
    )
    page = client_for(world.clinician_a).get(path)
    assert page.status_code == 200
    assert "draft, not sent by the participant" in page.content.decode()


def test_leaving_core10_with_one_item_missing_is_prorated_like_clinician_entry(
    scheduled: World, me
):
    answers = [2, 1, 1, 2, 2, None, 2, 2, 2, 2]  # item 6 (critical) left empty
    me.post(CORE10_URL, _body(answers, _key()))
    draft = Assessment.objects.get()
    # Items 2 and 3 are reverse-keyed (4 - 1 = 3 each): sum 20 over 9 items, 10 x 20 / 9 = 22.2.
    assert draft.prorated is True
    assert draft.total == Decimal("22.2")  # as the scoring core rounds it for clinicians too
    assert draft.critical_not_assessed == [6]
    assert not SafetyEvent.objects.exists()


def test_full_submit_with_the_same_key_keeps_one_assessment_and_one_event(scheduled: World, me):
    key = _key()
    me.post(PHQ9_URL, _body(ITEM9_ONLY, key))  # picked item 9 ...
    me.post(PHQ9_URL, _body([1, 1, None, None, None, None, None, None, 1], key))  # ... left
    draft = Assessment.objects.get()
    full = [1, 1, 1, 1, 1, 1, 1, 1, 1]
    response = me.post("/me/measures/phq9/", _body(full, key))
    assert response.status_code == 302 and response.url == "/me/help/sent/"
    row = Assessment.objects.get()
    assert row.external_id == draft.external_id
    assert (row.status, row.answers, row.total) == (AssessmentStatus.SCORED, full, Decimal(9))
    assert SafetyEvent.objects.count() == 1
    assert SafetyEvent.objects.get().assessment_id == row.external_id
    # A late beacon (the page hidden after sending) never touches the submitted row.
    late = me.post(PHQ9_URL, _body([0] * 9, key))
    assert late.status_code == 404  # no longer due
    row.refresh_from_db()
    assert row.answers == full and SafetyEvent.objects.count() == 1


def test_non_critical_draft_then_critical_submit_links_the_same_row(scheduled: World, me):
    key = _key()
    me.post(PHQ9_URL, _body([0, 0, None, None, None, None, None, None, None], key))
    me.post("/me/measures/phq9/", _body([0] * 8 + [2], key))
    row = Assessment.objects.get()
    assert row.status == AssessmentStatus.SCORED
    assert SafetyEvent.objects.get().assessment_id == row.external_id


def test_bad_input_gets_a_json_error_naming_the_field(scheduled: World, me):
    no_key = me.post(PHQ9_URL, {"item_1": "1"})
    assert no_key.status_code == 400 and "idempotency_key" in no_key.json()["errors"]
    bad = me.post(PHQ9_URL, _body([9] + [None] * 8, _key()))
    assert bad.status_code == 400 and "item_1" in bad.json()["errors"]
    # A critical answer is acted on even when another field is wrong.
    mixed = me.post(PHQ9_URL, _body([9] + [None] * 7 + [1], _key()))
    assert mixed.status_code == 400 and mixed.json()["safety_event"] is not None
    assert SafetyEvent.objects.count() == 1
    empty = me.post(PHQ9_URL, _body([None] * 9, _key()))
    assert empty.json() == {"safety_event": None, "draft": None}
    assert not Assessment.objects.exists()


def test_get_is_refused(me):
    assert me.get(PHQ9_URL).status_code == 405


# --- authorisation-failure twins ----------------------------------------------------------


def test_staff_are_refused_and_nothing_is_stored(scheduled: World, client_for):
    for user in (scheduled.clinician_a, scheduled.director_a):
        response = client_for(user).post(PHQ9_URL, _body(ITEM9_ONLY, _key()))
        assert response.status_code == 404
    assert not SafetyEvent.objects.exists() and not Assessment.objects.exists()


def test_anonymous_is_refused(scheduled: World):
    response = Client().post(PHQ9_URL, _body(ITEM9_ONLY, _key()))
    assert response.status_code in (302, 401, 403)
    assert not SafetyEvent.objects.exists() and not Assessment.objects.exists()


def test_another_participant_cannot_reach_this_participants_draft(scheduled: World, client_for):
    key = _key()
    client_for(scheduled.participant_user).post(PHQ9_URL, _body([0, 0] + [None] * 7, key))
    other = make_user(kind=UserKind.PARTICIPANT, first="Blake")
    scheduled.participant_b.user = other
    scheduled.participant_b.save(update_fields=["user"])
    # The same key from another account names another id, and PHQ-9 is not due in B.
    response = client_for(other).post(PHQ9_URL, _body([3] * 9, key))
    assert response.status_code == 404
    mine = Assessment.objects.get(participant=scheduled.participant_a)
    assert mine.answers == [0, 0] + [None] * 7
    assert not Assessment.objects.filter(participant=scheduled.participant_b).exists()


def test_csrf_is_enforced(scheduled: World):
    client = Client(enforce_csrf_checks=True)
    client.force_login(scheduled.participant_user)
    response = client.post(PHQ9_URL, _body(ITEM9_ONLY, _key()))
    assert response.status_code == 403
    assert not SafetyEvent.objects.exists()


def test_the_page_marks_critical_answers_and_the_progress_url(me):
    body = me.get("/me/measures/phq9/").content.decode()
    assert f'data-progress-url="{PHQ9_URL}"' in body
    assert 'data-critical-choices="item_9:1 item_9:2 item_9:3"' in body
