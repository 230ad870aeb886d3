"""Every write to safety events. Views, the API, the measures hook, the escalation task and
tests call these.

Raising an event, its in-app notifications, its first steps, the escalation job and the
audit event commit together or not at all; the notifier backend (email, console) runs only
after the commit, so nobody is alerted about an event that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_tasks import task

from openiop.accounts.actions import system_user
from openiop.accounts.models import Membership, User
from openiop.accounts.roles import Role
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import Enrollment, Participant
from openiop.programs.models import Program
from openiop.safety.models import (
    EventStatus,
    NotificationReason,
    SafetyEvent,
    SafetyEventStep,
    SafetyNotification,
    Severity,
    Source,
    StepKind,
)
from openiop.safety.notifiers import Delivery, deliver

logger = logging.getLogger("openiop.safety")

# Steps staff record by hand on the event page; the rest are written by the workflow.
RECORDABLE = (StepKind.CSSRS_DONE, StepKind.SAFETY_PLAN_REVIEWED, StepKind.NOTE)
MAX_DETAIL = 500
MAX_TEXT = 4000
NOT_IN_TIME = "Not acknowledged in time"
NOBODY_ALERTED = "Nobody on the care team could be alerted"
# Help presses this close to the previous one join its event (a frightened person presses
# again and again; staff need one event with every press on it, escalating once).
HELP_JOIN_WINDOW = timedelta(minutes=10)


def _now() -> datetime:
    return clock.now()


def _step(
    event: SafetyEvent, kind: StepKind, by: User | None, text: str = "", at: datetime | None = None
) -> SafetyEventStep:
    return SafetyEventStep.objects.create(
        program=event.program,
        event=event,
        kind=kind,
        by=by,
        at=at or _now(),
        text=text,
        created_by=by,
    )


def _lock(event: SafetyEvent) -> SafetyEvent:
    # Only the event's row: FOR UPDATE on the joined program row blocked every insert that
    # references the program (its foreign-key check) while this transaction waited for the
    # audit head, and deadlocked with check-ins holding the head (bench/load.py, issue 12).
    return (
        SafetyEvent.objects.select_for_update(of=("self",))
        .select_related("program", "participant")
        .get(pk=event.pk)
    )


def _refresh(original: SafetyEvent, locked: SafetyEvent) -> None:
    # Callers keep using the object they passed in (views, tests): keep it current.
    for f in SafetyEvent._meta.concrete_fields:
        setattr(original, f.attname, getattr(locked, f.attname))


def clinician_of_record(participant: Participant) -> User | None:
    """The primary clinician of the participant's open episode of care."""
    enrollment = (
        Enrollment.objects.filter(
            program=participant.program, participant=participant, discharged_on__isnull=True
        )
        .select_related("primary_clinician")
        .first()
    )
    return enrollment.primary_clinician if enrollment else None


def _members(program_id: int, **filters: Any) -> list[User]:
    rows = (
        Membership.objects.filter(
            program_id=program_id, is_active=True, user__is_active=True, **filters
        )
        .select_related("user")
        .order_by("user_id")
    )
    return [m.user for m in rows]


def _notify(
    event: SafetyEvent, recipients: Iterable[tuple[User, NotificationReason]], by: User | None
) -> list[SafetyNotification]:
    seen: set[int] = set()
    made: list[SafetyNotification] = []
    for user, reason in recipients:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        made.append(
            SafetyNotification(
                program=event.program,
                event=event,
                recipient=user,
                reason=reason,
                level=event.escalation_level,
                created_by=by,
            )
        )
    SafetyNotification.objects.bulk_create(made)
    _step(event, StepKind.NOTIFIED, by, f"{len(made)} staff notified ({_reasons(made)})")
    if event.severity == Severity.HIGH and not made:
        _step(event, StepKind.OUT_OF_BAND, None, "Nobody to reach out of band: nobody notified.")
    # robust: a failure to send or to record the attempt is logged and never reaches the
    # participant's request (the event and its in-app notifications are already committed).
    transaction.on_commit(lambda: _deliver_and_record(made), robust=True)
    return made


def _deliver_and_record(made: list[SafetyNotification]) -> None:
    """After the commit: send through the notifier and, for high-severity events, the
    out-of-band channels; then record each out-of-band attempt on the event's timeline."""
    deliveries = deliver(made)
    if deliveries:
        safety_event_record_deliveries(deliveries=deliveries)


@transaction.atomic
def safety_event_record_deliveries(*, deliveries: list[Delivery]) -> list[SafetyEventStep]:
    """One "out-of-band alert" step per attempt (sent, no address, failed), by the system.
    Staff names only: the participant is never in the text (it is on the event)."""
    steps = []
    system = system_user()
    for delivery in deliveries:
        n = delivery.notification
        reason = NotificationReason(n.reason).label.lower()
        text = f"{delivery.channel} to {_staff_name(n.recipient)} ({reason}): {delivery.status}"
        steps.append(_step(n.event, StepKind.OUT_OF_BAND, None, text))
        audit_record(
            actor=system,
            action="update",
            obj=n.event,
            detail={"step": StepKind.OUT_OF_BAND.value, "channel": delivery.channel},
        )
    return steps


def _staff_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _reasons(made: list[SafetyNotification]) -> str:
    counts: dict[str, int] = {}
    for n in made:
        label = NotificationReason(n.reason).label.lower()
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{label}: {n}" for label, n in counts.items()) or "nobody to notify"


def _schedule_escalation(event: SafetyEvent) -> None:
    schedule(safety_escalate_if_due, event)


def escalation_period(event: SafetyEvent) -> timedelta:
    """High severity escalates after the program's (short) setting, the rest after
    settings.OPENIOP_SAFETY_ESCALATE_AFTER."""
    if event.severity == Severity.HIGH:
        return timedelta(minutes=event.program.safety_high_escalate_minutes)
    after: timedelta = settings.OPENIOP_SAFETY_ESCALATE_AFTER
    return after


def escalation_due_at(event: SafetyEvent) -> datetime:
    return (event.escalated_at or event.created_at) + escalation_period(event)


@transaction.atomic
def safety_event_raise(
    *,
    actor: User,
    participant: Participant,
    source: str,
    severity: str,
    detail: str = "",
    assessment_id: Any = None,
) -> SafetyEvent:
    """Open a safety event, alert the clinician of record and whoever is on call, prompt a
    same-day C-SSRS (unless a C-SSRS raised it) and schedule escalation."""
    errors: dict[str, str] = {}
    if source not in Source.values:
        errors["source"] = "Choose where the concern came from."
    if severity not in Severity.values:
        errors["severity"] = "Choose how urgent this is."
    detail = detail.strip()
    if len(detail) > MAX_DETAIL:
        errors["detail"] = f"Keep the detail under {MAX_DETAIL} characters."
    if participant.program_id is None:
        errors["participant"] = "Unknown participant."
    if errors:
        raise ActionError(errors)
    event = SafetyEvent.objects.create(
        program=participant.program,
        participant=participant,
        source=source,
        severity=severity,
        detail=detail,
        assessment_id=assessment_id,
        created_by=actor,
    )
    _step(event, StepKind.CREATED, actor, Source(source).label)
    if source != Source.CSSRS:
        _step(event, StepKind.CSSRS_PROMPTED, actor, "Complete a C-SSRS screen today.")
    _step(
        event,
        StepKind.SAFETY_PLAN_PROMPTED,
        actor,
        "Review the safety plan with the participant (or write one with them).",
    )
    recipients: list[tuple[User, NotificationReason]] = []
    clinician = clinician_of_record(participant)
    if clinician is not None:
        recipients.append((clinician, NotificationReason.CLINICIAN_OF_RECORD))
    for user in _members(event.program_id, is_on_call=True):
        recipients.append((user, NotificationReason.ON_CALL))
    made = _notify(event, recipients, actor)
    audit_record(
        actor=actor,
        action="create",
        obj=event,
        detail={"source": source, "severity": severity},
    )
    if made:
        _schedule_escalation(event)
    else:
        # Nobody to alert (discharged, nobody on call): do not wait out the escalation
        # period with nobody told; the program's directors and supervisors are alerted now.
        safety_event_escalate(event, reason=NOBODY_ALERTED)
    return event


def _recent_help_event(participant: Participant) -> SafetyEvent | None:
    """The participant's help-button event not yet closed whose latest press was within
    HELP_JOIN_WINDOW, or None."""
    since = _now() - HELP_JOIN_WINDOW
    for event in SafetyEvent.objects.filter(
        program_id=participant.program_id,
        participant=participant,
        source=Source.HELP_BUTTON,
        status__in=(EventStatus.OPEN, EventStatus.ACKNOWLEDGED),
    ).order_by("-created_at", "-id")[:3]:
        presses = event.steps.filter(kind=StepKind.HELP_PRESSED).order_by("-at").first()
        last = presses.at if presses is not None else event.created_at
        if last >= since:
            return event
    return None


@transaction.atomic
def safety_event_help_press(*, actor: User, participant: Participant, detail: str) -> SafetyEvent:
    """One press of "I need help now". A press within HELP_JOIN_WINDOW of the previous one
    joins that event (not closed): the press is a step on its timeline and audited, and the
    escalation already scheduled runs once. Otherwise a new high-severity event is raised.
    Never refused."""
    # Serialise one participant's presses, so two at once cannot open two events.
    list(Participant.objects.select_for_update().filter(pk=participant.pk).values_list("pk"))
    joined = _recent_help_event(participant)
    if joined is None:
        return safety_event_raise(
            actor=actor,
            participant=participant,
            source=Source.HELP_BUTTON,
            severity=Severity.HIGH,
            detail=detail,
        )
    locked = _lock(joined)
    presses = 2 + locked.steps.filter(kind=StepKind.HELP_PRESSED).count()
    _step(locked, StepKind.HELP_PRESSED, actor, f"Press {presses} of \u201cI need help now\u201d.")
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={"step": StepKind.HELP_PRESSED.value, "presses": presses},
    )
    _refresh(joined, locked)
    return joined


@transaction.atomic
def safety_event_acknowledge(*, actor: User, event: SafetyEvent) -> SafetyEvent:
    locked = _lock(event)
    if locked.status != EventStatus.OPEN:
        raise ConflictError({"event": "This event has already been acknowledged."})
    now = _now()
    locked.status = EventStatus.ACKNOWLEDGED
    locked.acknowledged_by = actor
    locked.acknowledged_at = now
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
    _step(locked, StepKind.ACKNOWLEDGED, actor, at=now)
    SafetyNotification.objects.filter(event=locked, recipient=actor, read_at__isnull=True).update(
        read_at=now
    )
    audit_record(actor=actor, action="update", obj=locked, detail={"status": locked.status})
    _refresh(event, locked)
    return locked


@transaction.atomic
def safety_event_record_step(
    *, actor: User, event: SafetyEvent, kind: str, text: str = ""
) -> SafetyEventStep:
    """Record a C-SSRS done, a safety-plan review or a note on an event not yet closed."""
    if kind not in [k.value for k in RECORDABLE]:
        raise ActionError({"kind": "Choose what was done."})
    text = text.strip()
    if kind == StepKind.NOTE and not text:
        raise ActionError({"text": "Write the note."})
    if len(text) > MAX_TEXT:
        raise ActionError({"text": f"Keep this under {MAX_TEXT} characters."})
    locked = _lock(event)
    if locked.is_closed:
        raise ConflictError({"event": "This event is closed."})
    step = _step(locked, StepKind(kind), actor, text)
    audit_record(actor=actor, action="update", obj=locked, detail={"step": kind})
    return step


def _end_of_local_day(program: Program, moment: datetime) -> datetime:
    zone = clock.zone(program)
    day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=zone)


def _awaiting_cssrs(participant: Participant, administered_at: datetime) -> list[SafetyEvent]:
    """Events of this participant, not closed, that prompted a C-SSRS and have none recorded,
    raised no later than the screen's day: a screen from before the concern does not answer
    it (one done earlier the same day, then keyed in, does)."""
    steps = SafetyEventStep.objects.filter(event=OuterRef("pk"))
    return list(
        SafetyEvent.objects.filter(program=participant.program, participant=participant)
        .exclude(status=EventStatus.CLOSED)
        .filter(Exists(steps.filter(kind=StepKind.CSSRS_PROMPTED)))
        .exclude(Exists(steps.filter(kind=StepKind.CSSRS_DONE)))
        .filter(created_at__lt=_end_of_local_day(participant.program, administered_at))
        .order_by("created_at", "id")
    )


@transaction.atomic
def safety_events_cssrs_recorded(
    *, actor: User, participant: Participant, risk: str, administered_at: datetime
) -> list[SafetyEventStep]:
    """A clinician recorded a C-SSRS screen: mark it done on every event still waiting for
    one, in the caller's transaction and audited like a step recorded by hand. The text names
    the risk tier only (never the participant's answers or words)."""
    tier = risk or "not determined (an answer is missing)"
    text = f"C-SSRS screener recorded: risk {tier}."
    return [
        safety_event_record_step(actor=actor, event=event, kind=StepKind.CSSRS_DONE, text=text)
        for event in _awaiting_cssrs(participant, administered_at)
    ]


CLOSE_REQUIREMENTS = (
    (
        StepKind.CSSRS_DONE,
        "cssrs_not_done_reason",
        "Record the C-SSRS screen on this event before closing it, or say why it was not done.",
    ),
    (
        StepKind.SAFETY_PLAN_REVIEWED,
        "safety_plan_not_reviewed_reason",
        "Record the safety-plan review on this event before closing it, or say why it was "
        "not reviewed.",
    ),
)


def _close_errors(event: SafetyEvent, outcome: str, reasons: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not outcome:
        errors["outcome"] = "Record the outcome before closing the event."
    elif len(outcome) > MAX_TEXT:
        errors["outcome"] = f"Keep the outcome under {MAX_TEXT} characters."
    done = set(event.steps.values_list("kind", flat=True))
    for kind, field, message in CLOSE_REQUIREMENTS:
        if len(reasons[field]) > MAX_TEXT:
            errors[field] = f"Keep this under {MAX_TEXT} characters."
        elif kind not in done and not reasons[field]:
            errors[field] = message
    return errors


@transaction.atomic
def safety_event_close(
    *,
    actor: User,
    event: SafetyEvent,
    outcome: str,
    cssrs_not_done_reason: str = "",
    safety_plan_not_reviewed_reason: str = "",
) -> SafetyEvent:
    """Close an acknowledged event with its outcome (what was done, what happens next).
    It needs a recorded C-SSRS and safety-plan review, or the stated reason each was not
    done (clinical.md section 6)."""
    outcome = outcome.strip()
    reasons = {
        "cssrs_not_done_reason": cssrs_not_done_reason.strip(),
        "safety_plan_not_reviewed_reason": safety_plan_not_reviewed_reason.strip(),
    }
    locked = _lock(event)
    if locked.is_open:
        raise ConflictError({"event": "Acknowledge the event before closing it."})
    if locked.is_closed:
        raise ConflictError({"event": "This event is already closed."})
    errors = _close_errors(locked, outcome, reasons)
    if errors:
        raise ActionError(errors)
    now = _now()
    locked.status = EventStatus.CLOSED
    locked.closed_by = actor
    locked.closed_at = now
    locked.outcome = outcome
    locked.cssrs_not_done_reason = reasons["cssrs_not_done_reason"]
    locked.safety_plan_not_reviewed_reason = reasons["safety_plan_not_reviewed_reason"]
    locked.save(
        update_fields=[
            "status",
            "closed_by",
            "closed_at",
            "outcome",
            "cssrs_not_done_reason",
            "safety_plan_not_reviewed_reason",
            "updated_at",
        ]
    )
    _step(locked, StepKind.CLOSED, actor, _close_text(outcome, reasons), at=now)
    audit_record(actor=actor, action="update", obj=locked, detail={"status": locked.status})
    _refresh(event, locked)
    return locked


def _close_text(outcome: str, reasons: dict[str, str]) -> str:
    lines = [outcome]
    if reasons["cssrs_not_done_reason"]:
        lines.append(f"C-SSRS not done: {reasons['cssrs_not_done_reason']}")
    if reasons["safety_plan_not_reviewed_reason"]:
        lines.append(f"Safety plan not reviewed: {reasons['safety_plan_not_reviewed_reason']}")
    return "\n".join(lines)


@transaction.atomic
def safety_event_escalate(event: SafetyEvent, *, reason: str = NOT_IN_TIME) -> bool:
    """Still unacknowledged: raise the escalation level, alert the program's directors and
    supervisors, and schedule the next escalation. Returns whether it escalated."""
    locked = _lock(event)
    if locked.status != EventStatus.OPEN:
        return False
    system = system_user()
    locked.escalation_level += 1
    locked.escalated_at = _now()
    locked.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
    _step(
        locked,
        StepKind.ESCALATED,
        None,
        f"{reason}: escalation level {locked.escalation_level}.",
    )
    roles = [Role.PROGRAM_DIRECTOR.value, Role.SUPERVISOR.value]
    _notify(
        locked,
        [(u, NotificationReason.ESCALATION) for u in _members(locked.program_id, role__in=roles)],
        None,
    )
    _schedule_escalation(locked)
    audit_record(
        actor=system,
        action="update",
        obj=locked,
        detail={"escalation_level": locked.escalation_level},
    )
    _refresh(event, locked)
    return True


# --- Background jobs ------------------------------------------------------------------------
# The escalation job lives beside the actions it schedules and runs, so that raising an event
# and escalating it need no import circle; `openiop.safety.tasks` re-exports the jobs for the
# worker. The job checks the clock and the event's state itself, so a job that runs early,
# late or twice does no harm.


def schedule(job: Any, event: SafetyEvent) -> None:
    """Enqueue `job(event.pk)` to run when the event's escalation falls due. Backends that
    cannot defer (the immediate backend in tests) run it now, when it finds nothing due.

    The database queue takes the job in the event's own transaction. A queue outside the
    database (RQ on Redis) gets it once the transaction has committed, so a worker never looks
    for an event that is not there yet; and if Redis cannot be reached, the event stands (its
    alerts went out with it) and the failure is logged: the sweep `safety_escalate_overdue`,
    which `openiop worker` runs when it starts, escalates it later."""
    backend = job.get_backend()
    if backend.supports_defer:
        job = job.using(run_after=escalation_due_at(event))
    if not type(backend).__module__.startswith("django_tasks_rq"):
        job.enqueue(event.pk)
        return
    event_pk, external_id = event.pk, event.external_id

    def enqueue_after_commit() -> None:
        try:
            job.enqueue(event_pk)
        except Exception:
            logger.exception("could not queue the escalation of safety event %s", external_id)

    transaction.on_commit(enqueue_after_commit)


@task()
def safety_escalate_if_due(event_id: int) -> bool:
    """Escalate the event if it is still unacknowledged and its time has come."""
    event = SafetyEvent.objects.filter(pk=event_id).first()
    if event is None or event.status != EventStatus.OPEN:
        return False
    if clock.now() < escalation_due_at(event):
        return False
    escalated = safety_event_escalate(event)
    if escalated:
        logger.warning(
            "safety event %s escalated to level %s", event.external_id, event.escalation_level
        )
    return escalated


@task()
def safety_escalate_overdue() -> int:
    """Sweep for any open event whose escalation is overdue (a job lost with a worker)."""
    count = 0
    for event_id in SafetyEvent.objects.filter(status=EventStatus.OPEN).values_list(
        "pk", flat=True
    ):
        count += int(safety_escalate_if_due.call(event_id))
    return count
