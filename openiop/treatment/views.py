"""Staff pages for treatment plans (htmx, server-rendered).

Every view is guarded by `@requires` (404 for outsiders, 403 without the permission) and
starts with the scoped participant lookup (404). The plan page is one tree; each small
inline form posts to its own URL and, under htmx, gets the whole tree back, so every form
on the page always carries the plan's current version. Without JavaScript the same forms
post and redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import clinicians_for_program
from openiop.audit.actions import audit_record
from openiop.core.clock import program_today
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant
from openiop.treatment import actions, selectors
from openiop.treatment.forms import (
    GoalForm,
    InterventionForm,
    ObjectiveForm,
    PlanCreateForm,
    ProblemForm,
    ReviewForm,
    StatusForm,
    VersionedForm,
)
from openiop.treatment.models import (
    Goal,
    Objective,
    PlanStatus,
    Problem,
    TreatmentPlan,
)

Item = Problem | Goal | Objective


def _participant_page(
    request: ProgramRequest, participant_id: UUID
) -> tuple[ProgramAccess, Participant]:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _plan_page(
    request: ProgramRequest, participant_id: UUID, plan_id: UUID
) -> tuple[ProgramAccess, Participant, TreatmentPlan]:
    access, participant = _participant_page(request, participant_id)
    return access, participant, selectors.plan_get(participant=participant, plan_id=plan_id)


def _plan_url(program_id: UUID, participant: Participant, plan: TreatmentPlan) -> str:
    return reverse(
        "treatment:plan_detail",
        kwargs={
            "program_id": program_id,
            "participant_id": participant.external_id,
            "plan_id": plan.external_id,
        },
    )


def _auto_id(kind: str, key: UUID) -> str:
    # Many small forms share one page: ids must stay unique so labels and the error summary
    # point at the right input.
    return f"id_{kind}_{key.hex[:12]}_%s"


# --- The plan tree with its inline forms -------------------------------------------------


@dataclass
class Failed:
    """The inline form that was just posted with errors, so it re-renders open and bound."""

    kind: str
    key: UUID
    form: forms.Form


@dataclass
class ObjectiveNode:
    objective: Objective
    intervention_form: forms.Form | None = None
    status_form: forms.Form | None = None


@dataclass
class GoalNode:
    goal: Goal
    objective_form: forms.Form | None = None
    status_form: forms.Form | None = None
    objectives: list[ObjectiveNode] = field(default_factory=list)


@dataclass
class ProblemNode:
    problem: Problem
    goal_form: forms.Form | None = None
    status_form: forms.Form | None = None
    goals: list[GoalNode] = field(default_factory=list)


@dataclass
class TreeForms:
    editable: bool
    staff_choices: list[tuple[str, str]]
    failed: Failed | None

    def get(self, kind: str, key: UUID, factory: Callable[..., forms.Form]) -> forms.Form | None:
        if not self.editable:
            return None
        if self.failed is not None and self.failed.kind == kind and self.failed.key == key:
            return self.failed.form
        return factory(auto_id=_auto_id(kind, key))

    def intervention(self, **kwargs: Any) -> forms.Form:
        return InterventionForm(staff_choices=self.staff_choices, **kwargs)


def _staff_choices(access: ProgramAccess) -> list[tuple[str, str]]:
    return [(str(u.external_id), str(u)) for u in clinicians_for_program(program=access.program)]


def _nodes(plan: TreatmentPlan, forms_: TreeForms) -> list[ProblemNode]:
    nodes = []
    for problem in plan.problems.all():
        pkey = problem.external_id
        pnode = ProblemNode(
            problem,
            goal_form=forms_.get("goal", pkey, GoalForm),
            status_form=forms_.get("problem_status", pkey, StatusForm),
        )
        for goal in problem.goals.all():
            gkey = goal.external_id
            gnode = GoalNode(
                goal,
                objective_form=forms_.get("objective", gkey, ObjectiveForm),
                status_form=forms_.get("goal_status", gkey, StatusForm),
            )
            for objective in goal.objectives.all():
                okey = objective.external_id
                gnode.objectives.append(
                    ObjectiveNode(
                        objective,
                        intervention_form=forms_.get("intervention", okey, forms_.intervention),
                        status_form=forms_.get("objective_status", okey, StatusForm),
                    )
                )
            pnode.goals.append(gnode)
        nodes.append(pnode)
    return nodes


def _tree_context(
    access: ProgramAccess, participant: Participant, plan: TreatmentPlan, failed: Failed | None
) -> dict[str, Any]:
    editable = (
        access.can(Perm.PLAN_EDIT) and plan.status in actions.EDITABLE and plan.enrollment.is_open
    )
    forms_ = TreeForms(
        editable=editable,
        staff_choices=_staff_choices(access) if editable else [],
        failed=failed,
    )
    today = program_today(access.program)
    return {
        "access": access,
        "program": access.program,
        "participant": participant,
        "plan": plan,
        "nodes": _nodes(plan, forms_),
        "editable": editable,
        "problem_form": forms_.get("problem", plan.external_id, ProblemForm),
        "review_overdue": plan.status == PlanStatus.ACTIVE and plan.review_on < today,
        "activate_form": failed.form if failed and failed.kind == "activate" else None,
        "can_activate": editable and plan.status != PlanStatus.ACTIVE,
        "can_review": editable and plan.status != PlanStatus.DRAFT,
    }


def _render_plan(
    request: HttpRequest,
    access: ProgramAccess,
    participant: Participant,
    plan: TreatmentPlan | None,
    *,
    failed: Failed | None = None,
    status: int = 200,
) -> HttpResponse:
    if plan is not None and getattr(request, "htmx", False):
        context = _tree_context(access, participant, plan, failed)
        # The swapped-in tree carries its own error summary; a full page has one at the top.
        context["inline_summary"] = True
        return render(request, "treatment/_plan_tree.html", context, status=status)
    context = _tree_context(access, participant, plan, failed) if plan is not None else {}
    context.update(
        {
            "access": access,
            "program": access.program,
            "participant": participant,
            "plan": plan,
            "plans": list(selectors.plan_list(participant=participant)),
            "episode": participant_selectors.current_episode(participant),
            "can_create": access.can(Perm.PLAN_EDIT),
            "failed_form": failed.form if failed else None,
            "history": list(selectors.status_history(plan=plan)) if plan else [],
            "reviews": list(plan.reviews.select_related("created_by")) if plan else [],
        }
    )
    return render(request, "treatment/plan.html", context, status=status)


def _audit_read(request: HttpRequest, participant: Participant, plan: TreatmentPlan | None) -> None:
    detail = {"view": "treatment_plan", "plan": str(plan.external_id) if plan else None}
    audit_record(actor=request_user(request), action="read", obj=participant, detail=detail)


# --- Pages ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
@requires(Perm.PLAN_VIEW)
def plan_home(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    """The participant's current plan (active, else the newest draft) and the plan history."""
    access, participant = _participant_page(request, participant_id)
    plan = selectors.current_plan(participant=participant)
    _audit_read(request, participant, plan)
    return _render_plan(request, access, participant, plan)


@require_http_methods(["GET"])
@requires(Perm.PLAN_VIEW)
def plan_detail(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    _audit_read(request, participant, plan)
    return _render_plan(request, access, participant, plan)


@require_http_methods(["GET", "POST"])
@requires(Perm.PLAN_EDIT)
def plan_create(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    today = program_today(access.program)
    form = PlanCreateForm(request.POST or None, initial={"effective_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            plan = actions.plan_create(
                actor=request_user(request), participant=participant, **form.cleaned_data
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(
                request, "Draft plan created. Add problems and goals, then activate it."
            )
            return redirect(_plan_url(program_id, participant, plan))
    elif request.method == "GET":
        audit_record(
            actor=request_user(request),
            action="read",
            obj=participant,
            detail={"view": "plan_create"},
        )
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "form": form,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "treatment/plan_create.html", context, status=status)


@require_http_methods(["GET", "POST"])
@requires(Perm.PLAN_EDIT)
def plan_review(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    today = program_today(access.program)
    form = ReviewForm(request.POST or None, initial={"reviewed_on": today, "version": plan.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.plan_review(
                actor=request_user(request),
                plan=plan,
                expected_version=data["version"],
                reviewed_on=data["reviewed_on"],
                next_review_on=data["next_review_on"],
                note=data["note"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Review recorded.")
            return redirect(_plan_url(program_id, participant, plan))
    elif request.method == "GET":
        _audit_read(request, participant, plan)
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "plan": plan,
        "form": form,
        "reviews": plan.reviews.select_related("created_by"),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "treatment/plan_review.html", context, status=status)


# --- Inline writes: each posts a small form and gets the tree (htmx) or a redirect ----------


def _inline_write(
    request: HttpRequest,
    access: ProgramAccess,
    participant: Participant,
    plan: TreatmentPlan,
    *,
    form: forms.Form,
    failed_key: tuple[str, UUID],
    write: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            fresh = selectors.plan_get(participant=participant, plan_id=plan.external_id)
            if getattr(request, "htmx", False):
                return _render_plan(request, access, participant, fresh)
            messages.success(request, done)
            return redirect(_plan_url(access.program.external_id, participant, plan))
    failed = Failed(kind=failed_key[0], key=failed_key[1], form=form)
    fresh = selectors.plan_get(participant=participant, plan_id=plan.external_id)
    return _render_plan(request, access, participant, fresh, failed=failed, status=422)


def _bound(
    request: HttpRequest, cls: Callable[..., forms.Form], kind: str, key: UUID
) -> forms.Form:
    return cls(request.POST, auto_id=_auto_id(kind, key))


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def plan_activate(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=_bound(request, VersionedForm, "activate", plan.external_id),
        failed_key=("activate", plan.external_id),
        write=lambda d: actions.plan_activate(
            actor=request_user(request), plan=plan, expected_version=d["version"]
        ),
        done="Plan activated; any previously active plan for this episode is now closed.",
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def problem_add(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=_bound(request, ProblemForm, "problem", plan.external_id),
        failed_key=("problem", plan.external_id),
        write=lambda d: actions.problem_add(
            actor=request_user(request),
            plan=plan,
            expected_version=d["version"],
            statement=d["statement"],
        ),
        done="Problem added.",
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def goal_add(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, problem_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    problem = selectors.problem_get(plan=plan, problem_id=problem_id)
    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=_bound(request, GoalForm, "goal", problem.external_id),
        failed_key=("goal", problem.external_id),
        write=lambda d: actions.goal_add(
            actor=request_user(request),
            problem=problem,
            expected_version=d["version"],
            statement=d["statement"],
            measure=d["measure"],
            target_date=d["target_date"],
        ),
        done="Goal added.",
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def objective_add(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, goal_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    goal = selectors.goal_get(plan=plan, goal_id=goal_id)
    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=_bound(request, ObjectiveForm, "objective", goal.external_id),
        failed_key=("objective", goal.external_id),
        write=lambda d: actions.objective_add(
            actor=request_user(request),
            goal=goal,
            expected_version=d["version"],
            statement=d["statement"],
            target_date=d["target_date"],
        ),
        done="Objective added.",
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def intervention_add(
    request: ProgramRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    objective_id: UUID,
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    objective = selectors.objective_get(plan=plan, objective_id=objective_id)
    staff = {u.external_id.hex: u for u in clinicians_for_program(program=access.program)}
    choices = [(str(u.external_id), str(u)) for u in staff.values()]
    form = InterventionForm(
        request.POST,
        staff_choices=choices,
        auto_id=_auto_id("intervention", objective.external_id),
    )

    def write(data: dict[str, Any]) -> object:
        assert isinstance(form, InterventionForm)
        responsible = staff.get(UUID(data["responsible"]).hex) if data["responsible"] else None
        return actions.intervention_add(
            actor=request_user(request),
            objective=objective,
            expected_version=data["version"],
            description=data["description"],
            frequency=data["frequency"],
            responsible=responsible,
            curriculum_modules=form.module_codes(),
        )

    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=form,
        failed_key=("intervention", objective.external_id),
        write=write,
        done="Intervention added.",
    )


def _status_write(
    request: HttpRequest,
    access: ProgramAccess,
    participant: Participant,
    plan: TreatmentPlan,
    item: Item,
    kind: str,
) -> HttpResponse:
    return _inline_write(
        request,
        access,
        participant,
        plan,
        form=_bound(request, StatusForm, kind, item.external_id),
        failed_key=(kind, item.external_id),
        write=lambda d: actions.item_set_status(
            actor=request_user(request),
            item=item,
            expected_version=d["version"],
            status=d["status"],
            reason=d["reason"],
        ),
        done="Status changed.",
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def problem_status(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, problem_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    problem = selectors.problem_get(plan=plan, problem_id=problem_id)
    return _status_write(request, access, participant, plan, problem, "problem_status")


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def goal_status(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, plan_id: UUID, goal_id: UUID
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    goal = selectors.goal_get(plan=plan, goal_id=goal_id)
    return _status_write(request, access, participant, plan, goal, "goal_status")


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def objective_status(
    request: ProgramRequest,
    program_id: UUID,
    participant_id: UUID,
    plan_id: UUID,
    objective_id: UUID,
) -> HttpResponse:
    access, participant, plan = _plan_page(request, participant_id, plan_id)
    objective = selectors.objective_get(plan=plan, objective_id=objective_id)
    return _status_write(request, access, participant, plan, objective, "objective_status")
