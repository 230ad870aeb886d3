"""Medical-risk prompts on the participant's chart (ASAM dimension 1).

A prompt is raised by a rule of `data/medical_risk_rules.json` when an assessment is recorded.
It names the rule (and the rules file version), the answer that fired it and what the care team
must do: a medical review always, a naloxone offer where the rule says so. Staff record each
step (who, when, what); nothing is deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class PromptStatus(models.TextChoices):
    OPEN = "open", "Open: medical review needed"
    REVIEWED = "reviewed", "Medical review recorded"
    NALOXONE_OFFERED = "naloxone_offered", "Naloxone offered"
    DECLINED = "declined", "Naloxone declined"


class NaloxoneOutcome(models.TextChoices):
    OFFERED = "offered", "Offered and accepted (supplied or prescribed)"
    DECLINED = "declined", "Offered and declined"


class MedicalRiskPrompt(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="medical_risk_prompts"
    )
    # The measures assessment that raised it, as an opaque id (as safety events do).
    assessment_id = models.UUIDField()
    instrument = models.CharField(max_length=16)
    rule_id = models.CharField(max_length=64)
    rules_version = models.CharField(max_length=32)
    risk = models.CharField(max_length=16)
    prompt = models.TextField()
    # The answer that fired the rule, in words, e.g. "AUDIT item 6 (needed a drink in the
    # morning ...) = 3 (about weekly)".
    evidence = models.TextField()
    naloxone_needed = models.BooleanField()
    status = models.CharField(
        max_length=20, choices=PromptStatus.choices, default=PromptStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    naloxone_outcome = models.CharField(max_length=16, choices=NaloxoneOutcome.choices, blank=True)
    naloxone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    naloxone_at = models.DateTimeField(null=True, blank=True)
    naloxone_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment_id", "rule_id"], name="medical_prompt_one_per_rule"
            ),
            models.CheckConstraint(
                name="medical_prompt_status_valid", condition=Q(status__in=PromptStatus.values)
            ),
            models.CheckConstraint(
                name="medical_prompt_review_recorded",
                condition=Q(reviewed_at__isnull=True)
                | (Q(reviewed_by__isnull=False) & ~Q(review_note="")),
            ),
            models.CheckConstraint(
                name="medical_prompt_naloxone_recorded",
                condition=Q(naloxone_outcome="")
                | (Q(naloxone_by__isnull=False) & Q(naloxone_at__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "status"], name="medical_prompt_part_status")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.get_status_display()})"

    @property
    def complete(self) -> bool:
        """Every step the rule asks for is recorded."""
        reviewed = self.reviewed_at is not None
        return reviewed and (not self.naloxone_needed or bool(self.naloxone_outcome))
