from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEvent
from openiop.testing import World, today
from openiop.treatment.models import Goal, ItemStatus, PlanStatus, Problem, TreatmentPlan
from openiop.treatment.tests.helpers import draft, first_items, grow, make_plan, soon

pytestmark = pytest.mark.django_db

PROBLEM = "Low mood most days"


def url(name: str, world: World, **kwargs) -> str:
    return reverse(
        f"treatment:{name}",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
            **kwargs,
        },
    )


def plan_url(name: str, world: World, plan: TreatmentPlan, **kwargs) -> str:
    return url(name, world, plan_id=plan.external_id, **kwargs)


def chart(world: World) -> str:
    return reverse(
        "participants:chart",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
        },
    )


def test_plan_page_shows_the_whole_tree_and_audits_the_read(world: World, client_for):
    plan = make_plan(world)
    before = AuditEvent.objects.filter(action="read").count()
    response = client_for(world.clinician_a).get(url("plan_home", world))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (PROBLEM, "PHQ-9 under 10", "behavioural-activation", "modules: cbt", "Active"):
        assert text in body
    read = AuditEvent.objects.filter(action="read").order_by("-seq").first()
    assert AuditEvent.objects.filter(action="read").count() == before + 1
    assert read is not None and read.participant_external_id == world.participant_a.external_id
    assert read.detail["plan"] == str(plan.external_id)


@pytest.mark.parametrize("persona", ["billing_a", "intake_a"])
def test_billing_and_intake_cannot_read_or_edit_plans(world: World, client_for, persona):
    plan = make_plan(world)
    client = client_for(getattr(world, persona))
    assert client.get(url("plan_home", world)).status_code == 403
    assert client.get(plan_url("plan_detail", world, plan)).status_code == 403
    response = client.post(
        plan_url("problem_add", world, plan), {"version": plan.version, "statement": "x"}
    )
    assert response.status_code == 403
    assert Problem.objects.count() == 1
    # The chart stays open to them, without the plan's clinical content.
    page = client.get(chart(world))
    assert page.status_code == 200 and PROBLEM.encode() not in page.content


def test_program_b_clinician_gets_404(world: World, client_for):
    plan = make_plan(world)
    client = client_for(world.clinician_b)
    assert client.get(url("plan_home", world)).status_code == 404
    response = client.post(
        plan_url("problem_add", world, plan), {"version": plan.version, "statement": "x"}
    )
    assert response.status_code == 404
    assert Problem.objects.count() == 1


def test_plan_of_another_participant_is_404(world: World, client_for):
    plan = make_plan(world)
    wrong = reverse(
        "treatment:plan_detail",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_b.external_id,
            "plan_id": plan.external_id,
        },
    )
    assert client_for(world.clinician_a).get(wrong).status_code == 404


def test_chart_shows_active_plan_summary_and_overdue_review(world: World, client_for):
    plan = make_plan(world)
    client = client_for(world.clinician_a)
    body = client.get(chart(world)).content.decode()
    assert PROBLEM in body and "Review by" in body and "Review overdue" not in body
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        effective_on=today() - timedelta(days=6), review_on=today() - timedelta(days=3)
    )
    assert "Review overdue" in client.get(chart(world)).content.decode()


def test_create_plan_flow(world: World, client_for):
    client = client_for(world.clinician_a)
    assert client.get(url("plan_create", world)).status_code == 200
    response = client.post(
        url("plan_create", world),
        {"effective_on": today().isoformat(), "review_on": soon(30).isoformat()},
    )
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == plan_url("plan_detail", world, plan)


@pytest.mark.parametrize(
    ("data", "label"),
    [
        ({"review_on": (today() + timedelta(days=120)).isoformat()}, b"Review by: "),
        ({"review_on": "not-a-date"}, b"Review by: "),
        ({"effective_on": ""}, b"Plan starts: "),
    ],
)
def test_create_plan_bad_input_is_422_naming_the_field(world: World, client_for, data, label):
    form = {"effective_on": today().isoformat(), "review_on": soon(30).isoformat(), **data}
    response = client_for(world.clinician_a).post(url("plan_create", world), form)
    assert response.status_code == 422
    assert b"error-summary" in response.content and label in response.content
    assert not TreatmentPlan.objects.exists()


def test_inline_add_problem_with_htmx_returns_the_tree(world: World, client_for):
    plan = draft(world)
    response = client_for(world.clinician_a).post(
        plan_url("problem_add", world, plan),
        {"version": plan.version, "statement": "Poor sleep since the job loss."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="plan-tree"' in body
    assert "Poor sleep since the job loss." in body
    assert 'name="version" value="2"' in body  # every form now carries the new version


def test_inline_add_without_htmx_redirects(world: World, client_for):
    plan = draft(world)
    response = client_for(world.clinician_a).post(
        plan_url("problem_add", world, plan), {"version": plan.version, "statement": "Poor sleep"}
    )
    assert response.status_code == 302
    assert response["Location"] == plan_url("plan_detail", world, plan)


@pytest.mark.parametrize("htmx", [True, False])
def test_goal_without_measure_is_422_and_names_the_field(world: World, client_for, htmx):
    plan = make_plan(world)
    problem, _, _ = first_items(plan)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(world.clinician_a).post(
        plan_url("goal_add", world, plan, problem_id=problem.external_id),
        {"version": plan.version, "statement": "Sleep six hours", "target_date": "2001-01-01"},
        **headers,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "error-summary" in body
    assert "Measured by: This field is required." in body
    assert ("<html" in body) is not htmx
    assert Goal.objects.count() == 1


def test_goal_in_the_past_is_refused_by_the_action(world: World, client_for):
    plan = make_plan(world)
    problem, _, _ = first_items(plan)
    response = client_for(world.clinician_a).post(
        plan_url("goal_add", world, plan, problem_id=problem.external_id),
        {
            "version": plan.version,
            "statement": "Sleep six hours",
            "measure": "sleep diary",
            "target_date": (today() - timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert b"Target date: The target date cannot be in the past." in response.content


def test_stale_form_is_refused(world: World, client_for):
    plan = make_plan(world)
    response = client_for(world.clinician_a).post(
        plan_url("problem_add", world, plan), {"version": 1, "statement": "late"}
    )
    assert response.status_code == 422
    assert b"Someone else changed this plan" in response.content
    assert not Problem.objects.filter(statement="late").exists()


def test_add_goal_objective_intervention_and_change_status(world: World, client_for):
    plan = draft(world)
    client = client_for(world.clinician_a)
    client.post(plan_url("problem_add", world, plan), {"version": 1, "statement": "Drinking"})
    problem = Problem.objects.get()
    client.post(
        plan_url("goal_add", world, plan, problem_id=problem.external_id),
        {"version": 2, "statement": "Stay sober", "measure": "days", "target_date": soon(60)},
    )
    goal = Goal.objects.get()
    client.post(
        plan_url("objective_add", world, plan, goal_id=goal.external_id),
        {"version": 3, "statement": "Write a relapse plan", "target_date": soon(20)},
    )
    objective = goal.objectives.get()
    response = client.post(
        plan_url("intervention_add", world, plan, objective_id=objective.external_id),
        {
            "version": 4,
            "description": "Relapse-prevention group",
            "frequency": "2 groups a week",
            "responsible": str(world.clinician_a.external_id),
            "curriculum_modules": "relapse_prevention, communication",
        },
    )
    assert response.status_code == 302
    intervention = objective.interventions.get()
    assert intervention.curriculum_modules == ["relapse_prevention", "communication"]
    assert intervention.responsible == world.clinician_a
    response = client.post(
        plan_url("objective_status", world, plan, objective_id=objective.external_id),
        {"version": 5, "status": "achieved", "reason": "Plan written and shared."},
    )
    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.status == ItemStatus.ACHIEVED
    response = client.post(plan_url("plan_activate", world, plan), {"version": 6})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE and plan.version == 7


def test_review_page(world: World, client_for):
    plan = make_plan(world)
    client = client_for(world.supervisor_a)
    assert client.get(plan_url("plan_review", world, plan)).status_code == 200
    bad = client.post(
        plan_url("plan_review", world, plan),
        {"version": plan.version, "reviewed_on": today(), "next_review_on": soon(30)},
    )
    assert bad.status_code == 422 and b"Review note: " in bad.content
    ok = client.post(
        plan_url("plan_review", world, plan),
        {
            "version": plan.version,
            "reviewed_on": today() - timedelta(days=1),
            "next_review_on": soon(40),
            "note": "Good progress; keep goals.",
        },
    )
    assert ok.status_code == 302
    plan.refresh_from_db()
    assert plan.review_on == soon(40)


def test_read_only_roles_see_no_forms(world: World, client_for):
    from openiop.accounts.actions import membership_grant
    from openiop.accounts.roles import Role
    from openiop.testing import make_user

    make_plan(world)
    user = make_user()
    membership_grant(actor=None, user=user, program=world.program_a, role=Role.SUPERVISOR)
    body = client_for(user).get(url("plan_home", world)).content.decode()
    assert "Add problem" in body  # supervisors edit plans
    closed = TreatmentPlan.objects.get()
    TreatmentPlan.objects.filter(pk=closed.pk).update(status=PlanStatus.CLOSED)
    body = client_for(user).get(plan_url("plan_detail", world, closed)).content.decode()
    assert "Add problem" not in body and "Activate plan" not in body


def test_every_id_on_the_plan_page_is_unique(world: World, client_for):
    plan = make_plan(world)
    client = client_for(world.clinician_a)
    grow(plan, world.clinician_a, problems=2, goals=2, objectives=1)
    body = client.get(url("plan_home", world)).content.decode()
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    labels = re.findall(r'<label for="([^"]+)"', body)
    assert labels and set(labels) <= set(ids)
