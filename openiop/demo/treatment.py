"""Synthetic treatment plans for demos: each open episode gets a realistic active plan.

Written in plain clinical language and entirely fictional. Everything goes through the real
actions, so the seeded plans obey the same rules and leave the same audit trail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.clock import program_today
from openiop.participants.models import Enrollment
from openiop.treatment import actions
from openiop.treatment.models import Goal, PlanStatus


@dataclass(frozen=True)
class ObjectiveSpec:
    statement: str
    intervention: str
    frequency: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class GoalSpec:
    statement: str
    measure: str
    objectives: tuple[ObjectiveSpec, ...]


@dataclass(frozen=True)
class ProblemSpec:
    statement: str
    goals: tuple[GoalSpec, ...]


PROBLEMS = (
    ProblemSpec(
        "Low mood most days for the past three months, with withdrawal from friends and "
        "missed work shifts.",
        (
            GoalSpec(
                "Return to a regular daily routine, including work or study most weekdays.",
                "PHQ-9 below 10 at two reviews in a row",
                (
                    ObjectiveSpec(
                        "Schedule and complete one pleasant or valued activity each day, "
                        "logged on the activity sheet.",
                        "CBT skills group: behavioural activation and activity scheduling.",
                        "3 groups a week",
                        ("cbt",),
                    ),
                    ObjectiveSpec(
                        "Identify and challenge two unhelpful thoughts a week using a "
                        "thought record.",
                        "CBT skills group: thought records; review in individual session.",
                        "Weekly individual session",
                        ("cbt",),
                    ),
                ),
            ),
            GoalSpec(
                "Reconnect with at least two supportive people outside the program.",
                "Self-reported contacts per week, reviewed in session",
                (
                    ObjectiveSpec(
                        "Practise asking for support using an assertive request in group.",
                        "Communication skills group: assertive requests and role play.",
                        "2 groups a week",
                        ("communication",),
                    ),
                ),
            ),
        ),
    ),
    ProblemSpec(
        "Drinking to cope with stress, about four days a week, with two missed days of "
        "work last month.",
        (
            GoalSpec(
                "Stay alcohol-free for the rest of the program.",
                "Days abstinent per week (self-report and breathalyser)",
                (
                    ObjectiveSpec(
                        "Write a relapse-prevention plan naming three high-risk situations "
                        "and a coping response for each.",
                        "Relapse-prevention group: high-risk situations and coping plans.",
                        "2 groups a week",
                        ("relapse_prevention",),
                    ),
                    ObjectiveSpec(
                        "Use an urge-surfing or distress-tolerance skill when cravings come, "
                        "and note it on the diary card.",
                        "DBT distress-tolerance group: TIPP and urge surfing.",
                        "Weekly group",
                        ("dbt_distress_tolerance",),
                    ),
                ),
            ),
        ),
    ),
    ProblemSpec(
        "Intense anger and self-harm urges during arguments at home, about twice a week.",
        (
            GoalSpec(
                "Get through conflict at home without self-harm.",
                "Self-harm urges and actions on the weekly diary card",
                (
                    ObjectiveSpec(
                        "Use a crisis-survival skill (e.g. TIPP, distraction) within ten "
                        "minutes of a strong urge.",
                        "DBT distress-tolerance group and safety-plan review.",
                        "2 groups a week",
                        ("dbt_distress_tolerance",),
                    ),
                ),
            ),
            GoalSpec(
                "Talk through disagreements at home calmly.",
                "Arguments that escalate, per week (participant and family report)",
                (
                    ObjectiveSpec(
                        "Practise one structured conversation a week using 'I' statements.",
                        "Communication skills group; one family session.",
                        "Weekly group, one family session",
                        ("communication",),
                    ),
                ),
            ),
        ),
    ),
    ProblemSpec(
        "Racing worries and poor sleep (about four hours a night) since a job loss.",
        (
            GoalSpec(
                "Sleep at least six hours on most nights.",
                "Hours slept, from the sleep diary; GAD-7 at each review",
                (
                    ObjectiveSpec(
                        "Keep a consistent wake time and a wind-down routine five nights a week.",
                        "Psychoeducation on sleep; CBT group on worry time.",
                        "Weekly group",
                        ("cbt",),
                    ),
                    ObjectiveSpec(
                        "Practise a mindfulness exercise for ten minutes each evening.",
                        "DBT mindfulness group: observe and describe.",
                        "Weekly group",
                        ("dbt_mindfulness",),
                    ),
                ),
            ),
        ),
    ),
)

STATEMENTS = (
    "I want to feel like myself again and get back to work.",
    "I don't want drinking to run my life any more.",
    "I want to stop fighting with my family and sleep properly.",
    "I want to be there for my kids.",
    "I'd like to finish school and have a normal week.",
)


def seed_treatment_plans(*, rng: random.Random, system: User, today: date) -> int:
    """Give each participant with an open episode (and no active plan) an active plan of two
    problems, 1–2 SMART goals each and 1–2 objectives per goal. Returns how many were made."""
    episodes = (
        Enrollment.objects.filter(discharged_on__isnull=True)
        .exclude(treatment_plans__status=PlanStatus.ACTIVE)
        .select_related("participant", "participant__program", "program")
        .order_by("id")
    )
    made = 0
    for episode in episodes:
        with transaction.atomic():
            _seed_plan(rng=rng, system=system, episode=episode, today=today)
        made += 1
    return made


def _seed_plan(*, rng: random.Random, system: User, episode: Enrollment, today: date) -> None:
    program = episode.program
    # Targets are checked against the program's own clock; never let them fall behind it.
    now = max(today, program_today(program))
    effective_on = min(episode.admitted_on + timedelta(days=rng.randint(0, 7)), now)
    plan = actions.plan_create(
        actor=system,
        participant=episode.participant,
        effective_on=effective_on,
        review_on=effective_on + timedelta(days=rng.choice([30, 30, 60, 90])),
        participant_statement=rng.choice(STATEMENTS),
    )
    version = plan.version
    for spec in rng.sample(PROBLEMS, 2):
        problem = actions.problem_add(
            actor=system, plan=plan, expected_version=version, statement=spec.statement
        )
        version += 1
        for goal_spec in spec.goals[: rng.randint(1, 2)]:
            goal_target = now + timedelta(days=rng.randint(30, 75))
            goal = actions.goal_add(
                actor=system,
                problem=problem,
                expected_version=version,
                statement=goal_spec.statement,
                measure=goal_spec.measure,
                target_date=goal_target,
            )
            version += 1
            for objective_spec in goal_spec.objectives[: rng.randint(1, 2)]:
                version = _seed_objective(
                    system=system,
                    goal=goal,
                    version=version,
                    spec=objective_spec,
                    target=min(goal_target, now + timedelta(days=rng.randint(14, 35))),
                    responsible=episode.primary_clinician,
                )
    actions.plan_activate(actor=system, plan=plan, expected_version=version)


def _seed_objective(
    *,
    system: User,
    goal: Goal,
    version: int,
    spec: ObjectiveSpec,
    target: date,
    responsible: User,
) -> int:
    objective = actions.objective_add(
        actor=system,
        goal=goal,
        expected_version=version,
        statement=spec.statement,
        target_date=target,
    )
    actions.intervention_add(
        actor=system,
        objective=objective,
        expected_version=version + 1,
        description=spec.intervention,
        frequency=spec.frequency,
        responsible=responsible,
        curriculum_modules=spec.modules,
    )
    return version + 2


__all__ = ["PROBLEMS", "seed_treatment_plans"]
