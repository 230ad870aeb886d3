"""Weekly availability and the planner runs built from it (design note: planner.md).

Participants keep their jobs, studies and families: each states when in the week they can
attend, which tracks suit them, and how much individual and family time they need. The
weekly planner places them into groups around those windows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class AvailabilityWindow(BaseModel):
    """A weekly window when a participant (or a clinician) can attend sessions."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="availability",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="availability",
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField()
    note = models.CharField(max_length=120, blank=True, help_text="e.g. works until 17:00")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="availability_one_owner",
                condition=(Q(participant__isnull=False) & Q(user__isnull=True))
                | (Q(participant__isnull=True) & Q(user__isnull=False)),
            ),
            models.CheckConstraint(name="availability_weekday", condition=Q(weekday__lte=6)),
            models.CheckConstraint(
                name="availability_end_after_start",
                condition=Q(end_time__gt=models.F("start_time")),
            ),
        ]
        ordering = ["weekday", "start_time"]


class PlanningProfile(BaseModel):
    """Track preferences and individual / family session needs of one participant."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.PROTECT, related_name="planning_profile"
    )
    tracks = models.ManyToManyField("programs.Track", related_name="+", blank=True)
    individual_minutes = models.PositiveSmallIntegerField(default=60)
    family_minutes = models.PositiveSmallIntegerField(default=0)
    commitments = models.CharField(max_length=300, blank=True, help_text="Work, school, family")


class PlanRunKind(models.TextChoices):
    WEEK = "week", "Plan the week"
    MAKEUP = "makeup", "Find make-up sessions"


class PlanRun(BaseModel):
    """One planner run: the exact input and output documents, and whether it was applied."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=PlanRunKind.choices)
    week_start = models.DateField()
    input_doc = models.JSONField()
    output_doc = models.JSONField()
    status = models.CharField(max_length=16)
    seconds = models.FloatField()
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
