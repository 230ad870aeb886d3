from __future__ import annotations

import random

import pytest

from openiop.accounts.actions import system_user
from openiop.demo.treatment import seed_treatment_plans
from openiop.testing import World, today
from openiop.treatment import selectors
from openiop.treatment.models import Intervention, PlanStatus, TreatmentPlan

pytestmark = pytest.mark.django_db


def test_each_open_episode_gets_one_active_plan(world: World):
    made = seed_treatment_plans(rng=random.Random(7), system=system_user(), today=today())
    assert made == 2  # participant A and participant B
    for participant in (world.participant_a, world.participant_b):
        plan = selectors.active_plan(participant=participant)
        assert plan is not None and plan.status == PlanStatus.ACTIVE
        assert len(plan.problems.all()) == 2
        for problem in plan.problems.all():
            assert 1 <= len(problem.goals.all()) <= 2
            for goal in problem.goals.all():
                assert goal.measure and goal.target_date >= today()
                assert 1 <= len(goal.objectives.all()) <= 2
        assert selectors.objectives_for_participant(participant=participant).exists()
    assert all(i.curriculum_modules for i in Intervention.objects.all())
    # Running it again leaves plans alone: episodes with an active plan are skipped.
    assert seed_treatment_plans(rng=random.Random(7), system=system_user(), today=today()) == 0
    assert TreatmentPlan.objects.count() == 2
