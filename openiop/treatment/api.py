"""Treatment plans over JSON. Same actions, scoping and audit as the web pages.

Every write takes the plan `version` the client read (409 when stale) and answers with the
whole plan, so the client always holds the current version for its next edit.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.models import User
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import clinicians_for_program
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant
from openiop.treatment import actions, selectors
from openiop.treatment.models import Goal, Intervention, Objective, Problem, TreatmentPlan

router = Router(tags=["treatment plans"])

ItemStatusCode = Literal["not_started", "in_progress", "achieved", "revised", "discontinued"]


class VersionedIn(StrictIn):
    version: int = Field(ge=1, description="The plan version you read; a stale version gets 409.")


class PlanCreateIn(StrictIn):
    effective_on: date
    review_on: date
    participant_statement: str = Field("", max_length=4000)


class PlanReviewIn(VersionedIn):
    reviewed_on: date
    next_review_on: date
    note: str = Field(min_length=1, max_length=8000)


class ProblemIn(VersionedIn):
    statement: str = Field(min_length=1, max_length=2000)


class GoalIn(VersionedIn):
    statement: str = Field(min_length=1, max_length=2000)
    measure: str = Field(min_length=1, max_length=300)
    target_date: date


class ObjectiveIn(VersionedIn):
    statement: str = Field(min_length=1, max_length=2000)
    target_date: date


class InterventionIn(VersionedIn):
    description: str = Field(min_length=1, max_length=2000)
    frequency: str = Field(min_length=1, max_length=120)
    responsible: UUID | None = None
    curriculum_modules: list[str] = Field(default_factory=list, max_length=10)


class StatusIn(VersionedIn):
    status: ItemStatusCode
    reason: str = Field(min_length=1, max_length=2000)


class InterventionOut(Schema):
    id: UUID
    description: str
    frequency: str
    responsible: UUID | None
    curriculum_modules: list[str]


class ObjectiveOut(Schema):
    id: UUID
    statement: str
    target_date: date
    status: str
    interventions: list[InterventionOut]


class GoalOut(Schema):
    id: UUID
    statement: str
    measure: str
    target_date: date
    status: str
    objectives: list[ObjectiveOut]


class ProblemOut(Schema):
    id: UUID
    statement: str
    status: str
    goals: list[GoalOut]


class PlanOut(Schema):
    id: UUID
    participant: UUID
    enrollment: UUID
    status: str
    effective_on: date
    review_on: date
    participant_statement: str
    version: int
    problems: list[ProblemOut]


class ActivePlanOut(Schema):
    plan: PlanOut | None


def _participant(
    request: HttpRequest, program_id: UUID, participant_id: UUID, perm: Perm
) -> tuple[ProgramAccess, Participant]:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _plan(
    request: HttpRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, perm: Perm
) -> tuple[ProgramAccess, Participant, TreatmentPlan]:
    access, participant = _participant(request, program_id, participant_id, perm)
    return access, participant, selectors.plan_get(participant=participant, plan_id=plan_id)


def _intervention_out(i: Intervention) -> InterventionOut:
    return InterventionOut(
        id=i.external_id,
        description=i.description,
        frequency=i.frequency,
        responsible=i.responsible.external_id if i.responsible else None,
        curriculum_modules=list(i.curriculum_modules),
    )


def _objective_out(o: Objective) -> ObjectiveOut:
    return ObjectiveOut(
        id=o.external_id,
        statement=o.statement,
        target_date=o.target_date,
        status=o.status,
        interventions=[_intervention_out(i) for i in o.interventions.all()],
    )


def _goal_out(g: Goal) -> GoalOut:
    return GoalOut(
        id=g.external_id,
        statement=g.statement,
        measure=g.measure,
        target_date=g.target_date,
        status=g.status,
        objectives=[_objective_out(o) for o in g.objectives.all()],
    )


def _problem_out(p: Problem) -> ProblemOut:
    return ProblemOut(
        id=p.external_id,
        statement=p.statement,
        status=p.status,
        goals=[_goal_out(g) for g in p.goals.all()],
    )


def plan_out(plan: TreatmentPlan) -> PlanOut:
    """Serialise a plan whose tree was prefetched by the selectors."""
    return PlanOut(
        id=plan.external_id,
        participant=plan.participant.external_id,
        enrollment=plan.enrollment.external_id,
        status=plan.status,
        effective_on=plan.effective_on,
        review_on=plan.review_on,
        participant_statement=plan.participant_statement,
        version=plan.version,
        problems=[_problem_out(p) for p in plan.problems.all()],
    )


def _fresh(participant: Participant, plan: TreatmentPlan) -> PlanOut:
    return plan_out(selectors.plan_get(participant=participant, plan_id=plan.external_id))


def _audit_read(request: HttpRequest, participant: Participant, plan: TreatmentPlan | None) -> None:
    detail = {"view": "api.treatment_plan", "plan": str(plan.external_id) if plan else None}
    audit_record(actor=request_user(request), action="read", obj=participant, detail=detail)


BASE = "/{program_id}/participants/{participant_id}"
PLAN = BASE + "/plans/{plan_id}"


@router.get(BASE + "/plan", response=ActivePlanOut, summary="The active plan (whole tree)")
def get_active_plan(request: HttpRequest, program_id: UUID, participant_id: UUID) -> ActivePlanOut:
    _, participant = _participant(request, program_id, participant_id, Perm.PLAN_VIEW)
    plan = selectors.active_plan(participant=participant)
    _audit_read(request, participant, plan)
    return ActivePlanOut(plan=plan_out(plan) if plan else None)


@router.get(PLAN, response=PlanOut, summary="One plan (whole tree)")
def get_plan(
    request: HttpRequest, program_id: UUID, participant_id: UUID, plan_id: UUID
) -> PlanOut:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_VIEW)
    _audit_read(request, participant, plan)
    return plan_out(plan)


@router.post(BASE + "/plans", response={201: PlanOut}, summary="Create a draft plan")
def create_plan(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: PlanCreateIn
) -> Status[PlanOut]:
    _, participant = _participant(request, program_id, participant_id, Perm.PLAN_EDIT)
    plan = actions.plan_create(
        actor=request_user(request), participant=participant, **payload.model_dump()
    )
    return Status(201, _fresh(participant, plan))


@router.post(PLAN + "/activate", response=PlanOut, summary="Activate a plan")
def activate_plan(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    payload: VersionedIn,
) -> PlanOut:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.plan_activate(actor=request_user(request), plan=plan, expected_version=payload.version)
    return _fresh(participant, plan)


@router.post(PLAN + "/reviews", response={201: PlanOut}, summary="Record a plan review")
def review_plan(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    payload: PlanReviewIn,
) -> Status[PlanOut]:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.plan_review(
        actor=request_user(request),
        plan=plan,
        expected_version=payload.version,
        reviewed_on=payload.reviewed_on,
        next_review_on=payload.next_review_on,
        note=payload.note,
    )
    return Status(201, _fresh(participant, plan))


@router.post(PLAN + "/problems", response={201: PlanOut}, summary="Add a problem")
def add_problem(
    request: HttpRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, payload: ProblemIn
) -> Status[PlanOut]:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.problem_add(
        actor=request_user(request),
        plan=plan,
        expected_version=payload.version,
        statement=payload.statement,
    )
    return Status(201, _fresh(participant, plan))


@router.post(PLAN + "/problems/{problem_id}/goals", response={201: PlanOut}, summary="Add a goal")
def add_goal(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    problem_id: UUID,
    payload: GoalIn,
) -> Status[PlanOut]:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.goal_add(
        actor=request_user(request),
        problem=selectors.problem_get(plan=plan, problem_id=problem_id),
        expected_version=payload.version,
        statement=payload.statement,
        measure=payload.measure,
        target_date=payload.target_date,
    )
    return Status(201, _fresh(participant, plan))


@router.post(
    PLAN + "/goals/{goal_id}/objectives", response={201: PlanOut}, summary="Add an objective"
)
def add_objective(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    goal_id: UUID,
    payload: ObjectiveIn,
) -> Status[PlanOut]:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.objective_add(
        actor=request_user(request),
        goal=selectors.goal_get(plan=plan, goal_id=goal_id),
        expected_version=payload.version,
        statement=payload.statement,
        target_date=payload.target_date,
    )
    return Status(201, _fresh(participant, plan))


def _responsible(access: ProgramAccess, user_id: UUID | None) -> User | None:
    if user_id is None:
        return None
    user = clinicians_for_program(program=access.program).filter(external_id=user_id).first()
    if user is None:
        raise ActionError({"responsible": "No clinician of this program has that id."})
    return user


@router.post(
    PLAN + "/objectives/{objective_id}/interventions",
    response={201: PlanOut},
    summary="Add an intervention",
)
def add_intervention(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    objective_id: UUID,
    payload: InterventionIn,
) -> Status[PlanOut]:
    access, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    actions.intervention_add(
        actor=request_user(request),
        objective=selectors.objective_get(plan=plan, objective_id=objective_id),
        expected_version=payload.version,
        description=payload.description,
        frequency=payload.frequency,
        responsible=_responsible(access, payload.responsible),
        curriculum_modules=payload.curriculum_modules,
    )
    return Status(201, _fresh(participant, plan))


def _set_status(
    request: HttpRequest,
    participant: Participant,
    plan: TreatmentPlan,
    item: Problem | Goal | Objective,
    payload: StatusIn,
) -> PlanOut:
    actions.item_set_status(
        actor=request_user(request),
        item=item,
        expected_version=payload.version,
        status=payload.status,
        reason=payload.reason,
    )
    return _fresh(participant, plan)


@router.post(PLAN + "/problems/{problem_id}/status", response=PlanOut, summary="Problem status")
def problem_status(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    problem_id: UUID,
    payload: StatusIn,
) -> PlanOut:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    item = selectors.problem_get(plan=plan, problem_id=problem_id)
    return _set_status(request, participant, plan, item, payload)


@router.post(PLAN + "/goals/{goal_id}/status", response=PlanOut, summary="Goal status")
def goal_status(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    goal_id: UUID,
    payload: StatusIn,
) -> PlanOut:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    item = selectors.goal_get(plan=plan, goal_id=goal_id)
    return _set_status(request, participant, plan, item, payload)


@router.post(
    PLAN + "/objectives/{objective_id}/status", response=PlanOut, summary="Objective status"
)
def objective_status(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    objective_id: UUID,
    payload: StatusIn,
) -> PlanOut:
    _, participant, plan = _plan(request, program_id, participant_id, plan_id, Perm.PLAN_EDIT)
    item = selectors.objective_get(plan=plan, objective_id=objective_id)
    return _set_status(request, participant, plan, item, payload)
