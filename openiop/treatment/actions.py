"""Every write to treatment plans. Views, the API, seed and tests call these.

A plan is one clinical document: every edit to it (a problem, goal, objective or
intervention added, a status changed, a review recorded) takes the version the editor read
and bumps it, so a stale form is refused instead of silently interleaving two people's edits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from django.db import IntegrityError, transaction

from openiop.accounts.models import Membership, User, UserKind
from openiop.audit.actions import audit_record
from openiop.core.clock import program_today
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import Enrollment, Participant
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

# Most payers and state IOP rules ask for a plan review at least every 90 days (many: 30).
REVIEW_WITHIN_DAYS = 90
MAX_MODULES = 10
MODULE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
EDITABLE = (PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.UNDER_REVIEW)
STALE = (
    "Someone else changed this plan since you opened it. Reload to see their changes, "
    "then make yours again."
)

PlanItem = Problem | Goal | Objective


def _open_enrollment(participant: Participant) -> Enrollment | None:
    return (
        Enrollment.objects.filter(
            program=participant.program, participant=participant, discharged_on__isnull=True
        )
        .select_for_update()
        .first()
    )


def _lock_plan(plan_id: int, expected_version: int) -> TreatmentPlan:
    """Lock the plan row, refuse a stale version or a closed plan or episode."""
    locked = (
        TreatmentPlan.objects.select_for_update()
        .select_related("program", "participant", "enrollment")
        .get(pk=plan_id)
    )
    if locked.version != expected_version:
        raise ConflictError({"version": STALE})
    if locked.status not in EDITABLE:
        raise ConflictError({"plan": "This plan is closed; start a new plan to make changes."})
    if not locked.enrollment.is_open:
        raise ConflictError({"plan": "This episode of care has ended; the plan is read-only."})
    return locked


def _bump(locked: TreatmentPlan, *fields: str, original: TreatmentPlan | None = None) -> None:
    locked.version += 1
    locked.save(update_fields=["version", "updated_at", *fields])
    if original is not None:
        # Callers keep using the plan object they passed in (seed, tests): keep it current.
        original.version = locked.version
        for name in fields:
            setattr(original, name, getattr(locked, name))


def _text(errors: dict[str, str], field: str, value: str, message: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        errors[field] = message
    return cleaned


def _review_errors(start: date, review_on: date | None, field: str) -> dict[str, str]:
    if review_on is None:
        return {field: "Enter the date of the next plan review."}
    if review_on < start:
        return {field: f"The review must be on or after {start:%Y-%m-%d}."}
    if review_on > start + timedelta(days=REVIEW_WITHIN_DAYS):
        latest = start + timedelta(days=REVIEW_WITHIN_DAYS)
        return {field: f"Review within {REVIEW_WITHIN_DAYS} days: on or before {latest:%Y-%m-%d}."}
    return {}


@transaction.atomic
def plan_create(
    *,
    actor: User,
    participant: Participant,
    effective_on: date | None,
    review_on: date | None,
    participant_statement: str = "",
) -> TreatmentPlan:
    """A draft plan for the participant's open episode of care."""
    enrollment = _open_enrollment(participant)
    errors: dict[str, str] = {}
    if enrollment is None:
        raise ActionError({"participant": "This participant has no open episode of care."})
    if effective_on is None:
        errors["effective_on"] = "Enter the date the plan takes effect."
    elif effective_on < enrollment.admitted_on:
        errors["effective_on"] = f"Must be on or after admission ({enrollment.admitted_on})."
    else:
        errors.update(_review_errors(effective_on, review_on, "review_on"))
    if errors:
        raise ActionError(errors)
    assert effective_on is not None and review_on is not None
    plan = TreatmentPlan.objects.create(
        program=participant.program,
        participant=participant,
        enrollment=enrollment,
        effective_on=effective_on,
        review_on=review_on,
        participant_statement=participant_statement.strip(),
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=plan, detail={"status": plan.status})
    return plan


@transaction.atomic
def plan_activate(*, actor: User, plan: TreatmentPlan, expected_version: int) -> TreatmentPlan:
    """Make the plan the episode's active plan; the previously active one is closed."""
    locked = _lock_plan(plan.pk, expected_version)
    if locked.status == PlanStatus.ACTIVE:
        raise ConflictError({"plan": "This plan is already active."})
    if not Goal.objects.filter(problem__plan=locked).exists():
        raise ActionError({"plan": "Add at least one problem with a SMART goal first."})
    previous = list(
        TreatmentPlan.objects.select_for_update()
        .filter(enrollment=locked.enrollment, status=PlanStatus.ACTIVE)
        .exclude(pk=locked.pk)
    )
    for old in previous:
        old.status = PlanStatus.CLOSED
        old.version += 1
        old.save(update_fields=["status", "version", "updated_at"])
        audit_record(
            actor=actor, action="update", obj=old, detail={"status": PlanStatus.CLOSED.value}
        )
    locked.status = PlanStatus.ACTIVE
    try:
        with transaction.atomic():
            _bump(locked, "status", original=plan)
    except IntegrityError:  # another activation won the race
        raise ConflictError({"plan": STALE}) from None
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={
            "status": PlanStatus.ACTIVE.value,
            "closed": [str(p.external_id) for p in previous],
        },
    )
    return locked


@transaction.atomic
def plan_review(
    *,
    actor: User,
    plan: TreatmentPlan,
    expected_version: int,
    reviewed_on: date | None,
    next_review_on: date | None,
    note: str,
) -> PlanReview:
    """Record a review of the active plan and set the next review date."""
    locked = _lock_plan(plan.pk, expected_version)
    errors: dict[str, str] = {}
    if locked.status == PlanStatus.DRAFT:
        raise ConflictError({"plan": "Activate the plan before reviewing it."})
    today = program_today(locked.program)
    if reviewed_on is None:
        errors["reviewed_on"] = "Enter the date of the review."
    elif reviewed_on > today:
        errors["reviewed_on"] = "A review cannot be recorded for a future date."
    elif reviewed_on < locked.effective_on:
        errors["reviewed_on"] = f"Must be on or after the plan start ({locked.effective_on})."
    elif next_review_on is not None and next_review_on <= reviewed_on:
        errors["next_review_on"] = "The next review must come after this one."
    else:
        errors.update(_review_errors(reviewed_on, next_review_on, "next_review_on"))
    cleaned = _text(errors, "note", note, "Summarise the review (progress, changes, next steps).")
    if errors:
        raise ActionError(errors)
    assert reviewed_on is not None and next_review_on is not None
    review = PlanReview.objects.create(
        program=locked.program,
        plan=locked,
        reviewed_on=reviewed_on,
        next_review_on=next_review_on,
        note=cleaned,
        created_by=actor,
    )
    locked.review_on = next_review_on
    locked.status = PlanStatus.ACTIVE
    _bump(locked, "review_on", "status", original=plan)
    audit_record(actor=actor, action="create", obj=review, detail={"next": str(next_review_on)})
    return review


@transaction.atomic
def problem_add(
    *, actor: User, plan: TreatmentPlan, expected_version: int, statement: str
) -> Problem:
    locked = _lock_plan(plan.pk, expected_version)
    errors: dict[str, str] = {}
    cleaned = _text(errors, "statement", statement, "Describe the problem in plain words.")
    if errors:
        raise ActionError(errors)
    problem = Problem.objects.create(
        program=locked.program,
        plan=locked,
        statement=cleaned,
        position=locked.problems.count(),
        created_by=actor,
    )
    _bump(locked, original=plan)
    problem.plan = locked
    audit_record(actor=actor, action="create", obj=problem)
    return problem


def _target_errors(
    target_date: date | None, plan: TreatmentPlan, latest: date | None = None
) -> dict[str, str]:
    if target_date is None:
        return {"target_date": "Enter a target date (the T in SMART)."}
    if target_date < program_today(plan.program):
        return {"target_date": "The target date cannot be in the past."}
    if target_date < plan.enrollment.admitted_on:
        return {"target_date": "The target date must fall within this episode of care."}
    if latest is not None and target_date > latest:
        return {"target_date": f"Must be on or before the goal's target date ({latest})."}
    return {}


@transaction.atomic
def goal_add(
    *,
    actor: User,
    problem: Problem,
    expected_version: int,
    statement: str,
    measure: str,
    target_date: date | None,
) -> Goal:
    """A SMART goal: a specific statement, how it is measured and when it is due."""
    locked = _lock_plan(problem.plan_id, expected_version)
    errors: dict[str, str] = {}
    cleaned = _text(errors, "statement", statement, "Say what the participant wants to achieve.")
    how = _text(errors, "measure", measure, "Say how progress will be measured.")
    errors.update(_target_errors(target_date, locked))
    if errors:
        raise ActionError(errors)
    assert target_date is not None
    goal = Goal.objects.create(
        program=locked.program,
        problem=problem,
        statement=cleaned,
        measure=how[:300],
        target_date=target_date,
        position=problem.goals.count(),
        created_by=actor,
    )
    _bump(locked)
    goal.problem.plan = locked
    audit_record(actor=actor, action="create", obj=goal, program=locked.program)
    return goal


@transaction.atomic
def objective_add(
    *,
    actor: User,
    goal: Goal,
    expected_version: int,
    statement: str,
    target_date: date | None,
) -> Objective:
    """A measurable step toward the goal, due no later than the goal itself."""
    plan_id = Problem.objects.values_list("plan_id", flat=True).get(pk=goal.problem_id)
    locked = _lock_plan(plan_id, expected_version)
    errors: dict[str, str] = {}
    cleaned = _text(errors, "statement", statement, "Describe the objective.")
    errors.update(_target_errors(target_date, locked, latest=goal.target_date))
    if errors:
        raise ActionError(errors)
    assert target_date is not None
    objective = Objective.objects.create(
        program=locked.program,
        goal=goal,
        statement=cleaned,
        target_date=target_date,
        position=goal.objectives.count(),
        created_by=actor,
    )
    _bump(locked)
    audit_record(actor=actor, action="create", obj=objective, program=locked.program)
    return objective


def _module_errors(codes: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    cleaned = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    bad = [code for code in cleaned if not MODULE_CODE.match(code)]
    if bad:
        return cleaned, {
            "curriculum_modules": f"Not a module code: {', '.join(bad)} "
            "(use lower-case codes such as cbt or relapse_prevention)."
        }
    if len(cleaned) > MAX_MODULES:
        return cleaned, {"curriculum_modules": f"Cite at most {MAX_MODULES} modules."}
    return cleaned, {}


def _is_program_staff(user: User, plan: TreatmentPlan) -> bool:
    return (
        user.kind == UserKind.STAFF
        and Membership.objects.filter(user=user, program=plan.program, is_active=True).exists()
    )


@transaction.atomic
def intervention_add(
    *,
    actor: User,
    objective: Objective,
    expected_version: int,
    description: str,
    frequency: str,
    responsible: User | None = None,
    curriculum_modules: Sequence[str] = (),
) -> Intervention:
    """What staff will do toward the objective; the curriculum modules that deliver it let
    group notes cite the objective automatically."""
    plan_id = Goal.objects.values_list("problem__plan_id", flat=True).get(pk=objective.goal_id)
    locked = _lock_plan(plan_id, expected_version)
    errors: dict[str, str] = {}
    cleaned = _text(errors, "description", description, "Describe the intervention.")
    how_often = _text(errors, "frequency", frequency, "Say how often, e.g. 3 groups a week.")
    if len(how_often) > 120:
        errors["frequency"] = "Keep the frequency under 120 characters."
    modules, module_errors = _module_errors(curriculum_modules)
    errors.update(module_errors)
    if responsible is not None and not _is_program_staff(responsible, locked):
        errors["responsible"] = "Choose a staff member of this program."
    if errors:
        raise ActionError(errors)
    intervention = Intervention.objects.create(
        program=locked.program,
        objective=objective,
        description=cleaned,
        frequency=how_often,
        responsible=responsible,
        curriculum_modules=modules,
        created_by=actor,
    )
    _bump(locked)
    audit_record(
        actor=actor,
        action="create",
        obj=intervention,
        program=locked.program,
        detail={"modules": modules},
    )
    return intervention


def _plan_id_of(item: PlanItem) -> int:
    if isinstance(item, Problem):
        return item.plan_id
    if isinstance(item, Goal):
        return Problem.objects.values_list("plan_id", flat=True).get(pk=item.problem_id)
    return Goal.objects.values_list("problem__plan_id", flat=True).get(pk=item.goal_id)


@transaction.atomic
def item_set_status(
    *, actor: User, item: PlanItem, expected_version: int, status: str, reason: str
) -> StatusChange:
    """Change a problem's, goal's or objective's status, keeping the old one and the reason."""
    locked = _lock_plan(_plan_id_of(item), expected_version)
    current = type(item).objects.select_for_update().get(pk=item.pk)
    errors: dict[str, str] = {}
    if status not in ItemStatus.values:
        errors["status"] = f"Choose one of: {', '.join(ItemStatus.values)}."
    elif status == current.status:
        errors["status"] = "That is already the status."
    cleaned = _text(errors, "reason", reason, "Say why the status is changing.")
    if errors:
        raise ActionError(errors)
    subject = {type(item).__name__.lower(): current}
    change = StatusChange.objects.create(
        program=locked.program,
        plan=locked,
        from_status=current.status,
        to_status=status,
        reason=cleaned,
        created_by=actor,
        **subject,
    )
    current.status = status
    current.save(update_fields=["status", "updated_at"])
    item.status = status
    _bump(locked)
    audit_record(
        actor=actor,
        action="update",
        obj=current,
        program=locked.program,
        detail={"from": change.from_status, "to": status},
    )
    return change
