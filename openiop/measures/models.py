"""Administered instruments and each program's administration schedule.

A scored assessment is a clinical record: it is never edited or deleted. The only change it
takes is being marked entered in error (with a reason); the model guard, the queryset guard
and, on PostgreSQL, a trigger (migration 0002) all enforce that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel

if TYPE_CHECKING:
    from openiop.measures.scoring import ScoreResult


class Source(models.TextChoices):
    CLINICIAN = "clinician", "Entered by a clinician"
    PORTAL = "portal", "Completed in the participant portal"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCORED = "scored", "Scored"


class Cadence(models.TextChoices):
    INTAKE = "intake", "At intake"
    WEEKLY = "weekly", "Weekly"
    EVERY_2_WEEKS = "every_2_weeks", "Every 2 weeks"
    MONTHLY = "monthly", "Monthly"
    DISCHARGE = "discharge", "At discharge"


# Days between administrations for the repeating cadences.
CADENCE_DAYS: dict[str, int] = {
    Cadence.WEEKLY: 7,
    Cadence.EVERY_2_WEEKS: 14,
    Cadence.MONTHLY: 30,
}

# The only columns a scored row may still change: marking it entered in error.
ERROR_FIELDS = frozenset(
    {
        "entered_in_error",
        "entered_in_error_reason",
        "entered_in_error_at",
        "entered_in_error_by",
        "entered_in_error_by_id",
        "updated_at",
    }
)


class ImmutableAssessmentError(Exception):
    """A scored assessment cannot be changed; mark it entered in error and record a new one."""


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def update(self, **kwargs: Any) -> int:
        # A bulk update would bypass the model guard.
        if not set(kwargs) <= ERROR_FIELDS and self.filter(status=AssessmentStatus.SCORED).exists():
            raise ImmutableAssessmentError("scored assessments cannot be updated")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableAssessmentError("assessments are never deleted; mark them entered in error")

    def valid(self) -> AssessmentQuerySet:
        return self.filter(status=AssessmentStatus.SCORED, entered_in_error=False)


class Assessment(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="assessments"
    )
    enrollment = models.ForeignKey(
        "participants.Enrollment", on_delete=models.PROTECT, related_name="assessments"
    )
    instrument = models.CharField(max_length=16)
    instrument_version = models.CharField(max_length=20)
    # Codes as answered, in item order; null marks a skipped or missing item.
    answers = models.JSONField(default=list)
    sex_for_scoring = models.CharField(max_length=8, blank=True)
    administered_at = models.DateTimeField()
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CLINICIAN)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=AssessmentStatus.choices, default=AssessmentStatus.SCORED
    )
    # The full score result, as the scoring core returned it.
    total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    positive_screen = models.BooleanField(null=True)
    subscales = models.JSONField(default=dict)
    critical = models.JSONField(default=list)
    critical_not_assessed = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    risk = models.CharField(max_length=16, blank=True)
    prorated = models.BooleanField(default=False)
    # Items answered although skip logic would have skipped them (C-SSRS q3-q5 after q2 = no):
    # kept and scored, and the administration is shown as inconsistent for clinician review.
    inconsistent = models.JSONField(default=list, blank=True)
    entered_in_error = models.BooleanField(default=False)
    entered_in_error_reason = models.TextField(blank=True)
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = AssessmentQuerySet.as_manager()

    @property
    def completeness(self) -> str:
        """A partial administration in words for history lists and the detail page
        (clinical.md section 3): which items were left unanswered, and whether the total
        was prorated (CORE-10, one item) or left blank. Empty when nothing is missing. A
        draft (a portal form the participant left unsent) says so first."""
        draft = (
            "draft, not sent by the participant" if self.status == AssessmentStatus.DRAFT else ""
        )
        if not self.missing:
            return draft
        return "; ".join(part for part in (draft, self._missing_words()) if part)

    def _missing_words(self) -> str:
        count = len(self.missing)
        items = ", ".join(str(ref) for ref in self.missing)
        noun = "item" if count == 1 else "items"
        if self.prorated:
            return f"prorated: {count} {noun} unanswered ({items})"
        scored = " so no total" if self.total is None and self.instrument != "cssrs" else ""
        return f"incomplete: {count} {noun} unanswered ({items}){scored}"

    # Set by `assessment_record` on the instance it returns (not stored).
    result: ScoreResult | None = None
    # The status as loaded from the database, for the immutability guard.
    _stored_status: str | None = None

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="assessment_status_valid", condition=Q(status__in=AssessmentStatus.values)
            ),
            models.CheckConstraint(
                name="assessment_source_valid", condition=Q(source__in=Source.values)
            ),
            models.CheckConstraint(
                name="assessment_error_has_reason",
                condition=Q(entered_in_error=False)
                | (~Q(entered_in_error_reason="") & Q(entered_in_error_at__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(
                fields=["program", "participant", "instrument", "administered_at"],
                name="assessment_trajectory_idx",
            ),
            # The history's stamp (outcomes.history_stamp), read on every chart, measures page
            # and runner view: MAX(id) and MAX(updated_at) as two index lookups instead of a
            # scan of the program's rows (EXPLAIN at 5,000 participants, docs/benchmarks.md).
            models.Index(
                fields=["program", "instrument", "id"], name="assessment_history_last_idx"
            ),
            models.Index(
                fields=["program", "instrument", "updated_at"],
                name="assessment_history_changed_idx",
            ),
        ]
        ordering = ["administered_at", "id"]

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Assessment:
        instance = super().from_db(db, field_names, values)
        instance._stored_status = instance.__dict__.get("status")
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and self._is_stored_scored():
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= ERROR_FIELDS:
                raise ImmutableAssessmentError(
                    "scored assessments are immutable; mark it entered in error instead"
                )
        super().save(*args, **kwargs)

    def _is_stored_scored(self) -> bool:
        stored = self._stored_status
        if stored is None:
            stored = Assessment.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored == AssessmentStatus.SCORED

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableAssessmentError("assessments are never deleted; mark them entered in error")

    @property
    def is_valid(self) -> bool:
        return self.status == AssessmentStatus.SCORED and not self.entered_in_error

    @property
    def is_inconsistent(self) -> bool:
        return bool(self.inconsistent)

    @property
    def total_number(self) -> float | None:
        return None if self.total is None else float(self.total)


class AdministrationSchedule(BaseModel):
    """When a program gives an instrument: one row per instrument and cadence."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=16)
    cadence = models.CharField(max_length=16, choices=Cadence.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "instrument", "cadence"], name="schedule_unique_cadence"
            ),
            models.CheckConstraint(
                name="schedule_cadence_valid", condition=Q(cadence__in=Cadence.values)
            ),
        ]
        ordering = ["instrument", "cadence"]


class GrowthFit(BaseModel):
    """The last good expected-recovery (growth) model fit of one program and instrument.

    Fitted by a background task (`measures.actions.growth_refit`), never inside a request: a
    page reads this row, compares its `history_hash` with the program's current history and,
    when they differ, asks for a refit and goes on with this fit (openiop.measures.growth).
    `method` is "model" (parameters in `params`) or "rule" (thin history or an unfittable
    model: `why` says which). `fitted_at` is None while no fit has been made yet;
    `refit_queued_at` is set while a refit is queued, so a burst of changes queues one."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=16)
    method = models.CharField(max_length=8, blank=True)
    why = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    n_histories = models.PositiveIntegerField(default=0)  # episodes with a post-intake score
    n_assessments = models.PositiveIntegerField(default=0)  # valid administrations read
    history_hash = models.CharField(max_length=64, blank=True)
    fitted_at = models.DateTimeField(null=True, blank=True)
    fit_seconds = models.FloatField(default=0.0)
    refit_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "instrument"], name="growth_fit_unique"),
        ]
