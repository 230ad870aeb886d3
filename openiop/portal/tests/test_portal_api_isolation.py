"""Portal API, REL-01 idempotency (incl. 10 concurrent duplicates on PostgreSQL) and the
guarantee that a participant never reaches another participant's data by any URL or
endpoint (parametrised over every portal route and API operation)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections

from openiop.accounts.models import UserKind
from openiop.portal import actions
from openiop.portal.models import CheckIn, DiaryCard, HomeworkSubmission, IdempotencyRecord
from openiop.portal.selectors import today_for
from openiop.testing import World, admit, make_user
from tests.routes import api_operations, valid_body, web_routes

pytestmark = pytest.mark.django_db


def _first_objective(plan: Any) -> Any:
    from openiop.treatment.models import Objective

    return Objective.objects.filter(goal__problem__plan=plan).order_by("id").first()


CHECKIN: dict[str, Any] = {
    "kind": "daily",
    "mood": 4,
    "craving": 6,
    "used_since_last": False,
    "sleep_hours": 6.5,
    "medication": "taken",
    "safety_concern": False,
    "bring_to_group": "Zephyrine marker words",
}


def _post(client, path: str, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_api_checkin_replay_returns_first_result(world: World, client_for):
    me = client_for(world.participant_user)
    key = uuid.uuid4().hex
    first = _post(me, "/api/v1/me/check-ins", CHECKIN, key)
    again = _post(me, "/api/v1/me/check-ins", CHECKIN, key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert CheckIn.objects.count() == 1


def test_REL_01_same_key_different_body_is_refused_with_clear_message(world: World, client_for):
    me = client_for(world.participant_user)
    key = uuid.uuid4().hex
    _post(me, "/api/v1/me/check-ins", CHECKIN, key)
    refused = _post(me, "/api/v1/me/check-ins", {**CHECKIN, "mood": 9}, key)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert "idempotency_key" in error["fields"]
    assert "different answers" in error["fields"]["idempotency_key"][0]
    assert CheckIn.objects.get().mood == 4


def test_REL_01_missing_key_is_named(world: World, client_for):
    response = _post(client_for(world.participant_user), "/api/v1/me/check-ins", CHECKIN)
    assert response.status_code == 422
    assert "idempotency_key" in response.json()["error"]["fields"]
    assert CheckIn.objects.count() == 0


def test_api_rejects_out_of_range_and_unknown_fields(world: World, client_for):
    me = client_for(world.participant_user)
    bad = _post(me, "/api/v1/me/check-ins", {**CHECKIN, "mood": 11}, uuid.uuid4().hex)
    assert bad.status_code == 422 and "mood" in bad.json()["error"]["fields"]
    extra = _post(me, "/api/v1/me/check-ins", {**CHECKIN, "participant": "x"}, uuid.uuid4().hex)
    assert extra.status_code == 422 and "participant" in extra.json()["error"]["fields"]


def test_api_diary_homework_safety_plan_and_help(world: World, client_for):
    me = client_for(world.participant_user)
    day = today_for(world.participant_a).isoformat()
    emotions = {"sadness": 2, "anxiety": 3, "anger": 0, "shame": 1, "loneliness": 2, "joy": 1}
    headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    card = me.put(
        f"/api/v1/me/diary/{day}",
        data=json.dumps(
            {"emotions": emotions, "urge_use": 1, "urge_self_harm": 0, "suicidal_ideation": 0}
        ),
        content_type="application/json",
        **headers,
    )
    assert card.status_code == 200 and card.json()["version"] == 1
    work = me.get("/api/v1/me/homework").json()
    assert work[0]["kind"] == "thought_record"
    sent = _post(
        me,
        "/api/v1/me/homework",
        {"session": work[0]["session"], "answers": {"situation": "Bus", "mood_intensity": 70}},
        uuid.uuid4().hex,
    )
    assert sent.status_code == 201
    plan = me.put(
        "/api/v1/me/safety-plan",
        data=json.dumps({"version": 0, "warning_signs": "Pacing"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert plan.json()["version"] == 1
    helped = _post(me, "/api/v1/me/help", {})
    assert helped.status_code == 201 and "988" in helped.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_REL_01_ten_concurrent_duplicates_store_one_row(world: World):
    """Ten threads, ten database connections, one key: exactly one check-in is stored and
    every caller gets the same answer. Meaningful on PostgreSQL (row locks on the unique
    key); SQLite serialises writers, so it passes there trivially."""
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency guarantee is tested on PostgreSQL")
    key = uuid.uuid4().hex
    barrier = threading.Barrier(10)
    results: list[dict] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            from openiop.portal.idempotency import run_once

            data = actions.CheckInInput(**{**CHECKIN, "skills_used": []})
            outcome = run_once(
                user=world.participant_user,
                key=key,
                scope="checkin",
                payload=CHECKIN,
                perform=lambda: {
                    "id": str(
                        actions.checkin_submit(
                            actor=world.participant_user, participant=world.participant_a, data=data
                        ).external_id
                    )
                },
            )
            results.append(outcome.response)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert CheckIn.objects.filter(participant=world.participant_a).count() == 1
    assert IdempotencyRecord.objects.filter(key=key).count() == 1
    assert len(results) == 10 and len({r["id"] for r in results}) == 1


# --- isolation ---------------------------------------------------------------------------


def _records_of_a(world: World) -> None:
    """Participant A's goal, diary card, worksheet, safety plan and check-in, each carrying a
    marker word, so every portal route resolves to A's rows."""
    from openiop.treatment.tests.helpers import make_plan

    plan = make_plan(world)
    objective = _first_objective(plan)
    user, me = world.participant_user, world.participant_a
    actions.weekly_goal_create(
        actor=user, participant=me, text="Zephyrine goal", objective_id=objective.external_id
    )
    actions.diary_save(
        actor=user,
        participant=me,
        data=actions.DiaryInput(
            day=today_for(me),
            emotions={
                "sadness": 1,
                "anxiety": 1,
                "anger": 1,
                "shame": 1,
                "loneliness": 1,
                "joy": 1,
            },
            urge_use=1,
            urge_self_harm=0,
            suicidal_ideation=0,
            note="Zephyrine diary",
        ),
    )
    actions.homework_submit(
        actor=user,
        participant=me,
        plan_code="cbt-02",
        answers={"situation": "Zephyrine worksheet"},
        session=world.session_a,
    )
    actions.safety_plan_save(
        actor=user, participant=me, version=0, steps={"warning_signs": "Zephyrine plan"}
    )
    actions.checkin_submit(
        actor=user, participant=me, data=actions.CheckInInput(**{**CHECKIN, "skills_used": []})
    )


def _other_participant(world: World, same_program: bool):
    program, track, clinician = (
        (world.program_a, world.track_a, world.clinician_a)
        if same_program
        else (world.program_b, world.track_b, world.clinician_b)
    )
    other, _ = admit(program, track, clinician, first="Orla", last="Pennyweather")
    user = make_user(kind=UserKind.PARTICIPANT, first="Orla")
    other.user = user
    other.save(update_fields=["user"])
    return user


@pytest.mark.parametrize("same_program", [True, False], ids=["peer-in-program", "other-program"])
def test_participant_never_reaches_another_participants_data(
    world: World, client_for, same_program
):
    _records_of_a(world)
    client = client_for(_other_participant(world, same_program))
    checked = 0
    for route in web_routes(world):
        if route.name.startswith(("accounts:", "core:", "calendar_feed:")):
            continue
        response = client.get(route.path)
        if response.status_code == 405:
            response = client.post(route.path, {"idempotency_key": uuid.uuid4().hex})
        body = response.content.decode("utf-8", "replace")
        assert "Zephyrine" not in body and "Quillby" not in body, route.name
        if (
            route.name.startswith("portal:")
            and any(k in route.path for k in ("/goals/", "/homework/sent/", "/homework/"))
            and route.path.count("-") >= 4
        ):
            assert response.status_code == 404, (route.name, response.status_code)
        checked += 1
    for method, path in api_operations(world):
        body = json.dumps(valid_body(method, path, world))
        response = client.generic(
            method,
            path,
            data=body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        text = response.content.decode("utf-8", "replace")
        assert "Zephyrine" not in text and "Quillby" not in text, (method, path)
        if "{" not in path and any(s in path for s in ("/goals/", "/submissions/")):
            assert response.status_code == 404, (method, path, response.status_code)
        checked += 1
    assert checked >= 40
    # A's records are untouched by everything B sent.
    assert DiaryCard.objects.filter(participant=world.participant_a).count() == 1
    assert HomeworkSubmission.objects.filter(participant=world.participant_a).count() == 1
