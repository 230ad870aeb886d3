from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.accounts.roles import Role
from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.actions import enrollment_discharge
from openiop.testing import World, admit, make_staff, today
from openiop.treatment import actions, selectors
from openiop.treatment.models import (
    Goal,
    Intervention,
    ItemStatus,
    Objective,
    PlanReview,
    PlanStatus,
    Problem,
    StatusChange,
    TreatmentPlan,
)
from openiop.treatment.tests.helpers import draft, first_items, grow, make_plan, soon

pytestmark = pytest.mark.django_db


def _days_from_today(days: int | None):
    # Dates are built when the test runs, from the program's own today (never at import).
    return None if days is None else today() + timedelta(days=days)


@pytest.mark.parametrize(
    ("effective_in", "review_in", "field"),
    [
        (0, 91, "review_on"),
        (0, -1, "review_on"),
        (0, None, "review_on"),
        (-30, 0, "effective_on"),  # before admission
        (None, 0, "effective_on"),
    ],
)
def test_plan_create_validation_names_the_field_and_saves_nothing(
    world: World, effective_in, review_in, field
):
    with pytest.raises(ActionError) as caught:
        actions.plan_create(
            actor=world.clinician_a,
            participant=world.participant_a,
            effective_on=_days_from_today(effective_in),
            review_on=_days_from_today(review_in),
        )
    assert set(caught.value.errors) == {field}
    assert not TreatmentPlan.objects.exists()


def test_plan_create_needs_an_open_episode(world: World):
    enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today() - timedelta(days=1),
        reason="completed",
        step_down_destination="outpatient",
    )
    with pytest.raises(ActionError) as caught:
        draft(world)
    assert "participant" in caught.value.errors


def test_plan_create_is_a_draft_for_the_open_episode_and_audited(world: World):
    plan = draft(world)
    assert plan.status == PlanStatus.DRAFT and plan.version == 1
    assert plan.enrollment == world.enrollment_a and plan.program == world.program_a
    event = AuditEvent.objects.get(object_id=str(plan.external_id))
    assert event.action == "create"
    assert event.participant_external_id == world.participant_a.external_id


def test_goal_requires_every_smart_part(world: World):
    plan = draft(world)
    problem = actions.problem_add(
        actor=world.clinician_a, plan=plan, expected_version=1, statement="Low mood."
    )
    with pytest.raises(ActionError) as caught:
        actions.goal_add(
            actor=world.clinician_a,
            problem=problem,
            expected_version=plan.version,
            statement=" ",
            measure="",
            target_date=None,
        )
    assert set(caught.value.errors) == {"statement", "measure", "target_date"}
    assert not Goal.objects.exists()
    plan.refresh_from_db()
    assert plan.version == 2  # the refused goal did not bump the version


@pytest.mark.parametrize("days", [-1, -30])
def test_goal_target_date_cannot_be_in_the_past(world: World, days: int):
    plan = draft(world)
    problem = actions.problem_add(
        actor=world.clinician_a, plan=plan, expected_version=1, statement="x"
    )
    with pytest.raises(ActionError) as caught:
        actions.goal_add(
            actor=world.clinician_a,
            problem=problem,
            expected_version=2,
            statement="Sleep six hours",
            measure="sleep diary",
            target_date=today() + timedelta(days=days),
        )
    assert set(caught.value.errors) == {"target_date"}


def test_objective_is_due_no_later_than_its_goal(world: World):
    plan = make_plan(world, active=False)
    _, goal, _ = first_items(plan)
    with pytest.raises(ActionError) as caught:
        actions.objective_add(
            actor=world.clinician_a,
            goal=goal,
            expected_version=plan.version,
            statement="Walk daily",
            target_date=goal.target_date + timedelta(days=1),
        )
    assert set(caught.value.errors) == {"target_date"}


def test_only_one_active_plan_per_episode(world: World):
    first = make_plan(world)
    assert first.status == PlanStatus.ACTIVE
    second = draft(world)
    grow(second, world.clinician_a)
    actions.plan_activate(actor=world.clinician_a, plan=second, expected_version=second.version)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (PlanStatus.CLOSED, PlanStatus.ACTIVE)
    assert TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE).count() == 1
    assert selectors.active_plan(participant=world.participant_a) == second


def test_activate_needs_a_goal_and_refuses_an_active_plan(world: World):
    plan = draft(world)
    with pytest.raises(ActionError) as caught:
        actions.plan_activate(actor=world.clinician_a, plan=plan, expected_version=1)
    assert "plan" in caught.value.errors
    active = make_plan(world)
    with pytest.raises(ConflictError):
        actions.plan_activate(actor=world.clinician_a, plan=active, expected_version=active.version)


def test_stale_version_is_refused_and_nothing_is_saved(world: World):
    plan = draft(world)
    actions.problem_add(actor=world.clinician_a, plan=plan, expected_version=1, statement="First")
    with pytest.raises(ConflictError) as caught:
        actions.problem_add(
            actor=world.clinician_a, plan=plan, expected_version=1, statement="Stale edit"
        )
    assert "version" in caught.value.errors
    assert list(Problem.objects.values_list("statement", flat=True)) == ["First"]


def test_a_failed_audit_leaves_nothing_half_saved(world: World, monkeypatch):
    plan = draft(world)

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(actions, "audit_record", broken)
    with pytest.raises(RuntimeError):
        actions.problem_add(actor=world.clinician_a, plan=plan, expected_version=1, statement="x")
    assert not Problem.objects.exists()
    plan.refresh_from_db()
    assert plan.version == 1


def test_closed_plan_is_read_only(world: World):
    old = make_plan(world)
    replacement = draft(world)
    grow(replacement, world.clinician_a)
    actions.plan_activate(
        actor=world.clinician_a, plan=replacement, expected_version=replacement.version
    )
    old.refresh_from_db()
    with pytest.raises(ConflictError) as caught:
        actions.problem_add(
            actor=world.clinician_a, plan=old, expected_version=old.version, statement="late"
        )
    assert "plan" in caught.value.errors


def test_status_change_keeps_history_with_reason(world: World):
    plan = make_plan(world)
    _, _, objective = first_items(plan)
    change = actions.item_set_status(
        actor=world.clinician_a,
        item=objective,
        expected_version=plan.version,
        status=ItemStatus.ACHIEVED,
        reason="Logged activities on 12 of 14 days.",
    )
    objective.refresh_from_db()
    assert objective.status == ItemStatus.ACHIEVED
    assert (change.from_status, change.to_status, change.objective) == (
        ItemStatus.IN_PROGRESS,
        ItemStatus.ACHIEVED,
        objective,
    )
    assert AuditEvent.objects.filter(object_id=str(objective.external_id), action="update").exists()


@pytest.mark.parametrize(
    ("status", "reason", "fields"),
    [
        ("achieved", "", {"reason"}),
        ("in_progress", "no change", {"status"}),
        ("finished", "typo", {"status"}),
    ],
)
def test_status_change_validation(world: World, status, reason, fields):
    plan = make_plan(world)
    problem, _, _ = first_items(plan)
    with pytest.raises(ActionError) as caught:
        actions.item_set_status(
            actor=world.clinician_a,
            item=problem,
            expected_version=plan.version,
            status=status,
            reason=reason,
        )
    assert set(caught.value.errors) == fields
    assert not StatusChange.objects.exists()


def test_intervention_modules_and_responsible_are_checked(world: World):
    plan = make_plan(world)
    _, _, objective = first_items(plan)
    with pytest.raises(ActionError) as caught:
        actions.intervention_add(
            actor=world.clinician_a,
            objective=objective,
            expected_version=plan.version,
            description="Group",
            frequency="",
            responsible=world.clinician_b,
            curriculum_modules=["CBT Module!"],
        )
    assert set(caught.value.errors) == {"frequency", "responsible", "curriculum_modules"}
    made = actions.intervention_add(
        actor=world.clinician_a,
        objective=objective,
        expected_version=plan.version,
        description="Relapse-prevention group",
        frequency="2 groups a week",
        responsible=world.supervisor_a,
        curriculum_modules=["relapse_prevention", " cbt ", "relapse_prevention"],
    )
    assert made.curriculum_modules == ["relapse_prevention", "cbt"]
    assert Intervention.objects.filter(objective=objective).count() == 2


def test_review_moves_the_review_date_and_is_kept(world: World):
    plan = make_plan(world)
    with pytest.raises(ActionError) as caught:
        actions.plan_review(
            actor=world.clinician_a,
            plan=plan,
            expected_version=plan.version,
            reviewed_on=today(),
            next_review_on=today() + timedelta(days=120),
            note="",
        )
    assert set(caught.value.errors) == {"next_review_on", "note"}
    review = actions.plan_review(
        actor=world.clinician_a,
        plan=plan,
        expected_version=plan.version,
        reviewed_on=today() - timedelta(days=1),
        next_review_on=soon(30),
        note="Mood improving; PHQ-9 down from 17 to 11. Keep goals.",
    )
    plan.refresh_from_db()
    assert plan.review_on == soon(30) and PlanReview.objects.get() == review


def test_draft_cannot_be_reviewed(world: World):
    plan = draft(world)
    with pytest.raises(ConflictError):
        actions.plan_review(
            actor=world.clinician_a,
            plan=plan,
            expected_version=1,
            reviewed_on=today(),
            next_review_on=soon(30),
            note="x",
        )


def test_objectives_for_participant_are_the_active_plans_open_objectives(world: World):
    plan = draft(world)
    grow(plan, world.clinician_a, problems=1, goals=1, objectives=2)
    assert list(selectors.objectives_for_participant(participant=world.participant_a)) == []
    actions.plan_activate(actor=world.clinician_a, plan=plan, expected_version=plan.version)
    done, still_open = Objective.objects.order_by("id")
    actions.item_set_status(
        actor=world.clinician_a,
        item=done,
        expected_version=plan.version,  # activation kept the passed-in plan current
        status=ItemStatus.ACHIEVED,
        reason="Met.",
    )
    cited = list(selectors.objectives_for_participant(participant=world.participant_a))
    assert cited == [still_open]
    assert list(selectors.objectives_for_participant(participant=world.participant_b)) == []


def test_plans_due_for_review(world: World):
    plan = make_plan(world)
    assert list(selectors.plans_due_for_review(program=world.program_a, on=today())) == []
    due = list(selectors.plans_due_for_review(program=world.program_a, on=plan.review_on))
    assert due == [plan]
    assert list(selectors.plans_due_for_review(program=world.program_b, on=soon(365))) == []


def test_items_belong_to_the_plans_program(world: World):
    other_clinician = make_staff(world.program_a, Role.CLINICIAN)
    participant, _ = admit(world.program_a, world.track_a, other_clinician, first="Jo", last="Fern")
    plan = draft(world, participant=participant)
    grow(plan, other_clinician)
    assert set(Problem.objects.values_list("program", flat=True)) == {world.program_a.pk}
    assert set(Intervention.objects.values_list("program", flat=True)) == {world.program_a.pk}
