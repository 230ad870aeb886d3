"""Reads of assessments and schedules, always scoped through the program or participant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db.models import Max
from django.http import Http404

from openiop.core import clock
from openiop.measures.change import ChangeResult, instrument_change
from openiop.measures.instruments import (
    Instrument,
    InstrumentDisabledError,
    UnknownInstrumentError,
    get_instrument,
)
from openiop.measures.models import (
    CADENCE_DAYS,
    AdministrationSchedule,
    Assessment,
    Cadence,
)
from openiop.participants.models import Enrollment, Participant, SexForScoring
from openiop.programs.models import Program

INTAKE_WITHIN_DAYS = 7
# Repeating measures show as "due" this many days before their due date.
DUE_SOON_DAYS = 2
NOT_AVAILABLE = "not available"


def local_date(program: Program, moment: datetime) -> date:
    return moment.astimezone(clock.zone(program)).date()


# --------------------------------------------------------------------------- one participant


def assessment_list(*, participant: Participant) -> list[Assessment]:
    """Every administration of this participant (entered-in-error too), oldest first."""
    return list(
        Assessment.objects.filter(program=participant.program, participant=participant)
        .select_related("entered_by", "entered_in_error_by")
        .order_by("administered_at", "id")
    )


def assessment_get(*, participant: Participant, assessment_id: UUID | str) -> Assessment:
    try:
        return Assessment.objects.select_related(
            "entered_by", "entered_in_error_by", "participant", "program"
        ).get(program=participant.program, participant=participant, external_id=assessment_id)
    except (Assessment.DoesNotExist, ValueError):
        raise Http404("assessment not found") from None


@dataclass(frozen=True)
class ChangeSummary:
    instrument: str
    intake: Assessment | None
    latest: Assessment | None
    change: ChangeResult | None
    category: str  # recovered | improved | unchanged | deteriorated | not available


def change_between(
    instrument: Instrument, first: Assessment | None, last: Assessment | None
) -> ChangeResult | None:
    """Reliable change from `first` to `last` with the instrument's published threshold and
    cutoff (clinical.md section 4), or None where it has none or a total is missing."""
    if instrument.reliable_change is None or first is None or last is None:
        return None
    if first.total is None or last.total is None or first.pk == last.pk:
        return None
    return instrument_change(instrument.code, float(first.total), float(last.total))


def summarise(instrument: Instrument, assessments: list[Assessment]) -> ChangeSummary:
    """Intake (first valid scored administration) vs latest, from an oldest-first list."""
    scored = [a for a in assessments if a.is_valid and a.total is not None]
    first = scored[0] if scored else None
    last = scored[-1] if scored else None
    change = change_between(instrument, first, last)
    return ChangeSummary(
        instrument=instrument.code,
        intake=first,
        latest=last,
        change=change,
        category=change.category if change else NOT_AVAILABLE,
    )


def change_summary(*, participant: Participant, instrument: str) -> ChangeSummary:
    inst = get_instrument(instrument)
    rows = [a for a in assessment_list(participant=participant) if a.instrument == inst.code]
    return summarise(inst, rows)


# --------------------------------------------------------------------------- program lists


def schedule_list(*, program: Program) -> list[AdministrationSchedule]:
    return list(AdministrationSchedule.objects.filter(program=program).order_by("instrument"))


@dataclass(frozen=True)
class DueItem:
    participant: Participant
    enrollment: Enrollment
    instrument: str
    cadence: str
    due_on: date
    last_on: date | None
    overdue: bool


def _window(cadence: str, enrollment: Enrollment, last: date | None) -> tuple[date, date] | None:
    """(listed from, due on) for the next administration, or None when nothing is owed.

    The first administration of an episode is listed from admission and due within
    INTAKE_WITHIN_DAYS; a repeat is due one interval after the last and listed from
    DUE_SOON_DAYS before that.
    """
    first = (enrollment.admitted_on, enrollment.admitted_on + timedelta(days=INTAKE_WITHIN_DAYS))
    if cadence == Cadence.INTAKE:
        return None if last else first
    interval = CADENCE_DAYS.get(cadence)
    if interval is None:  # discharge: asked for by the discharge workflow, not listed here
        return None
    if last is None:
        return first
    due_on = last + timedelta(days=interval)
    return due_on - timedelta(days=DUE_SOON_DAYS), due_on


def due_list(
    *, program: Program, today: date, participant: Participant | None = None
) -> list[DueItem]:
    """Due and overdue administrations: open episodes x the program's schedules (of one
    participant only, when given).

    Three queries however many participants or assessments: open episodes (with participant),
    schedules, and the latest valid administration per episode and instrument.
    """
    schedules = schedule_list(program=program)
    if not schedules:
        return []
    mine = {} if participant is None else {"participant": participant}
    enrollments = list(
        Enrollment.objects.filter(program=program, discharged_on__isnull=True, **mine)
        .select_related("participant")
        .order_by("participant__legal_last_name", "participant__legal_first_name", "id")
    )
    latest = {
        (row["enrollment_id"], row["instrument"]): row["last"]
        for row in Assessment.objects.valid()
        .filter(program=program, enrollment__discharged_on__isnull=True, **mine)
        .values("enrollment_id", "instrument")
        .annotate(last=Max("administered_at"))
    }
    items = []
    for enrollment in enrollments:
        for schedule in schedules:
            last_at = latest.get((enrollment.pk, schedule.instrument))
            last = local_date(program, last_at) if last_at else None
            window = _window(schedule.cadence, enrollment, last)
            if window is None or window[0] > today:
                continue
            due_on = window[1]
            items.append(
                DueItem(
                    participant=enrollment.participant,
                    enrollment=enrollment,
                    instrument=schedule.instrument,
                    cadence=schedule.cadence,
                    due_on=due_on,
                    last_on=last,
                    overdue=today > due_on,
                )
            )
    return _dedupe(items)


def _dedupe(items: list[DueItem]) -> list[DueItem]:
    """One row per participant and instrument (intake and weekly can both be owed): the
    earliest due date wins, since one administration satisfies both."""
    best: dict[tuple[int, str], DueItem] = {}
    for item in items:
        key = (item.enrollment.pk, item.instrument)
        if key not in best or item.due_on < best[key].due_on:
            best[key] = item
    return sorted(best.values(), key=lambda i: (not i.overdue, i.due_on, i.instrument))


def due_for_self(*, participant: Participant, today: date) -> list[DueItem]:
    """What a participant may complete themself in the portal: their due and overdue
    administrations of instruments enabled in this deployment (licence flags), leaving out
    those whose scoring needs a sex for scoring that is not recorded (a clinician asks)."""
    items = due_list(program=participant.program, today=today, participant=participant)
    return [item for item in items if _self_completable(item.instrument, participant)]


def _self_completable(code: str, participant: Participant) -> bool:
    try:
        inst = get_instrument(code)
    except (UnknownInstrumentError, InstrumentDisabledError):
        return False
    return not inst.needs_sex or participant.sex_for_scoring in (
        SexForScoring.FEMALE,
        SexForScoring.MALE,
    )


def participants_in(items: list[DueItem]) -> list[Participant]:
    seen: dict[int, Participant] = {}
    for item in items:
        seen.setdefault(item.participant.pk, item.participant)
    return list(seen.values())


def by_instrument(assessments: list[Assessment]) -> dict[str, list[Assessment]]:
    grouped: dict[str, list[Assessment]] = defaultdict(list)
    for assessment in assessments:
        grouped[assessment.instrument].append(assessment)
    return dict(grouped)
