"""Issue 18 item 3: a questionnaire with no answers is refused on every entry path (the
action, the clinician's entry page, the staff API, the portal page and the portal API),
with an error naming the answers and nothing stored; a partial one is stored as
clinical.md section 3 says (a missing item leaves the total blank, except CORE-10 with
exactly one item missing, which is prorated) and is labelled as partial wherever it is
listed, instead of showing a bare "—" like a completed one."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.measures.actions import assessment_record, schedule_set
from openiop.measures.models import Assessment
from openiop.safety.models import SafetyEvent
from openiop.testing import World

pytestmark = pytest.mark.django_db

NO_ANSWERS = "Give at least one answer"


def _base(world: World) -> str:
    return (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/measures/"
    )


def _api(world: World) -> str:
    return (
        f"/api/v1/programs/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/assessments"
    )


def _now_local(world: World) -> str:
    now = timezone.now() - timedelta(minutes=2)
    return now.astimezone(clock.zone(world.program_a)).strftime("%Y-%m-%dT%H:%M")


def _form(world: World, answers: list[int | None]) -> dict[str, str]:
    data = {f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}
    return data | {"administered_at": _now_local(world)}


# --- the action ------------------------------------------------------------------------


@pytest.mark.parametrize("answers", [[None] * 9, []])
def test_action_refuses_no_answers_naming_the_answers(world: World, answers):
    with pytest.raises(ActionError) as caught:
        assessment_record(
            actor=world.clinician_a,
            participant=world.participant_a,
            instrument="phq9",
            answers=answers,
        )
    assert list(caught.value.errors) == ["answers"]
    assert NO_ANSWERS in caught.value.errors["answers"][0]
    assert not Assessment.objects.exists()
    assert not SafetyEvent.objects.exists()


def test_action_stores_partial_as_clinical_md_says(world: World):
    phq = assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="phq9",
        answers=[1, 2, 0, None, 1, 0, 2, 1, 0],
    )
    assert (phq.total, phq.band, phq.missing, phq.prorated) == (None, "", [4], False)
    assert phq.completeness == "incomplete: 1 item unanswered (4) so no total"
    # CORE-10: exactly one item missing is prorated (10 x sum / 9, 1 decimal); two are not.
    one = assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="core10",
        answers=[1, 3, 3, 1, None, 0, 1, 1, 1, 1],
    )
    # Items 2 and 3 reversed (3 -> 1): sum 8 over nine items, 10 x 8 / 9 = 8.9.
    assert one.prorated and one.total == Decimal("8.9")
    assert one.completeness == "prorated: 1 item unanswered (5)"
    two = assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="core10",
        answers=[1, 3, 3, 1, None, 0, None, 1, 1, 1],
    )
    assert (two.total, two.prorated) == (None, False)
    assert two.completeness == "incomplete: 2 items unanswered (5, 7) so no total"
    complete = assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="phq9",
        answers=[1] * 9,
    )
    assert complete.completeness == ""


# --- the clinician's entry page ---------------------------------------------------------


def test_entry_page_refuses_an_empty_phq9(world: World, client_for):
    client = client_for(world.clinician_a)
    response = client.post(_base(world) + "new/phq9/", _form(world, [None] * 9))
    assert response.status_code == 422
    assert NO_ANSWERS in response.content.decode()
    assert not Assessment.objects.exists()
    history = client.get(_base(world)).content.decode()
    assert "incomplete" not in history


def test_entry_page_stores_a_partial_phq9_labelled_in_history_and_detail(world: World, client_for):
    client = client_for(world.clinician_a)
    answers = [1, 2, 0, None, 1, 0, 2, None, 0]
    response = client.post(_base(world) + "new/phq9/", _form(world, answers))
    assert response.status_code == 302
    row = Assessment.objects.get()
    assert (row.answers, row.total, row.missing) == (answers, None, [4, 8])
    label = "incomplete: 2 items unanswered (4, 8) so no total"
    assert label in client.get(_base(world)).content.decode()
    assert label in client.get(response["Location"]).content.decode()


# --- the staff API ---------------------------------------------------------------------


@pytest.mark.parametrize("answers", [[None] * 9, []])
def test_staff_api_refuses_no_answers(world: World, client_for, answers):
    response = client_for(world.clinician_a).post(
        _api(world),
        json.dumps({"instrument": "phq9", "answers": answers}),
        content_type="application/json",
    )
    assert response.status_code == 422
    body = json.dumps(response.json())
    assert NO_ANSWERS in body and '"answers"' in body
    assert not Assessment.objects.exists()


# --- the portal ------------------------------------------------------------------------


@pytest.fixture
def me(world: World, client_for):
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    return client_for(world.participant_user)


def _portal_body(answers: list[int | None]) -> dict[str, str]:
    body = {"idempotency_key": uuid.uuid4().hex}
    body.update({f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None})
    return body


def test_portal_page_refuses_empty_and_labels_a_partial_one(me):
    empty = me.post("/me/measures/phq9/", _portal_body([None] * 9))
    assert empty.status_code == 422 and NO_ANSWERS in empty.content.decode()
    assert not Assessment.objects.exists()
    partial = me.post("/me/measures/phq9/", _portal_body([1, 2, 0, None, 1, 0, 2, 1, 0]))
    assert partial.status_code == 302
    assert Assessment.objects.get().total is None
    assert (
        "Saved (some questions left blank, so no score)" in me.get("/me/measures/").content.decode()
    )


@pytest.mark.parametrize("answers", [[None] * 9, []])
def test_portal_api_refuses_no_answers(me, answers):
    response = me.post(
        "/api/v1/me/measures/phq9",
        data=json.dumps({"answers": answers}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert response.status_code == 422, response.content
    assert NO_ANSWERS in json.dumps(response.json())
    assert not Assessment.objects.exists()
