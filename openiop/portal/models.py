"""The participant portal: what participants record between sessions.

Every row belongs to one participant of one program and is written only through
`openiop.portal.actions`, which validates, audits and commits atomically. Participants' own
words live in these rows and nowhere else: never in audit details, logs or safety-event
detail (AU-04).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from openiop.core.models import BaseModel
from openiop.curriculum.library import library

if TYPE_CHECKING:
    from openiop.participants.models import Participant

MOOD_MAX = 10
CRAVING_MAX = 10
EMOTION_MAX = 5
URGE_MAX = 5
SUICIDAL_IDEATION_MAX = 5

# DBT-style diary card emotions, rated 0-5 each day (clinical.md section 2).
DIARY_EMOTIONS: tuple[tuple[str, str], ...] = (
    ("sadness", gettext_noop("Sadness")),
    ("anxiety", gettext_noop("Fear or anxiety")),
    ("anger", gettext_noop("Anger")),
    ("shame", gettext_noop("Shame or guilt")),
    ("loneliness", gettext_noop("Loneliness")),
    ("joy", gettext_noop("Joy")),
)


class IdempotencyRecord(models.Model):
    """REL-01: one row per (user, key). The first request stores its response here in the
    same transaction as the row it created; a replay returns it, a different body with the
    same key is refused. Only a fingerprint of the body is kept, never the body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64)
    scope = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")
        ]


class CheckInKind(models.TextChoices):
    SESSION = "session", _("Before a session")
    DAILY = "daily", _("Daily")


class Medication(models.TextChoices):
    TAKEN = "taken", _("Yes, as prescribed")
    PARTLY = "partly", _("Some of it")
    MISSED = "missed", _("No")
    NONE_PRESCRIBED = "none", _("I have no prescribed medication")


class CheckIn(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="check_ins"
    )
    kind = models.CharField(max_length=8, choices=CheckInKind.choices)
    # The group session this check-in comes before (today's next session), if any.
    session = models.ForeignKey(
        "groupwork.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mood = models.PositiveSmallIntegerField()
    craving = models.PositiveSmallIntegerField()
    used_since_last = models.BooleanField()
    use_what = models.CharField(max_length=200, blank=True)
    use_when = models.DateTimeField(null=True, blank=True)
    sleep_hours = models.DecimalField(max_digits=3, decimal_places=1)
    skills_used = models.JSONField(default=list)
    medication = models.CharField(max_length=8, choices=Medication.choices)
    safety_concern = models.BooleanField()
    bring_to_group = models.TextField(blank=True)
    # The safety event a "yes" to the safety question opened (opaque id, like measures).
    safety_event_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="checkin_mood_range", condition=Q(mood__lte=MOOD_MAX)),
            models.CheckConstraint(
                name="checkin_craving_range", condition=Q(craving__lte=CRAVING_MAX)
            ),
            models.CheckConstraint(
                name="checkin_sleep_range", condition=Q(sleep_hours__gte=0, sleep_hours__lte=24)
            ),
            models.CheckConstraint(
                name="checkin_kind_valid", condition=Q(kind__in=CheckInKind.values)
            ),
            models.CheckConstraint(
                name="checkin_medication_valid", condition=Q(medication__in=Medication.values)
            ),
            # Use is recorded with what and when, or not at all.
            models.CheckConstraint(
                name="checkin_use_described",
                condition=Q(used_since_last=False, use_what="", use_when__isnull=True)
                | (Q(used_since_last=True, use_when__isnull=False) & ~Q(use_what="")),
            ),
        ]
        indexes = [models.Index(fields=["participant", "created_at"])]
        ordering = ["-created_at", "-id"]


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Working on it")
    DONE = "done", _("Done")
    PARTIAL = "partial", _("Partly done")
    SETBACK = "setback", _("Setback")


UPDATE_STATUSES = (GoalStatus.DONE, GoalStatus.PARTIAL, GoalStatus.SETBACK)


class WeeklyGoal(BaseModel):
    """A goal for one week, linked to an objective of the participant's treatment plan so
    that the group work and the plan tell the same story (the golden thread)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="weekly_goals"
    )
    objective = models.ForeignKey(
        "treatment.Objective", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    week_start = models.DateField()
    text = models.CharField(max_length=300)
    share_in_group = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=GoalStatus.choices, default=GoalStatus.OPEN)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="weekly_goal_status_valid", condition=Q(status__in=GoalStatus.values)
            )
        ]
        ordering = ["-week_start", "created_at", "id"]


class GoalUpdate(BaseModel):
    goal = models.ForeignKey(WeeklyGoal, on_delete=models.PROTECT, related_name="updates")
    status = models.CharField(max_length=8, choices=GoalStatus.choices)
    note = models.TextField(blank=True)
    share_in_group = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="goal_update_status_valid",
                condition=Q(status__in=[s.value for s in UPDATE_STATUSES]),
            )
        ]
        ordering = ["created_at", "id"]

    @property
    def participant(self) -> Participant:
        """Audit records the participant of the goal this update belongs to."""
        return self.goal.participant


class DiaryCard(BaseModel):
    """One day of the diary card. A participant may correct a day; each save is audited and
    the card records whether it was filled in after the day had ended."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="diary_cards"
    )
    day = models.DateField()
    emotions = models.JSONField(default=dict)
    urge_use = models.PositiveSmallIntegerField()
    urge_self_harm = models.PositiveSmallIntegerField()
    # Thoughts of suicide today, 0-5 like the urges; empty on cards saved before it was asked.
    suicidal_ideation = models.PositiveSmallIntegerField(null=True, blank=True)
    used_substance = models.BooleanField(default=False)
    self_harm_action = models.BooleanField(default=False)
    actions_taken = models.TextField(blank=True)
    skills_used = models.JSONField(default=list)
    note = models.TextField(blank=True)
    entered_late = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    # The safety event this card opened (self-harm, or a high suicidal-ideation rating).
    safety_event_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "day"], name="diary_one_card_per_day"),
            models.CheckConstraint(
                name="diary_urges_range",
                condition=Q(urge_use__lte=URGE_MAX, urge_self_harm__lte=URGE_MAX),
            ),
            models.CheckConstraint(
                name="diary_suicidal_ideation_range",
                condition=Q(suicidal_ideation__lte=SUICIDAL_IDEATION_MAX)
                | Q(suicidal_ideation__isnull=True),
            ),
        ]
        ordering = ["day"]

    @property
    def emotion_values(self) -> list[int | None]:
        """Ratings in the order of DIARY_EMOTIONS, for tables."""
        return [self.emotions.get(name) for name, _ in DIARY_EMOTIONS]


class HomeworkSubmission(BaseModel):
    """A completed worksheet. `answers` holds the canonical homework field names of
    curriculum/schema.py, validated against the plan's template."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="homework"
    )
    session = models.ForeignKey(
        "groupwork.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plan_code = models.CharField(max_length=40)
    kind = models.CharField(max_length=32)
    answers = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def kind_label(self) -> str:
        return gettext(HOMEWORK_KIND_LABELS.get(self.kind, self.kind))

    @property
    def plan_title(self) -> str:
        """The session's title for people (its curriculum code is internal)."""
        try:
            return library().plan(self.plan_code).title
        except KeyError:
            return "a session no longer in the curriculum"


HOMEWORK_KIND_LABELS = {
    "thought_record": gettext_noop("Thought record"),
    "behavioural_activation": gettext_noop("Activity schedule"),
    "skill_practice_log": gettext_noop("Skill practice log"),
    "role_play_reflection": gettext_noop("Role-play reflection"),
}


class SafetyPlan(BaseModel):
    """Stanley-Brown safety plan (clinical.md section 6): six steps in the participant's
    own words plus reasons for living, built with the clinician. Every save keeps the
    previous text as a revision; drafts use optimistic concurrency (IN-03)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.PROTECT, related_name="safety_plan"
    )
    warning_signs = models.TextField(blank=True)
    coping_strategies = models.TextField(blank=True)
    distractions = models.TextField(blank=True)
    help_contacts = models.TextField(blank=True)
    professionals = models.TextField(blank=True)
    environment_safety = models.TextField(blank=True)
    reasons_for_living = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)


# (field, step heading, prompt) in the order of the Stanley-Brown plan; our own wording.
SAFETY_PLAN_STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "warning_signs",
        gettext_noop("1. My warning signs"),
        gettext_noop(
            "Thoughts, feelings, situations or behaviour that tell me a crisis may be building."
        ),
    ),
    (
        "coping_strategies",
        gettext_noop("2. Things I can do on my own"),
        gettext_noop("Ways to take my mind off things without contacting anyone."),
    ),
    (
        "distractions",
        gettext_noop("3. People and places that help me take my mind off things"),
        gettext_noop("Who I can be with, and where I can go, to feel better for a while."),
    ),
    (
        "help_contacts",
        gettext_noop("4. People I can ask for help"),
        gettext_noop("Names and phone numbers of people I can tell that I am struggling."),
    ),
    (
        "professionals",
        gettext_noop("5. Professionals and crisis lines"),
        gettext_noop(
            "My clinician, the program, and crisis lines. 988 is always there (call or text)."
        ),
    ),
    (
        "environment_safety",
        gettext_noop("6. Making my surroundings safer"),
        gettext_noop("What I will do to keep means of harm away while I am at risk."),
    ),
    (
        "reasons_for_living",
        gettext_noop("What matters most to me"),
        gettext_noop("My reasons for living and for getting through hard moments."),
    ),
)
SAFETY_PLAN_FIELDS = tuple(step[0] for step in SAFETY_PLAN_STEPS)


class SafetyPlanRevision(models.Model):
    """The plan's text before each save, so nothing written in it is ever lost (IN-04)."""

    plan = models.ForeignKey(SafetyPlan, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="safety_plan_revision_once")
        ]


class AlumniEndReason(models.TextChoices):
    REQUESTED = "requested", "Ended at the participant's request"
    EXPIRED = "expired", "Alumni period ended"
    STAFF = "staff", "Ended by staff"


class AlumniMembership(BaseModel):
    """A discharged participant who chose to keep a portal account (issue 15 §4): check-ins,
    the safety plan and "get help now" stay open; goals, diary, homework, questionnaires and
    everything clinical do not. Alerts from an alumni account reach the program's on-call
    staff (there is no clinician of record after discharge). Ends on request, by staff, or
    when `ends_on` passes in the program's time zone."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="alumni_memberships"
    )
    enrollment = models.OneToOneField(
        "participants.Enrollment", on_delete=models.PROTECT, related_name="alumni_membership"
    )
    started_on = models.DateField()
    ends_on = models.DateField(help_text="Last day of alumni access, in the program's zone")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=AlumniEndReason.choices, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("started_on")),
                name="alumni_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | Q(ended_at__isnull=False) & ~Q(end_reason=""),
                name="alumni_end_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["participant", "ended_at"], name="alumni_participant_open")]
