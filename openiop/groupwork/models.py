"""Sessions, attendance, practice capture and notes: the structured group work.

A group session is one shared record (plan, facilitators, time, shared note section) plus,
per participant, an attendance row with minutes and either an individual note section or,
for absence, an absence record (clinical.md section 7).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from openiop.core.models import BaseModel


class SessionKind(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual"
    FAMILY = "family", "Family"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Modality(models.TextChoices):
    """Where a session happens; the place of service on notes and billing follows it."""

    IN_PERSON = "in_person", gettext_lazy("In person")
    VIRTUAL = "virtual", gettext_lazy("Virtual (video)")
    HYBRID = "hybrid", gettext_lazy("Hybrid (in the room or by video)")


class GroupSchedule(BaseModel):
    """A recurring weekly group of a track, rotating through a list of curriculum plans."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="schedules")
    title = models.CharField(max_length=200)
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField()
    room = models.CharField(max_length=100, blank=True)
    video_link = models.URLField(blank=True)
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    co_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    capacity = models.PositiveSmallIntegerField(default=12)
    plan_rotation = models.JSONField(default=list, help_text="Curriculum plan codes, in order")
    active_from = models.DateField()
    active_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="schedule_weekday_range", condition=Q(weekday__lte=6)),
            models.CheckConstraint(
                name="schedule_end_after_start", condition=Q(end_time__gt=models.F("start_time"))
            ),
        ]
        ordering = ["weekday", "start_time"]


class Session(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=SessionKind.choices)
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    schedule = models.ForeignKey(
        GroupSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.CharField(max_length=100, blank=True)
    video_link = models.URLField(blank=True)
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    co_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plan_code = models.CharField(
        max_length=40, blank=True, help_text="Curriculum plan (group sessions)"
    )
    capacity = models.PositiveSmallIntegerField(default=12)
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    # Agenda blocks ticked off in the runner (indexes into the plan's agenda).
    agenda_done = models.JSONField(default=list, blank=True)
    # The shared group section: no participant identifiers (guarded like individual notes).
    shared_topic = models.CharField(max_length=300, blank=True)
    shared_interventions = models.TextField(blank=True)
    shared_process = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="session_ends_after_start", condition=Q(ends_at__gt=models.F("starts_at"))
            ),
            models.CheckConstraint(
                name="session_group_has_plan", condition=~Q(kind="group") | ~Q(plan_code="")
            ),
            models.CheckConstraint(
                name="session_modality_valid", condition=Q(modality__in=Modality.values)
            ),
        ]
        indexes = [models.Index(fields=["program", "starts_at"], name="session_program_start_idx")]
        ordering = ["starts_at"]


class AttendanceStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    EXCUSED = "excused", "Excused"


class Participation(models.TextChoices):
    """The facilitator's quick observation per roster row; it feeds the note draft."""

    ENGAGED = "engaged", "Actively engaged"
    PROMPTED = "prompted", "Participated when prompted"
    LISTENED = "listened", "Mostly listened"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DISRUPTIVE = "disruptive", "Disruptive or off-topic"


class Affect(models.TextChoices):
    EUTHYMIC = "euthymic", "Euthymic"
    ANXIOUS = "anxious", "Anxious"
    DEPRESSED = "depressed", "Depressed"
    IRRITABLE = "irritable", "Irritable"
    FLAT = "flat", "Flat"
    LABILE = "labile", "Labile"
    ELEVATED = "elevated", "Elevated"


class Attendance(BaseModel):
    """One participant in one session. Minutes attended = departure − arrival, in whole
    minutes, never more than the session's length (clinical.md section 1: count attended
    minutes, not scheduled minutes)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendance")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(
        max_length=16, choices=AttendanceStatus.choices, default=AttendanceStatus.EXPECTED
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(default=0)
    walk_in = models.BooleanField(default=False)
    removed = models.BooleanField(
        default=False, help_text="Taken off the roster; kept for the record"
    )
    absence_reason = models.CharField(max_length=200, blank=True)
    # Quick observations from the runner that feed the note draft (blank: not chosen).
    participation = models.CharField(max_length=12, choices=Participation.choices, blank=True)
    affect = models.CharField(max_length=12, choices=Affect.choices, blank=True)
    # What the participant reported (room code or video join), kept apart from the times the
    # facilitator confirms: candidates pre-fill the runner and change no minutes by themselves.
    self_arrived_at = models.DateTimeField(null=True, blank=True)
    self_left_at = models.DateTimeField(null=True, blank=True)
    joined_by_video = models.BooleanField(
        default=False, help_text="Joined by video (telehealth place of service in a hybrid group)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="attendance_once_per_session"
            ),
            models.CheckConstraint(
                name="attendance_departure_after_arrival",
                condition=Q(departed_at__isnull=True)
                | Q(arrived_at__isnull=True)
                | Q(departed_at__gte=models.F("arrived_at")),
            ),
        ]

    @staticmethod
    def _to_confirm(candidate: Any, confirmed: Any) -> Any:
        if candidate is None:
            return None
        if confirmed is not None and abs((candidate - confirmed).total_seconds()) < 60:
            return None
        return candidate

    @property
    def arrival_to_confirm(self) -> Any:
        """The self-reported arrival, while it differs from the confirmed one (to the minute)."""
        return self._to_confirm(self.self_arrived_at, self.arrived_at)

    @property
    def departure_to_confirm(self) -> Any:
        return self._to_confirm(self.self_left_at, self.departed_at)


class PracticeRecord(BaseModel):
    """Role-play and peer feedback for one participant, recorded without naming peers."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="practice")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    skill = models.CharField(max_length=120)
    role_taken = models.CharField(max_length=60, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    feedback_themes = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="practice_rating_1_to_5",
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
            )
        ]


class NoteFormat(models.TextChoices):
    DAP = "dap", "DAP (data, assessment, plan)"
    BIRP = "birp", "BIRP (behaviour, intervention, response, plan)"


NOTE_SECTIONS: dict[str, list[tuple[str, str]]] = {
    NoteFormat.DAP: [("data", "Data"), ("assessment", "Assessment"), ("plan", "Plan")],
    NoteFormat.BIRP: [
        ("behavior", "Behaviour"),
        ("intervention", "Intervention"),
        ("response", "Response"),
        ("plan", "Plan"),
    ],
}


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class SignedNoteError(Exception):
    """A signed note cannot be changed; corrections are addenda (IN-01)."""


class NoteQuerySet(models.QuerySet["Note"]):
    def update(self, **kwargs: Any) -> int:
        # A bulk update would bypass the model guard; only drafts may be bulk-updated.
        if self.filter(status=NoteStatus.SIGNED).exists():
            raise SignedNoteError("signed notes cannot be updated")
        return super().update(**kwargs)


class Note(BaseModel):
    """A participant's individual note for one session (or a session-less note)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="notes"
    )
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=NoteFormat.choices, default=NoteFormat.DAP)
    sections = models.JSONField(default=dict)
    objectives = models.ManyToManyField("treatment.Objective", blank=True, related_name="notes")
    status = models.CharField(max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    guard_override_reason = models.TextField(blank=True)
    guard_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = NoteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"],
                condition=Q(session__isnull=False) & ~Q(status="entered_in_error"),
                name="note_one_per_session_participant",
            ),
            models.CheckConstraint(
                name="note_signed_has_signer",
                condition=~Q(status="signed")
                | (Q(signed_by__isnull=False) & Q(signed_at__isnull=False) & ~Q(content_hash="")),
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        signed = self.pk is not None and Note.objects.filter(pk=self.pk, status=NoteStatus.SIGNED)
        if signed and signed.exists():
            raise SignedNoteError("signed notes are immutable; add an addendum instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise SignedNoteError("notes are never deleted; mark them entered in error")

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    def compute_hash(self) -> str:
        """The content hash stored at signing and checked on read and export (IN-02)."""
        payload = {
            "note": str(self.external_id),
            "participant": str(self.participant.external_id),
            "session": str(self.session.external_id) if self.session else None,
            "format": self.format,
            "sections": self.sections,
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NoteAddendum(BaseModel):
    """A correction or addition to a signed note; the original stays visible."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    text = models.TextField()
    # An attendance correction made after signing re-states the minutes here (and in `text`):
    # the minutes attended as corrected, and what the attendance row said before and after.
    minutes = models.PositiveIntegerField(null=True, blank=True)
    attendance_change = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class NoteCosignature(BaseModel):
    """A supervisor's co-signature, kept apart so the signed note itself never changes."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    note = models.OneToOneField(Note, on_delete=models.PROTECT, related_name="cosignature")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
