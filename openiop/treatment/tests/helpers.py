"""Tiny builders for treatment-plan tests: the real actions underneath (style rule 18)."""

from __future__ import annotations

from datetime import date, timedelta

from openiop.accounts.models import User
from openiop.participants.models import Participant
from openiop.testing import World, today
from openiop.treatment import actions
from openiop.treatment.models import Goal, Objective, Problem, TreatmentPlan


def soon(days: int = 30) -> date:
    return today() + timedelta(days=days)


def draft(world: World, *, participant: Participant | None = None) -> TreatmentPlan:
    return actions.plan_create(
        actor=world.clinician_a,
        participant=participant or world.participant_a,
        effective_on=today() - timedelta(days=1),
        review_on=soon(30),
        participant_statement="I want to get back to work and sleep through the night.",
    )


def grow(
    plan: TreatmentPlan, actor: User, *, problems: int = 1, goals: int = 1, objectives: int = 1
) -> list[Objective]:
    """Add problems → goals → objectives → one intervention each; returns the objectives."""
    made: list[Objective] = []
    for p in range(problems):
        problem = actions.problem_add(
            actor=actor,
            plan=plan,
            expected_version=_v(plan),
            statement=f"Low mood most days, missing work ({p}).",
        )
        for g in range(goals):
            goal = actions.goal_add(
                actor=actor,
                problem=problem,
                expected_version=_v(plan),
                statement=f"Return to a regular work routine ({g}).",
                measure="PHQ-9 under 10 at two reviews in a row",
                target_date=soon(60),
            )
            for o in range(objectives):
                objective = actions.objective_add(
                    actor=actor,
                    goal=goal,
                    expected_version=_v(plan),
                    statement=f"Use one behavioural-activation task daily ({o}).",
                    target_date=soon(30),
                )
                actions.intervention_add(
                    actor=actor,
                    objective=objective,
                    expected_version=_v(plan),
                    description="CBT skills group: activity scheduling.",
                    frequency="3 groups a week",
                    curriculum_modules=["cbt"],
                )
                made.append(objective)
    plan.refresh_from_db()
    return made


def _v(plan: TreatmentPlan) -> int:
    plan.refresh_from_db(fields=["version"])
    return plan.version


def make_plan(world: World, *, active: bool = True) -> TreatmentPlan:
    """A plan for participant A with one problem, goal, objective and intervention."""
    plan = draft(world)
    grow(plan, world.clinician_a)
    if active:
        actions.plan_activate(actor=world.clinician_a, plan=plan, expected_version=plan.version)
    return plan


def first_items(plan: TreatmentPlan) -> tuple[Problem, Goal, Objective]:
    problem = plan.problems.order_by("id").first()
    goal = Goal.objects.filter(problem__plan=plan).order_by("id").first()
    objective = Objective.objects.filter(goal__problem__plan=plan).order_by("id").first()
    assert problem and goal and objective
    return problem, goal, objective
