"""Organisation → Program → Track."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from openiop.core.models import BaseModel
from openiop.programs.rule_packs import RulePack, rule_packs


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. America/New_York).")


def validate_rule_pack(value: str) -> None:
    if value not in rule_packs():
        raise ValidationError(f"{value!r} is not a known rule pack.")


class Organisation(BaseModel):
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class Population(models.TextChoices):
    ADULT = "adult", "Adult"
    ADOLESCENT = "adolescent", "Adolescent"


class LevelOfCare(models.TextChoices):
    ASAM_2_1 = "asam-2.1", "ASAM Level 2.1 intensive outpatient"
    MH_IOP = "mh-iop", "Mental-health intensive outpatient"


class Program(BaseModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(max_length=200)
    level_of_care = models.CharField(max_length=32, choices=LevelOfCare.choices)
    population = models.CharField(max_length=16, choices=Population.choices)
    # Validated by the program actions (kept off the field so migrations never import app code).
    time_zone = models.CharField(max_length=64)
    rule_pack = models.CharField(max_length=64)
    # Record numbers are per program; this counter hands them out without gaps or reuse.
    next_record_number = models.PositiveIntegerField(default=1, editable=False)
    record_prefix = models.CharField(max_length=8, default="P")
    # A high-severity safety event (help button, C-SSRS high risk) that nobody acknowledges
    # escalates after this many minutes; other severities use OPENIOP_SAFETY_ESCALATE_AFTER.
    safety_high_escalate_minutes = models.PositiveSmallIntegerField(
        default=5,
        help_text="Minutes before an unacknowledged high-severity safety event escalates.",
    )
    # Off by default at clinicians' request: a label such as "severe" read alone, with no
    # clinician there to explain it, can alarm; the portal gives the trend in plain words
    # instead (docs/measures.md, "Participants' view of their scores").
    portal_shows_severity = models.BooleanField(
        default=False,
        help_text=(
            "Show participants the severity label (e.g. 'mild', 'severe') next to each "
            "questionnaire score in the portal. Off by default: the portal shows scores and "
            "the trend in plain words, and clinicians explain severity in person."
        ),
    )
    # The not-on-track standard (openiop.measures.outcomes.TrendSignal): an episode whose own
    # trend shows less than this share of its intake gone by week 4 is flagged. The default
    # (12) is the validation's choice; docs/outcomes-validation.md shows the trade-off.
    not_on_track_improvement_percent = models.PositiveSmallIntegerField(
        default=12,
        help_text=(
            "Flag a participant as not on track when their questionnaire trend shows less than "
            "this percentage of their intake score gone by week 4. Higher catches more people "
            "who are not improving and raises more alerts for people who are, slowly."
        ),
    )

    # Virtual and hybrid sessions without a link of their own get one from this template:
    # "{room}" becomes an opaque token derived from the session id (never a name or date).
    video_link_template = models.CharField(
        max_length=300,
        blank=True,
        help_text='The video provider\'s room address, e.g. "https://video.example.org/{room}".',
    )
    # CMS place-of-service code for sessions in the room (11 office, 22 outpatient hospital).
    in_person_place_of_service = models.CharField(
        max_length=2, default="11", help_text="Place-of-service code for in-person sessions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="program_unique_name"),
            models.CheckConstraint(
                name="program_not_on_track_improvement_range",
                condition=models.Q(
                    not_on_track_improvement_percent__gte=4,
                    not_on_track_improvement_percent__lte=30,
                ),
            ),
            models.CheckConstraint(
                name="program_safety_high_escalate_range",
                condition=models.Q(
                    safety_high_escalate_minutes__gte=1, safety_high_escalate_minutes__lte=60
                ),
            ),
            models.CheckConstraint(
                name="program_population_valid",
                condition=models.Q(population__in=Population.values),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rules(self) -> RulePack:
        return rule_packs()[self.rule_pack]

    @property
    def min_weekly_minutes(self) -> int:
        return self.rules.min_weekly_minutes(self.population)


class TrackFocus(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    CO_OCCURRING = "co_occurring", "Co-occurring"


class Track(BaseModel):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=16, help_text="Short code used by the planner, e.g. AM")
    focus = models.CharField(max_length=32, choices=TrackFocus.choices)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="track_unique_name"),
            models.UniqueConstraint(fields=["program", "code"], name="track_unique_code"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
