"""Treatment plans: problems → SMART goals → objectives → interventions (the golden thread).

Notes cite the objectives they address, so a payer or supervisor can follow each session
back to the plan. Plans are versioned by status and review dates; nothing is hard-deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel

if TYPE_CHECKING:
    from openiop.participants.models import Participant


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    UNDER_REVIEW = "under_review", "Under review"
    CLOSED = "closed", "Closed"


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    ACHIEVED = "achieved", "Achieved"
    REVISED = "revised", "Revised"
    DISCONTINUED = "discontinued", "Discontinued"


class TreatmentPlan(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    enrollment = models.ForeignKey(
        "participants.Enrollment", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    effective_on = models.DateField()
    review_on = models.DateField()
    # Participant's own words about what they want from treatment (person-centred planning).
    participant_statement = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="plan_review_after_effective",
                condition=Q(review_on__gte=models.F("effective_on")),
            ),
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(status="active"),
                name="plan_one_active_per_episode",
            ),
            models.CheckConstraint(
                name="plan_status_valid", condition=Q(status__in=PlanStatus.values)
            ),
        ]
        ordering = ["-effective_on", "-id"]


class Problem(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="problems")
    statement = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.IN_PROGRESS
    )

    class Meta:
        ordering = ["position", "id"]

    @property
    def participant(self) -> Participant:
        return self.plan.participant


class Goal(BaseModel):
    """A SMART goal: specific statement, a measure, and a target date."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="goals")
    statement = models.TextField()
    measure = models.CharField(max_length=300, help_text="How progress is measured")
    target_date = models.DateField()
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.IN_PROGRESS
    )

    class Meta:
        ordering = ["position", "id"]

    @property
    def participant(self) -> Participant:
        return self.problem.plan.participant


class Objective(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="objectives")
    statement = models.TextField()
    target_date = models.DateField()
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.IN_PROGRESS
    )

    class Meta:
        ordering = ["position", "id"]

    @property
    def participant(self) -> Participant:
        return self.goal.participant


class Intervention(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="interventions")
    description = models.TextField()
    frequency = models.CharField(max_length=120, help_text="e.g. 3 groups a week")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Curriculum modules that deliver this intervention (plan codes), so group notes can
    # cite it automatically when the session's plan belongs to one of them.
    curriculum_modules = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def participant(self) -> Participant:
        return self.objective.participant


class PlanReview(BaseModel):
    """A recorded review of the plan with the participant: what was found, and when next."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    next_review_on = models.DateField()
    note = models.TextField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="plan_review_next_after_reviewed",
                condition=Q(next_review_on__gt=models.F("reviewed_on")),
            ),
        ]
        ordering = ["-reviewed_on", "-id"]

    @property
    def participant(self) -> Participant:
        return self.plan.participant


class StatusChange(BaseModel):
    """History of problem, goal and objective status changes, each with its reason, so the
    plan shows how care changed instead of silently overwriting a status."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="status_changes")
    problem = models.ForeignKey(
        Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="status_changes"
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, null=True, blank=True, related_name="status_changes"
    )
    objective = models.ForeignKey(
        Objective, on_delete=models.PROTECT, null=True, blank=True, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=ItemStatus.choices)
    to_status = models.CharField(max_length=16, choices=ItemStatus.choices)
    reason = models.TextField()

    class Meta:
        constraints = [
            # Exactly one of problem, goal, objective is the subject of the change.
            models.CheckConstraint(
                name="status_change_one_subject",
                condition=(
                    Q(problem__isnull=False, goal__isnull=True, objective__isnull=True)
                    | Q(problem__isnull=True, goal__isnull=False, objective__isnull=True)
                    | Q(problem__isnull=True, goal__isnull=True, objective__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="status_change_to_valid", condition=Q(to_status__in=ItemStatus.values)
            ),
        ]
        ordering = ["-created_at", "-id"]

    @property
    def participant(self) -> Participant:
        return self.plan.participant
