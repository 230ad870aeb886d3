"""Participants and their episodes of care (enrollments)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class SexForScoring(models.TextChoices):
    # Used only where an instrument has sex-specific cutoffs (e.g. AUDIT-C); kept apart from
    # gender identity, which is the participant's own description.
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Not recorded"


class PortalLanguage(models.TextChoices):
    # Each label in its own language: the switch must be readable by whoever needs it.
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class Participant(BaseModel):
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="participants"
    )
    record_number = models.CharField(max_length=20, editable=False)
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    sex_for_scoring = models.CharField(
        max_length=16, choices=SexForScoring.choices, default=SexForScoring.UNKNOWN
    )
    gender_identity = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True)
    # The portal's language (docs/portal.md, "Languages"); staff pages stay in English.
    language = models.CharField(
        max_length=8, choices=PortalLanguage.choices, default=PortalLanguage.ENGLISH
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant_profile",
    )
    # Bumped by every demographic edit: a stale form is refused instead of overwriting.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "record_number"], name="participant_unique_record_number"
            ),
            models.CheckConstraint(
                name="participant_sex_for_scoring_valid",
                condition=Q(sex_for_scoring__in=SexForScoring.values),
            ),
            models.CheckConstraint(
                name="participant_language_valid",
                condition=Q(language__in=PortalLanguage.values),
            ),
        ]
        indexes = [
            models.Index(fields=["program", "legal_last_name"], name="participant_last_name_idx")
        ]

    def __str__(self) -> str:
        return self.record_number

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Phase(models.TextChoices):
    # SAMHSA TIP 47 phases of intensive outpatient treatment, in order.
    ENGAGEMENT = "engagement", "Engagement"
    EARLY_RECOVERY = "early_recovery", "Early recovery"
    MAINTENANCE = "maintenance", "Maintenance"
    COMMUNITY_INTEGRATION = "community_integration", "Community integration"


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", "Completed program"
    STEPPED_DOWN = "stepped_down", "Stepped down to a lower level of care"
    STEPPED_UP = "stepped_up", "Stepped up to a higher level of care"
    LEFT_AGAINST_ADVICE = "left_against_advice", "Left against clinical advice"
    LOST_CONTACT = "lost_contact", "Stopped attending / lost contact"
    TRANSFERRED = "transferred", "Transferred to another provider"
    ADMINISTRATIVE = "administrative", "Administrative discharge"
    OTHER = "other", "Other"


class StepDownDestination(models.TextChoices):
    OUTPATIENT = "outpatient", "Outpatient therapy (ASAM Level 1)"
    PARTIAL_HOSPITALISATION = "php", "Partial hospitalisation (ASAM Level 2.5)"
    RESIDENTIAL = "residential", "Residential treatment (ASAM Level 3)"
    INPATIENT = "inpatient", "Inpatient / withdrawal management"
    PEER_SUPPORT = "peer_support", "Peer support / mutual-help groups"
    PRIMARY_CARE = "primary_care", "Primary care follow-up"
    NONE = "none", "No further care arranged"
    UNKNOWN = "unknown", "Unknown"


class Enrollment(BaseModel):
    """One episode of care. A participant may have several over time, one open at once."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="enrollments"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="enrollments"
    )
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="+")
    admitted_on = models.DateField()
    phase = models.CharField(max_length=32, choices=Phase.choices, default=Phase.ENGAGEMENT)
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload"
    )
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=32, choices=DischargeReason.choices, blank=True)
    step_down_destination = models.CharField(
        max_length=32, choices=StepDownDestination.choices, blank=True
    )
    discharge_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            # One open episode per participant, enforced by the database itself.
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(discharged_on__isnull=True),
                name="enrollment_one_open_episode",
            ),
            models.CheckConstraint(
                name="enrollment_discharge_after_admission",
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on")),
            ),
            models.CheckConstraint(
                name="enrollment_discharge_has_reason",
                condition=Q(discharged_on__isnull=True) | ~Q(discharge_reason=""),
            ),
            models.CheckConstraint(
                name="enrollment_phase_valid", condition=Q(phase__in=Phase.values)
            ),
        ]
        indexes = [models.Index(fields=["program", "discharged_on"], name="enrollment_open_idx")]
        ordering = ["-admitted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.participant_id} from {self.admitted_on}"

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None


class PhaseChange(BaseModel):
    """History of phase moves, so the chart can show when and why care changed."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="phase_changes"
    )
    from_phase = models.CharField(max_length=32, choices=Phase.choices)
    to_phase = models.CharField(max_length=32, choices=Phase.choices)
    effective_on = models.DateField()
    reason = models.TextField()

    class Meta:
        ordering = ["-effective_on", "-id"]

    @property
    def participant(self) -> Participant:
        return self.enrollment.participant
