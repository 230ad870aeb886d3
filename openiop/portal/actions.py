"""Writes from the participant portal (and the clinician's side of the safety plan).

Each action validates every field (errors name the field, IN-05), writes its rows and the
audit event in one transaction (REL-02) and never puts the participant's own words in the
audit detail (AU-04). Web views and the API call these same functions, wrapped in
`idempotency.run_once` for participant submissions (REL-01).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.curriculum.library import library
from openiop.curriculum.schema import HomeworkField
from openiop.groupwork.ledger import iso_week_start
from openiop.groupwork.models import Attendance, AttendanceStatus, Session
from openiop.measures.actions import assessment_draft_save, assessment_record, instrument_for_use
from openiop.measures.models import Assessment, AssessmentStatus
from openiop.measures.models import Source as MeasureSource
from openiop.measures.wording import require_self_administration
from openiop.participants.models import Enrollment, Participant
from openiop.portal.alumni import current_membership
from openiop.portal.models import (
    CRAVING_MAX,
    DIARY_EMOTIONS,
    EMOTION_MAX,
    MOOD_MAX,
    SAFETY_PLAN_FIELDS,
    SUICIDAL_IDEATION_MAX,
    UPDATE_STATUSES,
    URGE_MAX,
    CheckIn,
    CheckInKind,
    DiaryCard,
    GoalUpdate,
    HomeworkSubmission,
    Medication,
    SafetyPlan,
    SafetyPlanRevision,
    WeeklyGoal,
)
from openiop.safety.actions import safety_event_help_press, safety_event_raise
from openiop.safety.models import EventStatus, SafetyEvent, Severity, Source, StepKind

MAX_SHORT_TEXT = 300
MAX_TEXT = 2000
DIARY_BACKFILL_DAYS = 7


# --- shared validation -------------------------------------------------------------------


def program_today(participant: Participant) -> date:
    zone = clock.zone(participant.program)
    return timezone.now().astimezone(zone).date()


def _require_open_episode(participant: Participant) -> None:
    """Participants record between sessions only while they are in the program."""
    if not Enrollment.objects.filter(participant=participant, discharged_on__isnull=True).exists():
        raise ActionError(
            {
                "participant": "Your episode of care has ended, so this cannot be saved. "
                "Please contact the program."
            }
        )


def _require_open_episode_or_alumni(participant: Participant) -> None:
    """Check-ins go on after discharge for alumni (issue 15 §4); alerts from them reach
    on-call staff, since there is no clinician of record."""
    if current_membership(participant, program_today(participant)) is None:
        _require_open_episode(participant)


def _number(errors: dict[str, str], name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = gettext("Choose a whole number from %(low)s to %(high)s.") % {
            "low": low,
            "high": high,
        }
        return low
    return value


def _text(errors: dict[str, str], name: str, value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = gettext("Enter text.")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[name] = gettext("Keep this under %(limit)s characters (now %(now)s).") % {
            "limit": limit,
            "now": len(value),
        }
    return value


def _flag(errors: dict[str, str], name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        errors[name] = gettext("Answer yes or no.")
        return False
    return value


def all_skills() -> list[str]:
    """Every practisable skill in the curriculum (thinking errors are not skills): what a
    'skills used' answer may name."""
    curriculum = library()
    return sorted(
        {skill for plan in curriculum.plans for skill in curriculum.practice_skills(plan.code)},
        key=str.lower,
    )


def skills_taught(participant: Participant, *, keep: Any = ()) -> list[str]:
    """The 'skills you used' list: the practisable skills of the curriculum sessions this
    participant has attended so far (most recent first), plus any in `keep` (answers already
    given), so the list is short and holds only what they were taught."""
    curriculum = library()
    codes = (
        Attendance.objects.filter(
            participant=participant,
            removed=False,
            status=AttendanceStatus.PRESENT,
            session__starts_at__lte=clock.now(),
        )
        .exclude(session__plan_code="")
        .order_by("-session__starts_at")
        .values_list("session__plan_code", flat=True)
    )
    taught: list[str] = []
    for code in codes:
        try:
            skills = curriculum.practice_skills(code)
        except KeyError:
            continue
        taught.extend(s for s in skills if s not in taught)
    known = set(all_skills())
    taught.extend(s for s in keep if isinstance(s, str) and s in known and s not in taught)
    return taught


def _skills(errors: dict[str, str], name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        errors[name] = gettext("Pick skills from the list.")
        return []
    known = set(all_skills())
    unknown = [s for s in value if s not in known]
    if unknown:
        errors[name] = f"Not a skill from the curriculum: {unknown[0]}."
    return sorted(set(value), key=str.lower)


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ActionError(errors)


# --- check-in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInInput:
    kind: str
    mood: Any
    craving: Any
    used_since_last: Any
    sleep_hours: Any
    medication: Any
    safety_concern: Any
    use_what: Any = ""
    use_when: Any = None
    skills_used: Any = field(default_factory=list)
    bring_to_group: Any = ""


def _sleep(errors: dict[str, str], value: Any) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors["sleep_hours"] = gettext("Enter the hours you slept, e.g. 7 or 6.5.")
        return Decimal(0)
    if not Decimal(0) <= hours <= Decimal(24):
        errors["sleep_hours"] = gettext("Enter hours from 0 to 24.")
    return hours


def _use(
    errors: dict[str, str], data: CheckInInput, used: bool, participant: Participant
) -> tuple[str, datetime | None]:
    what = _text(errors, "use_what", data.use_what, 200)
    when = data.use_when
    if not used:
        return "", None
    if not what:
        errors["use_what"] = gettext("Say what you used, so your clinician can help.")
    if not isinstance(when, datetime):
        errors["use_when"] = gettext("Say when you used (date and time, roughly is fine).")
        return what, None
    if timezone.is_naive(when):
        # A form's "when" is the participant's wall clock, which is the program's zone.
        when = clock.aware_in_program(when, participant.program)
    if when > timezone.now() + timedelta(minutes=5):
        errors["use_when"] = gettext("This time is in the future.")
    return what, when


def next_session_today(participant: Participant) -> Session | None:
    """The participant's next (or current) session today, for a pre-session check-in."""
    now = timezone.now()
    zone = clock.zone(participant.program)
    local = now.astimezone(zone)
    day_end = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return (
        Session.objects.filter(
            program=participant.program,
            attendance__participant=participant,
            attendance__removed=False,
            ends_at__gte=now,
            starts_at__lt=day_end,
        )
        .exclude(status="cancelled")
        .order_by("starts_at")
        .first()
    )


CHECKIN_SAFETY_DETAIL = "Answered yes to the check-in safety question."


def checkin_safety_raise(*, actor: User, participant: Participant) -> SafetyEvent:
    """The check-in's safety "yes" on its own, before anything else in the check-in is
    validated: the event is raised and committed even when the rest of the form is
    refused, and even after discharge (a "yes" is never lost to another field).
    Callers run it outside any other transaction and pass the event to `checkin_submit`."""
    return safety_event_raise(
        actor=actor,
        participant=participant,
        source=Source.CHECKIN,
        severity=Severity.URGENT,
        detail=CHECKIN_SAFETY_DETAIL,
    )


def _own_event(participant: Participant, event_id: Any) -> SafetyEvent | None:
    if not event_id:
        return None
    return SafetyEvent.objects.filter(
        program_id=participant.program_id, participant=participant, external_id=event_id
    ).first()


@transaction.atomic
def checkin_submit(
    *,
    actor: User,
    participant: Participant,
    data: CheckInInput,
    safety_event_id: Any = None,
) -> CheckIn:
    """Store a check-in. A "yes" to the safety question is linked to the event that
    `checkin_safety_raise` already opened (`safety_event_id`), or opens one here in the same
    transaction; the event alerts the clinician of record and on-call staff and flags the
    participant on the session runner (clinical.md section 6)."""
    _require_open_episode_or_alumni(participant)
    errors: dict[str, str] = {}
    if data.kind not in CheckInKind.values:
        errors["kind"] = gettext("Choose a check-in before a session or a daily check-in.")
    mood = _number(errors, "mood", data.mood, 0, MOOD_MAX)
    craving = _number(errors, "craving", data.craving, 0, CRAVING_MAX)
    used = _flag(errors, "used_since_last", data.used_since_last)
    what, when = _use(errors, data, used, participant)
    sleep = _sleep(errors, data.sleep_hours)
    if data.medication not in Medication.values:
        errors["medication"] = gettext("Say whether you took your medication.")
    safety = _flag(errors, "safety_concern", data.safety_concern)
    skills = _skills(errors, "skills_used", data.skills_used)
    bring = _text(errors, "bring_to_group", data.bring_to_group, MAX_TEXT)
    _raise_if(errors)
    checkin = CheckIn.objects.create(
        program=participant.program,
        participant=participant,
        kind=data.kind,
        session=next_session_today(participant) if data.kind == CheckInKind.SESSION else None,
        mood=mood,
        craving=craving,
        used_since_last=used,
        use_what=what,
        use_when=when,
        sleep_hours=sleep,
        skills_used=skills,
        medication=data.medication,
        safety_concern=safety,
        bring_to_group=bring,
        created_by=actor,
    )
    if safety:
        event = _own_event(participant, safety_event_id) or checkin_safety_raise(
            actor=actor, participant=participant
        )
        checkin.safety_event_id = event.external_id
        checkin.save(update_fields=["safety_event_id"])
    audit_record(
        actor=actor, action="create", obj=checkin, detail={"kind": data.kind, "safety": safety}
    )
    return checkin


# --- help button -------------------------------------------------------------------------


@transaction.atomic
def help_request(*, actor: User, participant: Participant) -> SafetyEvent:
    """'I need help now': a high-severity safety event, alerting the clinician of record and
    on-call staff at once (out of band too) and escalating after the program's short
    period. Allowed even after discharge: nobody is turned away. Presses within a few
    minutes of the last one join its event (safety_event_help_press)."""
    return safety_event_help_press(
        actor=actor,
        participant=participant,
        detail="Pressed \u201cI need help now\u201d in the portal.",
    )


# --- weekly goals ------------------------------------------------------------------------


def active_objectives(participant: Participant) -> list[Any]:
    from openiop.treatment.models import Objective

    return list(
        Objective.objects.filter(
            goal__problem__plan__participant=participant,
            goal__problem__plan__status="active",
        )
        .exclude(status__in=["achieved", "discontinued"])
        .select_related("goal")
        .order_by("goal__id", "id")
    )


def _objective(errors: dict[str, str], participant: Participant, objective_id: Any) -> Any:
    objectives = active_objectives(participant)
    if not objective_id:
        if objectives:
            errors["objective"] = gettext(
                "Choose the treatment-plan objective this goal works towards."
            )
        return None
    match = [o for o in objectives if str(o.external_id) == str(objective_id)]
    if not match:
        errors["objective"] = gettext(
            "Choose one of the objectives in your current treatment plan."
        )
        return None
    return match[0]


@transaction.atomic
def weekly_goal_create(
    *,
    actor: User,
    participant: Participant,
    text: Any,
    objective_id: Any = None,
    share_in_group: Any = True,
) -> WeeklyGoal:
    _require_open_episode(participant)
    errors: dict[str, str] = {}
    clean = _text(errors, "text", text, MAX_SHORT_TEXT)
    if not clean and "text" not in errors:
        errors["text"] = gettext("Write the goal in a few words, e.g. 'walk 20 minutes on 3 days'.")
    objective = _objective(errors, participant, objective_id)
    share = _flag(errors, "share_in_group", share_in_group)
    _raise_if(errors)
    goal = WeeklyGoal.objects.create(
        program=participant.program,
        participant=participant,
        objective=objective,
        week_start=iso_week_start(program_today(participant)),
        text=clean,
        share_in_group=share,
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=goal)
    return goal


@transaction.atomic
def goal_update_add(
    *, actor: User, goal: WeeklyGoal, status: Any, note: Any = "", share_in_group: Any = True
) -> GoalUpdate:
    """Done, partly done or a setback, with a note; the goal shows its latest status and
    the facilitator's accountability round shows updates the participant chose to share."""
    _require_open_episode(goal.participant)
    errors: dict[str, str] = {}
    if status not in [s.value for s in UPDATE_STATUSES]:
        errors["status"] = gettext("Choose done, partly done or setback.")
    clean = _text(errors, "note", note, MAX_TEXT)
    share = _flag(errors, "share_in_group", share_in_group)
    _raise_if(errors)
    locked = WeeklyGoal.objects.select_for_update().get(pk=goal.pk)
    update = GoalUpdate.objects.create(
        goal=locked, status=status, note=clean, share_in_group=share, created_by=actor
    )
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    goal.status = status
    audit_record(
        actor=actor, action="create", obj=update, program=locked.program, detail={"status": status}
    )
    return update


# --- diary card --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryInput:
    day: Any
    emotions: Any
    urge_use: Any
    urge_self_harm: Any
    suicidal_ideation: Any = None
    used_substance: Any = False
    self_harm_action: Any = False
    actions_taken: Any = ""
    skills_used: Any = field(default_factory=list)
    note: Any = ""


def _emotions(errors: dict[str, str], value: Any) -> dict[str, int]:
    names = [name for name, _ in DIARY_EMOTIONS]
    if not isinstance(value, dict):
        errors["emotions"] = gettext("Rate each emotion from 0 to 5.")
        return {}
    extra = set(value) - set(names)
    if extra:
        errors["emotions"] = f"Unknown emotion: {sorted(extra)[0]}."
    return {
        name: _number(errors, f"emotions.{name}", value.get(name), 0, EMOTION_MAX) for name in names
    }


def _diary_day(errors: dict[str, str], participant: Participant, value: Any) -> date:
    today = program_today(participant)
    if not isinstance(value, date):
        errors["day"] = gettext("Choose the day this card is for.")
        return today
    if value > today:
        errors["day"] = gettext("A diary card cannot be filled in for a future day.")
    elif value < today - timedelta(days=DIARY_BACKFILL_DAYS):
        errors["day"] = gettext("Cards can be filled in for the last %(days)s days only.") % {
            "days": DIARY_BACKFILL_DAYS
        }
    return value


# A diary card opens a safety event when the participant harmed themself, or rates thoughts
# of suicide at DIARY_SUICIDAL_IDEATION_EVENT_AT or more on the 0-5 scale. Why 3: on DBT-style
# cards low ratings (1-2) are common, often daily, and are gone through at the weekly card
# review, where an alert each day would teach staff to ignore alerts; 3 and above ("moderate"
# or stronger) should not wait for that review. Like PHQ-9 item 9, the event triggers
# assessment (a same-day C-SSRS), not a risk label, so its severity is urgent.
DIARY_SUICIDAL_IDEATION_EVENT_AT = 3


def diary_safety_reasons(data: DiaryInput) -> list[str]:
    """What on this card needs the care team today (empty when nothing does). Only well-formed
    answers count: the rest of the card is validated later, and a malformed value is refused
    there."""
    reasons = []
    if data.self_harm_action is True:
        reasons.append("harmed themself")
    rating = data.suicidal_ideation
    well_formed = isinstance(rating, int) and not isinstance(rating, bool)
    if well_formed and DIARY_SUICIDAL_IDEATION_EVENT_AT <= rating <= SUICIDAL_IDEATION_MAX:
        reasons.append(f"thoughts of suicide {rating}/{SUICIDAL_IDEATION_MAX}")
    return reasons


def diary_safety_raise(
    *, actor: User, participant: Participant, data: DiaryInput
) -> SafetyEvent | None:
    """The card's critical answers first, on their own (like the check-in's safety "yes"):
    the event is raised and committed even if the rest of the card is refused. None when the
    card needs no event, or when this day's card already opened one."""
    reasons = diary_safety_reasons(data)
    if not reasons:
        return None
    if isinstance(data.day, date):
        earlier = DiaryCard.objects.filter(
            participant=participant, day=data.day, safety_event_id__isnull=False
        ).first()
        if earlier is not None:
            return _own_event(participant, earlier.safety_event_id)
    day = data.day.isoformat() if isinstance(data.day, date) else "a day"
    return safety_event_raise(
        actor=actor,
        participant=participant,
        source=Source.DIARY,
        severity=Severity.URGENT,
        detail=f"Diary card for {day}: {'; '.join(reasons)}.",
    )


@transaction.atomic
def diary_save(
    *,
    actor: User,
    participant: Participant,
    data: DiaryInput,
    version: int | None = None,
    safety_event_id: Any = None,
) -> DiaryCard:
    """Create the day's card or correct it. A correction must name the version it was based
    on, so two devices never silently overwrite each other (IN-03). Self-harm or a high
    suicidal-ideation rating is linked to the event `diary_safety_raise` opened first
    (`safety_event_id`), or opens one here in the same transaction."""
    _require_open_episode(participant)
    errors: dict[str, str] = {}
    day = _diary_day(errors, participant, data.day)
    values = {
        "emotions": _emotions(errors, data.emotions),
        "urge_use": _number(errors, "urge_use", data.urge_use, 0, URGE_MAX),
        "urge_self_harm": _number(errors, "urge_self_harm", data.urge_self_harm, 0, URGE_MAX),
        "suicidal_ideation": _number(
            errors, "suicidal_ideation", data.suicidal_ideation, 0, SUICIDAL_IDEATION_MAX
        ),
        "used_substance": _flag(errors, "used_substance", data.used_substance),
        "self_harm_action": _flag(errors, "self_harm_action", data.self_harm_action),
        "actions_taken": _text(errors, "actions_taken", data.actions_taken, MAX_TEXT),
        "skills_used": _skills(errors, "skills_used", data.skills_used),
        "note": _text(errors, "note", data.note, MAX_TEXT),
    }
    _raise_if(errors)
    card = DiaryCard.objects.select_for_update().filter(participant=participant, day=day).first()
    event = _own_event(participant, safety_event_id)
    if event is None and diary_safety_reasons(data):
        event = diary_safety_raise(actor=actor, participant=participant, data=data)
    if event is not None:
        values["safety_event_id"] = event.external_id
    if card is None:
        card = DiaryCard.objects.create(
            program=participant.program,
            participant=participant,
            day=day,
            entered_late=day < program_today(participant),
            created_by=actor,
            **values,
        )
        audit_record(
            actor=actor,
            action="create",
            obj=card,
            detail={"day": day.isoformat(), "safety": event is not None},
        )
        return card
    if version is not None and version != card.version:
        raise ConflictError(
            {
                "version": f"This day's card was changed elsewhere (now version {card.version}). "
                "Reload it, then make your change again."
            }
        )
    for name, value in values.items():
        setattr(card, name, value)
    card.version += 1
    card.save()
    audit_record(
        actor=actor,
        action="update",
        obj=card,
        detail={"day": day.isoformat(), "safety": event is not None},
    )
    return card


# --- homework ----------------------------------------------------------------------------


def _answer(errors: dict[str, str], spec: HomeworkField, value: Any) -> Any:
    name = f"answers.{spec.name}"
    if value in (None, ""):
        return None
    if spec.type == "text":
        return _text(errors, name, value, MAX_TEXT) or None
    if spec.type in ("number_0_10", "number_0_100"):
        return _number(errors, name, value, 0, 10 if spec.type == "number_0_10" else 100)
    if spec.type == "choice":
        if value not in spec.choices:
            errors[name] = f"Choose one of: {', '.join(spec.choices)}."
        return value
    if spec.type == "datetime":
        if isinstance(value, datetime):
            return value.isoformat()
        try:
            return datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            errors[name] = gettext("Enter a date and time.")
            return None
    errors[name] = "Unsupported field."  # pragma: no cover - the schema allows no other type
    return None


def homework_answers(fields: tuple[HomeworkField, ...], raw: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise ActionError({"answers": "Send the worksheet answers as named fields."})
    known = {spec.name for spec in fields}
    extra = sorted(set(raw) - known)
    if extra:
        errors[f"answers.{extra[0]}"] = "This field is not part of the worksheet."
    answers = {spec.name: _answer(errors, spec, raw.get(spec.name)) for spec in fields}
    if not errors and all(value is None for value in answers.values()):
        errors["answers"] = gettext("Fill in at least one part of the worksheet before sending it.")
    _raise_if(errors)
    return {name: value for name, value in answers.items() if value is not None}


@transaction.atomic
def homework_submit(
    *, actor: User, participant: Participant, plan_code: Any, answers: Any, session: Any = None
) -> HomeworkSubmission:
    _require_open_episode(participant)
    try:
        plan = library().plan(str(plan_code))
    except KeyError:
        raise ActionError(
            {"plan": "Unknown worksheet. Open it again from your homework list."}
        ) from None
    if plan.homework.kind == "none":
        raise ActionError({"plan": "This session has no worksheet."})
    clean = homework_answers(plan.homework.fields, answers)
    submission = HomeworkSubmission.objects.create(
        program=participant.program,
        participant=participant,
        session=session,
        plan_code=plan.code,
        kind=plan.homework.kind,
        answers=clean,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=submission,
        detail={"plan": plan.code, "kind": plan.homework.kind},
    )
    return submission


# --- safety plan -------------------------------------------------------------------------


def _plan_content(plan: SafetyPlan) -> dict[str, str]:
    return {name: getattr(plan, name) for name in SAFETY_PLAN_FIELDS}


@transaction.atomic
def safety_plan_save(
    *, actor: User, participant: Participant, version: Any, steps: dict[str, Any]
) -> SafetyPlan:
    """Participant and clinician write the plan together. The first save creates it
    (version 0 means 'no plan yet'); later saves must name the version they edited."""
    errors: dict[str, str] = {}
    unknown = sorted(set(steps) - set(SAFETY_PLAN_FIELDS))
    if unknown:
        errors[unknown[0]] = "This is not a step of the safety plan."
    clean = {
        name: _text(errors, name, steps.get(name, ""), MAX_TEXT) for name in SAFETY_PLAN_FIELDS
    }
    if not isinstance(version, int) or isinstance(version, bool):
        errors["version"] = gettext("Reload the safety plan and make your change again.")
    _raise_if(errors)
    plan = SafetyPlan.objects.select_for_update().filter(participant=participant).first()
    current = plan.version if plan else 0
    if version != current:
        raise ConflictError(
            {
                "version": "Someone else changed this safety plan while you were editing it. "
                "Reload it to see their changes, then add yours."
            }
        )
    if plan is None:
        plan = SafetyPlan(program=participant.program, participant=participant, created_by=actor)
        action = "create"
    else:
        SafetyPlanRevision.objects.create(
            plan=plan,
            version=plan.version,
            content=_plan_content(plan),
            edited_by=plan.last_edited_by,
        )
        plan.version += 1
        action = "update"
    for name, value in clean.items():
        setattr(plan, name, value)
    plan.last_edited_by = actor
    plan.save()
    audit_record(actor=actor, action=action, obj=plan, detail={"version": plan.version})
    return plan


@transaction.atomic
def safety_plan_mark_reviewed(*, actor: User, participant: Participant) -> SafetyPlan:
    """A clinician reviewed the plan with the participant. The review is also recorded as
    the 'safety plan reviewed' step of every safety event still open for them."""
    from openiop.safety.actions import safety_event_record_step

    plan = SafetyPlan.objects.select_for_update().filter(participant=participant).first()
    if plan is None:
        raise ActionError(
            {"plan": "There is no safety plan yet: write it with the participant first."}
        )
    plan.reviewed_by = actor
    plan.reviewed_at = timezone.now()
    plan.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
    audit_record(actor=actor, action="update", obj=plan, detail={"reviewed": True})
    for event in SafetyEvent.objects.filter(
        participant=participant, status__in=[EventStatus.OPEN, EventStatus.ACKNOWLEDGED]
    ).exclude(steps__kind=StepKind.SAFETY_PLAN_REVIEWED):
        safety_event_record_step(
            actor=actor,
            event=event,
            kind=StepKind.SAFETY_PLAN_REVIEWED,
            text="Reviewed in the portal record.",
        )
    return plan


# --- outcome measures --------------------------------------------------------------------


# Skip logic decides what is asked, never what is kept (clinical.md section 3): the portal
# stores whatever was answered, including answers to questions the form would have skipped
# and a partly answered form (its total stays null), and never asks anyone to change or
# remove an answer. Only a form with no answer at all is refused (by `assessment_record`).

# Names the assessment id a submission gets from its idempotency key, so that a resend (or a
# corrected form sent with the same key) finds the safety event its critical answer raised.
MEASURE_ID_NAMESPACE = uuid.UUID("6f1d7c3e-2b0a-4c55-9a53-0d6f3c1e9b27")


def measure_assessment_id(*, actor: User, instrument: str, key: object) -> uuid.UUID:
    """The id the stored assessment will carry; random when the key is unusable."""
    if not isinstance(key, str) or not key:
        return uuid.uuid4()
    return uuid.uuid5(MEASURE_ID_NAMESPACE, f"{actor.external_id}:{instrument}:{key}")


def measure_raise_critical(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: list[object],
    assessment_id: uuid.UUID,
) -> SafetyEvent | None:
    """Critical answers first: a PHQ-9 item 9, CORE-10 item 6 or C-SSRS yes opens its safety
    event in a transaction of its own *before* the rest of the form is validated, so it is
    committed (and the care team alerted) even if the rest is then refused. Call it outside
    any other transaction. The assessment stored afterwards under `assessment_id` is linked
    to this event rather than raising another."""
    from openiop.safety.assessments import raise_for_answers

    stored = Assessment.objects.filter(
        program=participant.program, participant=participant, external_id=assessment_id
    ).first()
    # A draft of this same form (saved when the participant left it) is no other answers.
    if stored is not None and stored.status != AssessmentStatus.DRAFT and not stored.critical:
        assessment_id = uuid.uuid4()  # a key reused for other answers: not that row's event
    return raise_for_answers(
        actor=actor,
        participant=participant,
        instrument=instrument,
        answers=answers,
        assessment_id=assessment_id,
    )


@transaction.atomic
def measure_complete(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: list[int | None],
    assessment_id: uuid.UUID | None = None,
) -> tuple[Assessment, SafetyEvent | None]:
    """Store a measure the participant completed themself, partial or not. A critical answer
    (PHQ-9 item 9, CORE-10 item 6, any C-SSRS yes) opens its safety event through
    `assessment_record` in this same transaction unless `measure_raise_critical` already did;
    the event is returned so the portal can say the care team was told."""
    # Only in valid wording: a loaded wording pack, or demo wording where allowed (issue 17).
    require_self_administration(
        instrument_for_use(instrument), participant.program, participant.language
    )
    assessment = assessment_record(
        actor=actor,
        participant=participant,
        instrument=instrument,
        answers=answers,
        source=MeasureSource.PORTAL,
        external_id=assessment_id,
    )
    event = SafetyEvent.objects.filter(
        program=participant.program,
        participant=participant,
        assessment_id=assessment.external_id,
    ).first()
    return assessment, event


@transaction.atomic
def measure_save_draft(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: list[int | None],
    assessment_id: uuid.UUID,
) -> Assessment:
    """Keep the answers so far of a portal measure the participant left without sending, as
    a draft under the id the form's submission will take (`measure_assessment_id`): sending
    the form later turns this draft into the scored administration (`assessment_record`),
    one row and at most one safety event per form (docs/measures.md)."""
    require_self_administration(
        instrument_for_use(instrument), participant.program, participant.language
    )
    return assessment_draft_save(
        actor=actor,
        participant=participant,
        instrument=instrument,
        answers=answers,
        source=MeasureSource.PORTAL,
        external_id=assessment_id,
    )
