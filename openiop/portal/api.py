"""The participant portal over JSON (/api/v1/me/...), for a future mobile app.

Same actions and audit as the pages. Every write needs an `Idempotency-Key` header
(REL-01): a retry with the same key and body gets the first answer again (with
`Idempotent-Replayed: true`); the same key with a different body gets 409.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.api.schemas import StrictIn
from openiop.core.errors import ActionError
from openiop.participants.models import Participant
from openiop.portal import actions, selectors
from openiop.portal.idempotency import critical_first
from openiop.portal.models import (
    CheckIn,
    DiaryCard,
    GoalUpdate,
    HomeworkSubmission,
    SafetyPlan,
    WeeklyGoal,
)
from openiop.portal.requests import (
    KEY_HEADER,
    api_run_once,
    audit_portal_read,
    participant_request,
)
from openiop.safety import selectors as safety_selectors

router = Router(tags=["participant portal"])


# --- schemas -----------------------------------------------------------------------------


class SessionOut(Schema):
    id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    video_link: str


class MeOut(Schema):
    display_name: str
    week_start: date
    minutes_attended: int
    minutes_required: int
    minutes_booked_remaining: int
    upcoming: list[SessionOut]


class CheckInIn(StrictIn):
    # Blanks and ranges are checked by the action, after a safety "yes" has been acted on:
    # a missing or out-of-range answer elsewhere never loses the "yes" (422 names the field).
    kind: Literal["session", "daily"] | None = None
    mood: int | None = Field(None, description="0-10")
    craving: int | None = Field(None, description="0-10")
    used_since_last: bool | None = None
    use_what: str = Field("", max_length=200)
    use_when: datetime | None = None
    sleep_hours: Decimal | None = Field(None, description="0-24")
    skills_used: list[str] = []
    medication: Literal["taken", "partly", "missed", "none"] | None = None
    safety_concern: bool | None = None
    bring_to_group: str = Field("", max_length=2000)


class CheckInOut(Schema):
    id: UUID
    created_at: datetime
    kind: str
    mood: int
    craving: int
    used_since_last: bool
    safety_concern: bool
    safety_event: UUID | None


class GoalIn(StrictIn):
    text: str = Field(max_length=300)
    objective: UUID | None = None
    share_in_group: bool = True


class GoalUpdateIn(StrictIn):
    status: Literal["done", "partial", "setback"]
    note: str = Field("", max_length=2000)
    share_in_group: bool = True


class GoalUpdateOut(Schema):
    id: UUID
    status: str
    note: str
    share_in_group: bool
    created_at: datetime


class GoalOut(Schema):
    id: UUID
    text: str
    week_start: date
    objective: UUID | None
    status: str
    share_in_group: bool
    updates: list[GoalUpdateOut]


class DiaryIn(StrictIn):
    # Ranges are checked by the action, after self-harm or a high suicidal-ideation rating
    # has been acted on (a bad value elsewhere never loses them).
    emotions: dict[str, int] = {}
    urge_use: int | None = Field(None, description="0-5")
    urge_self_harm: int | None = Field(None, description="0-5")
    suicidal_ideation: int | None = Field(None, description="0-5, thoughts of suicide")
    used_substance: bool = False
    self_harm_action: bool = False
    actions_taken: str = Field("", max_length=2000)
    skills_used: list[str] = []
    note: str = Field("", max_length=2000)
    version: int | None = None


class DiaryOut(Schema):
    id: UUID
    day: date
    emotions: dict[str, int]
    urge_use: int
    urge_self_harm: int
    suicidal_ideation: int | None
    used_substance: bool
    self_harm_action: bool
    skills_used: list[str]
    entered_late: bool
    version: int
    safety_event: UUID | None


class AssignmentOut(Schema):
    session: UUID
    plan: str
    kind: str
    title: str
    instructions: str
    fields: list[dict[str, Any]]
    submitted: int


class HomeworkIn(StrictIn):
    session: UUID
    answers: dict[str, Any]


class HomeworkOut(Schema):
    id: UUID
    plan: str
    kind: str
    answers: dict[str, Any]
    created_at: datetime


class SafetyPlanIn(StrictIn):
    version: int = Field(ge=0)
    warning_signs: str = Field("", max_length=2000)
    coping_strategies: str = Field("", max_length=2000)
    distractions: str = Field("", max_length=2000)
    help_contacts: str = Field("", max_length=2000)
    professionals: str = Field("", max_length=2000)
    environment_safety: str = Field("", max_length=2000)
    reasons_for_living: str = Field("", max_length=2000)


class SafetyPlanOut(Schema):
    id: UUID | None
    version: int
    steps: dict[str, str]
    reviewed_at: datetime | None


class HelpOut(Schema):
    event: UUID
    care_team_alerted: bool
    message: str


# --- helpers -----------------------------------------------------------------------------


def _critical_first(request: HttpRequest, scope: str, raise_event: Any) -> str | None:
    """A critical answer's event before the rest of the body is validated, once per
    Idempotency-Key (a missing key never blocks it); returns the event's id."""
    user, _ = participant_request(request)
    outcome = critical_first(
        user=user,
        key=request.headers.get(KEY_HEADER),
        scope=scope,
        perform=lambda: {"event": _event_id(raise_event())},
    )
    event = outcome.response.get("event")
    return str(event) if event else None


def _event_id(event: Any) -> str | None:
    return str(event.external_id) if event is not None else None


def alert_message(alert: safety_selectors.AlertOutcome | None) -> str:
    """Participant-facing: who was actually alerted, then 911 and 988 always."""
    crisis = "In danger now: call 911. To talk to someone now: call or text 988."
    if alert is None or not alert.anyone:
        return (
            "We could not reach anyone on your care team right now; your request is "
            f"recorded for the program's staff. {crisis}"
        )
    who = []
    if alert.clinician:
        who.append("your clinician")
    if alert.on_call == 1:
        who.append("the clinician on call")
    elif alert.on_call:
        who.append(f"{alert.on_call} clinicians on call")
    if alert.leads:
        who.append("the program's clinical leads")
    return f"We sent an alert to {' and '.join(who)}. {crisis}"


def _refused_with_event(exc: ActionError, participant: Participant, event_id: str) -> HttpResponse:
    """The rest of the submission was refused (422, fields named) but the safety event it
    raised stands: say so, with the event and who was alerted."""
    alert = safety_selectors.alert_outcome(participant=participant, event_id=event_id)
    first = next(iter(exc.errors), "body")
    body = {
        "error": {
            "code": exc.code,
            "message": f"Check the field '{first}'. Your safety answer was acted on.",
            "fields": exc.errors,
        },
        "safety_event": {"id": event_id, "message": alert_message(alert)},
    }
    status = 409 if exc.code == "conflict" else 422
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def checkin_out(c: CheckIn) -> dict[str, Any]:
    return {
        "id": str(c.external_id),
        "created_at": c.created_at.isoformat(),
        "kind": c.kind,
        "mood": c.mood,
        "craving": c.craving,
        "used_since_last": c.used_since_last,
        "safety_concern": c.safety_concern,
        "safety_event": str(c.safety_event_id) if c.safety_event_id else None,
    }


def update_out(u: GoalUpdate) -> dict[str, Any]:
    return {
        "id": str(u.external_id),
        "status": u.status,
        "note": u.note,
        "share_in_group": u.share_in_group,
        "created_at": u.created_at.isoformat(),
    }


def goal_out(g: WeeklyGoal) -> dict[str, Any]:
    return {
        "id": str(g.external_id),
        "text": g.text,
        "week_start": g.week_start.isoformat(),
        "objective": str(g.objective.external_id) if g.objective else None,
        "status": g.status,
        "share_in_group": g.share_in_group,
        "updates": [update_out(u) for u in g.updates.all()],
    }


def diary_out(c: DiaryCard) -> dict[str, Any]:
    return {
        "id": str(c.external_id),
        "day": c.day.isoformat(),
        "emotions": c.emotions,
        "urge_use": c.urge_use,
        "urge_self_harm": c.urge_self_harm,
        "suicidal_ideation": c.suicidal_ideation,
        "used_substance": c.used_substance,
        "self_harm_action": c.self_harm_action,
        "skills_used": c.skills_used,
        "entered_late": c.entered_late,
        "version": c.version,
        "safety_event": str(c.safety_event_id) if c.safety_event_id else None,
    }


def homework_out(h: HomeworkSubmission) -> dict[str, Any]:
    return {
        "id": str(h.external_id),
        "plan": h.plan_code,
        "kind": h.kind,
        "answers": h.answers,
        "created_at": h.created_at.isoformat(),
    }


def plan_out(plan: SafetyPlan | None) -> dict[str, Any]:
    from openiop.portal.models import SAFETY_PLAN_FIELDS

    return {
        "id": str(plan.external_id) if plan else None,
        "version": plan.version if plan else 0,
        "steps": {name: getattr(plan, name, "") if plan else "" for name in SAFETY_PLAN_FIELDS},
        "reviewed_at": plan.reviewed_at.isoformat() if plan and plan.reviewed_at else None,
    }


# --- endpoints ---------------------------------------------------------------------------


@router.get("", response=MeOut, summary="My week: hours against the minimum, upcoming sessions")
def me(request: HttpRequest) -> dict[str, Any]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.me")
    week = selectors.my_week(participant)
    return {
        "display_name": participant.display_name,
        "week_start": week.week_start,
        "minutes_attended": week.row.total,
        "minutes_required": week.row.required,
        "minutes_booked_remaining": week.row.scheduled_remaining,
        "upcoming": [
            {
                "id": s.external_id,
                "title": s.title,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "room": s.room,
                "video_link": s.video_link,
            }
            for s in week.upcoming
        ],
    }


@router.get("/check-ins", response=list[CheckInOut], summary="My recent check-ins")
def list_checkins(request: HttpRequest) -> list[dict[str, Any]]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.checkins")
    return [checkin_out(c) for c in selectors.recent_checkins(participant, limit=50)]


@router.post("/check-ins", response={201: CheckInOut}, summary="Check in")
def create_checkin(
    request: HttpRequest, response: HttpResponse, payload: CheckInIn
) -> Status[dict[str, Any]] | HttpResponse:
    user, participant = participant_request(request)
    event_id = None
    if payload.safety_concern is True:
        event_id = _critical_first(
            request,
            "checkin_safety",
            lambda: actions.checkin_safety_raise(actor=user, participant=participant),
        )
    data = actions.CheckInInput(**payload.model_dump())
    try:
        outcome = api_run_once(
            request,
            response,
            "checkin",
            payload.model_dump(mode="json"),
            lambda: checkin_out(
                actions.checkin_submit(
                    actor=user, participant=participant, data=data, safety_event_id=event_id
                )
            ),
        )
    except ActionError as exc:
        if event_id is None:
            raise
        return _refused_with_event(exc, participant, event_id)
    return Status(201, outcome.response)


@router.get("/goals", response=list[GoalOut], summary="My goals of the last four weeks")
def list_goals(request: HttpRequest) -> list[dict[str, Any]]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.goals")
    return [goal_out(g) for g in selectors.goals_with_updates(participant)]


@router.post("/goals", response={201: GoalOut}, summary="Set a goal for this week")
def create_goal(
    request: HttpRequest, response: HttpResponse, payload: GoalIn
) -> Status[dict[str, Any]]:
    user, participant = participant_request(request)

    def perform() -> dict[str, Any]:
        goal = actions.weekly_goal_create(
            actor=user,
            participant=participant,
            text=payload.text,
            objective_id=payload.objective,
            share_in_group=payload.share_in_group,
        )
        return goal_out(goal)

    outcome = api_run_once(request, response, "goal", payload.model_dump(mode="json"), perform)
    return Status(201, outcome.response)


@router.post(
    "/goals/{weekly_goal_id}/updates",
    response={201: GoalUpdateOut},
    summary="Done, partly or setback",
)
def create_goal_update(
    request: HttpRequest, response: HttpResponse, weekly_goal_id: UUID, payload: GoalUpdateIn
) -> Status[dict[str, Any]]:
    user, participant = participant_request(request)
    goal = selectors.my_goal(participant, weekly_goal_id)

    def perform() -> dict[str, Any]:
        update = actions.goal_update_add(
            actor=user,
            goal=goal,
            status=payload.status,
            note=payload.note,
            share_in_group=payload.share_in_group,
        )
        return update_out(update)

    outcome = api_run_once(
        request, response, f"goal_update:{weekly_goal_id}", payload.model_dump(mode="json"), perform
    )
    return Status(201, outcome.response)


@router.get("/diary", response=list[DiaryOut], summary="My diary card for one week")
def diary_week(request: HttpRequest, week: date | None = None) -> list[dict[str, Any]]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.diary")
    days = selectors.diary_week(participant, week).days
    return [diary_out(card) for _, card in days if card is not None]


@router.put("/diary/{day}", response=DiaryOut, summary="Fill in or correct one day")
def diary_put(
    request: HttpRequest, response: HttpResponse, day: date, payload: DiaryIn
) -> dict[str, Any] | HttpResponse:
    user, participant = participant_request(request)
    fields = payload.model_dump(exclude={"version"})
    entry = actions.DiaryInput(day=day, **fields)
    event_id = None
    if actions.diary_safety_reasons(entry):
        event_id = _critical_first(
            request,
            f"diary_safety:{day.isoformat()}",
            lambda: actions.diary_safety_raise(actor=user, participant=participant, data=entry),
        )
    try:
        outcome = api_run_once(
            request,
            response,
            f"diary:{day.isoformat()}",
            payload.model_dump(mode="json"),
            lambda: diary_out(
                actions.diary_save(
                    actor=user,
                    participant=participant,
                    data=entry,
                    version=payload.version,
                    safety_event_id=event_id,
                )
            ),
        )
    except ActionError as exc:
        if event_id is None:
            raise
        return _refused_with_event(exc, participant, event_id)
    return outcome.response


@router.get("/homework", response=list[AssignmentOut], summary="My worksheets to do")
def list_homework(request: HttpRequest) -> list[dict[str, Any]]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.homework")
    return [
        {
            "session": a.session.external_id,
            "plan": a.plan.code,
            "kind": a.plan.homework.kind,
            "title": a.plan.homework.title,
            "instructions": a.plan.homework.instructions,
            "fields": [
                {"name": f.name, "label": f.label, "type": f.type, "choices": list(f.choices)}
                for f in a.plan.homework.fields
            ],
            "submitted": a.submitted,
        }
        for a in selectors.homework_assignments(participant)
    ]


@router.post("/homework", response={201: HomeworkOut}, summary="Send a worksheet")
def submit_homework(
    request: HttpRequest, response: HttpResponse, payload: HomeworkIn
) -> Status[dict[str, Any]]:
    user, participant = participant_request(request)
    assignment = selectors.assignment_for(participant, payload.session)

    def perform() -> dict[str, Any]:
        item = actions.homework_submit(
            actor=user,
            participant=participant,
            plan_code=assignment.plan.code,
            answers=payload.answers,
            session=assignment.session,
        )
        return homework_out(item)

    outcome = api_run_once(request, response, "homework", payload.model_dump(mode="json"), perform)
    return Status(201, outcome.response)


@router.get(
    "/homework/submissions/{submission_id}", response=HomeworkOut, summary="A worksheet I sent"
)
def get_submission(request: HttpRequest, submission_id: UUID) -> dict[str, Any]:
    user, participant = participant_request(request)
    item = selectors.my_submission(participant, submission_id)
    audit_portal_read(user, participant, "api.submission")
    return homework_out(item)


@router.get("/safety-plan", response=SafetyPlanOut, summary="My safety plan")
def get_safety_plan(request: HttpRequest) -> dict[str, Any]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.safety_plan")
    return plan_out(selectors.safety_plan(participant))


@router.put("/safety-plan", response=SafetyPlanOut, summary="Write or change my safety plan")
def put_safety_plan(
    request: HttpRequest, response: HttpResponse, payload: SafetyPlanIn
) -> dict[str, Any]:
    user, participant = participant_request(request)
    steps = payload.model_dump(exclude={"version"})
    outcome = api_run_once(
        request,
        response,
        "safety_plan",
        payload.model_dump(mode="json"),
        lambda: plan_out(
            actions.safety_plan_save(
                actor=user, participant=participant, version=payload.version, steps=steps
            )
        ),
    )
    return outcome.response


@router.post("/help", response={201: HelpOut}, summary="I need help now")
def help_now(request: HttpRequest, response: HttpResponse) -> Status[dict[str, Any]]:
    user, participant = participant_request(request)

    def perform() -> dict[str, Any]:
        event = actions.help_request(actor=user, participant=participant)
        return {"event": str(event.external_id)}

    def answer(stored: dict[str, Any]) -> dict[str, Any]:
        # Told after the commit, when the alerts have gone out: what actually happened.
        alert = safety_selectors.alert_outcome(participant=participant, event_id=stored["event"])
        return {
            "event": stored["event"],
            "care_team_alerted": bool(alert and alert.anyone),
            "message": alert_message(alert),
        }

    if not request.headers.get(KEY_HEADER):
        # Never refuse a call for help over a missing key.
        with transaction.atomic():
            stored = perform()
        return Status(201, answer(stored))
    outcome = api_run_once(request, response, "help", {}, perform)
    return Status(201, answer(outcome.response))
