"""Reads of treatment plans, always scoped through the participant's program."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.core.clock import program_today
from openiop.participants.models import Participant
from openiop.programs.models import Program
from openiop.treatment.models import (
    Goal,
    Intervention,
    ItemStatus,
    Objective,
    PlanStatus,
    Problem,
    StatusChange,
    TreatmentPlan,
)

# Objectives a session can still work on; achieved, revised and discontinued ones are history.
OPEN_STATUSES = (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS)


def _tree() -> Prefetch[str, QuerySet[Problem], str]:
    """Problems → goals → objectives → interventions: four queries however large the plan."""
    interventions = Intervention.objects.select_related("responsible").order_by("id")
    objectives = Objective.objects.order_by("position", "id").prefetch_related(
        Prefetch("interventions", queryset=interventions)
    )
    goals = Goal.objects.order_by("position", "id").prefetch_related(
        Prefetch("objectives", queryset=objectives)
    )
    problems = Problem.objects.order_by("position", "id").prefetch_related(
        Prefetch("goals", queryset=goals)
    )
    return Prefetch("problems", queryset=problems)


def _plans(participant: Participant) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(
        program=participant.program, participant=participant
    ).select_related("enrollment", "participant", "program")


def active_plan(*, participant: Participant) -> TreatmentPlan | None:
    """The open episode's active plan with its whole tree prefetched, or None."""
    return (
        _plans(participant)
        .filter(status=PlanStatus.ACTIVE, enrollment__discharged_on__isnull=True)
        .prefetch_related(_tree())
        .first()
    )


def current_plan(*, participant: Participant) -> TreatmentPlan | None:
    """The plan to show first: the active one, else the newest draft of the open episode."""
    return active_plan(participant=participant) or (
        _plans(participant)
        .filter(status=PlanStatus.DRAFT, enrollment__discharged_on__isnull=True)
        .order_by("-created_at", "-id")
        .prefetch_related(_tree())
        .first()
    )


def plan_list(*, participant: Participant) -> QuerySet[TreatmentPlan]:
    return _plans(participant).order_by("-effective_on", "-id")


def plan_get(*, participant: Participant, plan_id: UUID | str) -> TreatmentPlan:
    """One plan of this participant (tree prefetched), or 404."""
    try:
        return _plans(participant).prefetch_related(_tree()).get(external_id=plan_id)
    except (TreatmentPlan.DoesNotExist, ValueError):
        raise Http404("plan not found") from None


def problem_get(*, plan: TreatmentPlan, problem_id: UUID | str) -> Problem:
    try:
        return Problem.objects.get(program=plan.program, plan=plan, external_id=problem_id)
    except (Problem.DoesNotExist, ValueError):
        raise Http404("problem not found") from None


def goal_get(*, plan: TreatmentPlan, goal_id: UUID | str) -> Goal:
    try:
        return Goal.objects.select_related("problem").get(
            program=plan.program, problem__plan=plan, external_id=goal_id
        )
    except (Goal.DoesNotExist, ValueError):
        raise Http404("goal not found") from None


def objective_get(*, plan: TreatmentPlan, objective_id: UUID | str) -> Objective:
    try:
        return Objective.objects.select_related("goal").get(
            program=plan.program, goal__problem__plan=plan, external_id=objective_id
        )
    except (Objective.DoesNotExist, ValueError):
        raise Http404("objective not found") from None


def objectives_for_participant(*, participant: Participant) -> QuerySet[Objective]:
    """The active plan's open objectives (under open goals and problems), for a note to cite:
    the golden thread from each session back to the plan."""
    return (
        Objective.objects.filter(
            program=participant.program,
            goal__problem__plan__participant=participant,
            goal__problem__plan__status=PlanStatus.ACTIVE,
            goal__problem__plan__enrollment__discharged_on__isnull=True,
            status__in=OPEN_STATUSES,
            goal__status__in=OPEN_STATUSES,
            goal__problem__status__in=OPEN_STATUSES,
        )
        .select_related("goal__problem")
        .prefetch_related("interventions")
        .order_by("goal__problem__position", "goal__position", "position", "id")
    )


def plans_due_for_review(*, program: Program, on: date) -> QuerySet[TreatmentPlan]:
    """Active plans of open episodes whose review date is on or before `on`."""
    return (
        TreatmentPlan.objects.filter(
            program=program,
            status=PlanStatus.ACTIVE,
            enrollment__discharged_on__isnull=True,
            review_on__lte=on,
        )
        .select_related("participant", "enrollment")
        .order_by("review_on", "id")
    )


def status_history(*, plan: TreatmentPlan) -> QuerySet[StatusChange]:
    return StatusChange.objects.filter(program=plan.program, plan=plan).select_related(
        "created_by", "problem", "goal", "objective"
    )


@dataclass(frozen=True)
class ChartPlan:
    plan: TreatmentPlan | None
    review_overdue: bool
    can_edit: bool


def chart_plan(*, access: ProgramAccess, participant: Participant) -> ChartPlan | None:
    """The chart's plan summary, or None for roles that may not read plans (intake, billing)."""
    if not access.can(Perm.PLAN_VIEW):
        return None
    plan = active_plan(participant=participant)
    overdue = plan is not None and plan.review_on < program_today(access.program)
    return ChartPlan(plan=plan, review_overdue=overdue, can_edit=access.can(Perm.PLAN_EDIT))
