"""Reads of safety events, always scoped by program (and participant where there is one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from openiop.accounts.models import User
from openiop.core import clock
from openiop.participants.models import Participant
from openiop.programs.models import Program
from openiop.safety.models import (
    EventStatus,
    NotificationReason,
    SafetyEvent,
    SafetyEventStep,
    SafetyNotification,
    Severity,
    StepKind,
)

NOT_CLOSED = (EventStatus.OPEN, EventStatus.ACKNOWLEDGED)


def open_events(*, program: Program) -> QuerySet[SafetyEvent]:
    """Events not yet closed: high severity first, then urgent, then review; within each,
    unacknowledged first, then oldest first."""
    return (
        SafetyEvent.objects.filter(program=program, status__in=NOT_CLOSED)
        .select_related("participant", "acknowledged_by")
        .annotate(
            severity_order=Case(
                When(severity=Severity.HIGH, then=Value(0)),
                When(severity=Severity.URGENT, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            ack_order=Case(
                When(status=EventStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("severity_order", "ack_order", "created_at", "id")
    )


def event_get(*, program: Program, event_id: UUID | str) -> SafetyEvent:
    """One event of this program with its timeline, or 404."""
    steps = SafetyEventStep.objects.select_related("by").order_by("at", "id")
    try:
        return (
            SafetyEvent.objects.select_related(
                "program", "participant", "acknowledged_by", "closed_by"
            )
            .prefetch_related(Prefetch("steps", queryset=steps))
            .get(program=program, external_id=event_id)
        )
    except (SafetyEvent.DoesNotExist, ValueError):
        raise Http404("safety event not found") from None


def notifications_for(*, user: User, program: Program, limit: int = 20) -> list[SafetyNotification]:
    """This staff member's safety notifications in the program, newest first."""
    return list(
        SafetyNotification.objects.filter(program=program, recipient=user)
        .select_related("event", "event__participant")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Alert:
    level: str
    text: str | SafeString


def chart_alerts(*, participant: Participant) -> list[Alert]:
    """The chart header's alerts: one per event not yet closed, in one query."""
    alerts = []
    zone = clock.zone(participant.program)
    for event in SafetyEvent.objects.filter(
        program_id=participant.program_id, participant=participant, status__in=NOT_CLOSED
    ).order_by("created_at", "id"):
        url = reverse(
            "safety:detail",
            kwargs={"program_id": participant.program.external_id, "event_id": event.external_id},
        )
        if event.severity == Severity.HIGH:
            label = "High risk: immediate precautions"
        else:
            label = f"Safety event ({event.get_severity_display().lower()})"
        state = "unacknowledged" if event.is_open else "acknowledged, open"
        alerts.append(
            Alert(
                level="high" if event.is_high_risk or event.is_open else "warn",
                text=format_html(
                    '<a href="{}">{}</a>: {}, {} since {}',
                    url,
                    label,
                    event.get_source_display(),
                    state,
                    event.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                ),
            )
        )
    return alerts


@dataclass(frozen=True)
class RosterSafety:
    """The runner's chip for a participant's open safety event: what it says and where it
    leads (the event itself; an unacknowledged one before an acknowledged one)."""

    text: str
    url: str
    unacknowledged: bool


def roster_flags(*, program: Program, participant_ids: list[int]) -> dict[int, RosterSafety]:
    """Participant id → the runner chip for their open safety events, from one query."""
    flags: dict[int, RosterSafety] = {}
    rows = (
        SafetyEvent.objects.filter(
            program=program, participant_id__in=participant_ids, status__in=NOT_CLOSED
        )
        .order_by("created_at", "id")
        .values_list("participant_id", "status", "external_id")
    )
    for participant_id, status, external_id in rows:
        unacknowledged = status == EventStatus.OPEN
        known = flags.get(participant_id)
        if known is not None and (known.unacknowledged or not unacknowledged):
            continue
        url = reverse(
            "safety:detail", kwargs={"program_id": program.external_id, "event_id": external_id}
        )
        state = "unacknowledged" if unacknowledged else "acknowledged"
        flags[participant_id] = RosterSafety(
            text=f"open safety event ({state})", url=url, unacknowledged=unacknowledged
        )
    return flags


@dataclass(frozen=True)
class AlertOutcome:
    """What actually happened to a participant's alert, for the page that tells them: who
    was notified (by role, never by name), and whether anyone was reached at all."""

    clinician: bool
    on_call: int
    leads: int  # directors and supervisors, when the event escalated
    out_of_band: int

    @property
    def anyone(self) -> bool:
        return self.clinician or self.on_call > 0 or self.leads > 0


def alert_outcome(*, participant: Participant, event_id: UUID | str) -> AlertOutcome | None:
    """The outcome of one of this participant's own events (None when it is not theirs)."""
    event = SafetyEvent.objects.filter(
        program_id=participant.program_id, participant=participant, external_id=event_id
    ).first()
    return _outcome(event) if event is not None else None


def latest_alert(
    *, participant: Participant, within: timedelta = timedelta(hours=1)
) -> AlertOutcome | None:
    """The outcome of this participant's most recent event not yet closed, raised within
    `within` (the page a participant lands on after a check-in, a questionnaire or the help
    button); None when there is none."""
    event = (
        SafetyEvent.objects.filter(
            program_id=participant.program_id,
            participant=participant,
            status__in=NOT_CLOSED,
            created_at__gte=clock.now() - within,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return _outcome(event) if event is not None else None


def _outcome(event: SafetyEvent) -> AlertOutcome:
    reasons = list(SafetyNotification.objects.filter(event=event).values_list("reason", flat=True))
    sent = SafetyEventStep.objects.filter(
        event=event, kind=StepKind.OUT_OF_BAND, text__endswith=": sent"
    ).count()
    return AlertOutcome(
        clinician=NotificationReason.CLINICIAN_OF_RECORD in reasons,
        on_call=reasons.count(NotificationReason.ON_CALL),
        leads=reasons.count(NotificationReason.ESCALATION),
        out_of_band=sent,
    )
