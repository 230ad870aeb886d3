"""Every write to assessments and administration schedules. Views, the API, seed and tests
call these; each validates, writes inside one transaction and audits in it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.measures.instruments import (
    Instrument,
    InstrumentDisabledError,
    UnknownInstrumentError,
    get_instrument,
)
from openiop.measures.models import (
    AdministrationSchedule,
    Assessment,
    AssessmentStatus,
    Source,
)
from openiop.measures.schedule import cadence_problem
from openiop.measures.scoring import AnswerError, ScoreResult, ScoringError, SexRequiredError, score
from openiop.medical import risk as medical_risk
from openiop.participants.models import Enrollment, Participant, SexForScoring
from openiop.programs.models import Program
from openiop.safety import assessments as safety

# A form keyed in a few minutes after it was completed is fine; one dated tomorrow is a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)
MIN_REASON = 5


def instrument_for_use(code: str, field: str = "instrument") -> Instrument:
    """The enabled instrument, or ActionError naming `field` (unknown, or off by licence)."""
    try:
        return get_instrument(code)
    except UnknownInstrumentError as exc:
        raise ActionError({field: str(exc)}) from None
    except InstrumentDisabledError as exc:
        raise ActionError({field: str(exc)}, code="licence") from None


def _answer_field(instrument: Instrument, error: AnswerError) -> str:
    """`answers[i]` (0-based position) for the item an AnswerError names."""
    for index, item in enumerate(instrument.items):
        if item.ref == error.item:
            return f"answers[{index}]"
    if isinstance(error.item, int):  # one answer too many: the position after the last item
        return f"answers[{error.item - 1}]"
    return "answers"


def _score(instrument: Instrument, answers: Sequence[int | None], sex: str | None) -> ScoreResult:
    try:
        return score(instrument.code, list(answers), sex)
    except AnswerError as exc:
        raise ActionError({_answer_field(instrument, exc): str(exc)}) from None
    except SexRequiredError as exc:
        raise ActionError({"sex": str(exc)}) from None
    except ScoringError as exc:
        raise ActionError({"answers": str(exc)}) from None


def _open_enrollment(participant: Participant) -> Enrollment:
    enrollment = (
        Enrollment.objects.filter(
            program=participant.program, participant=participant, discharged_on__isnull=True
        )
        .select_for_update()
        .first()
    )
    if enrollment is None:
        raise ActionError({"participant": "This participant has no open episode of care."})
    return enrollment


def _check_when(program: Program, enrollment: Enrollment, administered_at: datetime) -> None:
    if timezone.is_naive(administered_at):
        raise ActionError({"administered_at": "Give the time with its time zone."})
    if administered_at > timezone.now() + FUTURE_TOLERANCE:
        raise ActionError({"administered_at": "The administration cannot be in the future."})
    local = administered_at.astimezone(clock.zone(program)).date()
    if local < enrollment.admitted_on:
        raise ActionError(
            {"administered_at": f"Must be on or after admission ({enrollment.admitted_on})."}
        )


def _scoring_sex(participant: Participant, sex: str | None) -> str | None:
    if sex:
        return sex
    recorded = participant.sex_for_scoring
    return None if recorded == SexForScoring.UNKNOWN else recorded


def _decimal(value: float | int | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@transaction.atomic
def assessment_record(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: Sequence[int | None],
    administered_at: datetime | None = None,
    source: str = Source.CLINICIAN,
    sex: str | None = None,
    external_id: UUID | None = None,
) -> Assessment:
    """Score and store one administration. The returned row carries `.result` (the full
    ScoreResult) and `.critical`. In the same transaction, critical items first: a critical
    answer opens its safety event, a clinician's C-SSRS answers the events awaiting one, then
    the medical-risk rules run; if any of these fails, nothing is stored (docs/measures.md).

    A partial administration is stored (a missing item leaves the total null, clinical.md
    section 3); one with no answer at all is refused. Answers to items that skip logic would
    have skipped are kept and the row lists them in `inconsistent`. `external_id` lets a
    caller that already raised the safety event for a critical answer (the portal, before it
    validates the rest) give the row the id that event names."""
    inst = instrument_for_use(instrument)
    if source not in Source.values:
        raise ActionError({"source": f"Choose one of: {', '.join(Source.values)}."})
    enrollment = _open_enrollment(participant)
    when = administered_at or timezone.now()
    _check_when(participant.program, enrollment, when)
    scoring_sex = _scoring_sex(participant, sex)
    result = _score(inst, answers, scoring_sex)
    if all(answer is None for answer in answers):
        raise ActionError(
            {
                "answers": "Give at least one answer: an administration with no answers is not "
                "recorded."
            }
        )
    assessment = Assessment.objects.create(
        **({"external_id": external_id} if external_id else {}),
        program=participant.program,
        participant=participant,
        enrollment=enrollment,
        instrument=inst.code,
        instrument_version=inst.version,
        answers=list(answers),
        sex_for_scoring=scoring_sex or "",
        administered_at=when,
        source=source,
        entered_by=actor,
        created_by=actor,
        status=AssessmentStatus.SCORED,
        total=_decimal(result.total),
        band=result.band or "",
        positive_screen=result.positive_screen,
        subscales=dict(result.subscales),
        critical=list(result.critical),
        critical_not_assessed=list(result.critical_not_assessed),
        missing=list(result.missing),
        risk=result.risk or "",
        prorated=result.prorated,
        inconsistent=list(result.inconsistent),
    )
    assessment.result = result
    audit_record(
        actor=actor,
        action="create",
        obj=assessment,
        detail={
            "instrument": inst.code,
            "source": source,
            "critical": bool(result.critical),
            "inconsistent": bool(result.inconsistent),
        },
    )
    _react(assessment)
    return assessment


def _react(assessment: Assessment) -> None:
    """What a recorded administration sets off, critical items first. Called directly, not
    through a registry, so no caller and no test can record an assessment without them."""
    safety.raise_for_assessment(assessment)
    safety.link_cssrs(assessment)
    medical_risk.evaluate(assessment)


@transaction.atomic
def assessment_mark_entered_in_error(
    *, actor: User, assessment: Assessment, reason: str
) -> Assessment:
    """The one change a scored assessment takes; it stays visible, struck through."""
    cleaned = reason.strip()
    if len(cleaned) < MIN_REASON:
        raise ActionError({"reason": "Say why this administration was entered in error."})
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.entered_in_error:
        raise ConflictError({"assessment": "This assessment is already marked entered in error."})
    locked.entered_in_error = True
    locked.entered_in_error_reason = cleaned
    locked.entered_in_error_at = timezone.now()
    locked.entered_in_error_by = actor
    locked.save(
        update_fields=[
            "entered_in_error",
            "entered_in_error_reason",
            "entered_in_error_at",
            "entered_in_error_by",
            "updated_at",
        ]
    )
    audit_record(actor=actor, action="update", obj=locked, detail={"change": "entered_in_error"})
    for name in ("entered_in_error", "entered_in_error_reason", "entered_in_error_at"):
        setattr(assessment, name, getattr(locked, name))
    assessment.entered_in_error_by = actor
    return locked


@transaction.atomic
def schedule_set(
    *, actor: User, program: Program, instrument: str, cadences: Sequence[str]
) -> list[AdministrationSchedule]:
    """Replace the program's schedule for one instrument with `cadences` (empty: stop it)."""
    wanted = list(dict.fromkeys(cadences))
    inst = instrument_for_use(instrument) if wanted else None
    errors = {
        f"cadences[{i}]": problem
        for i, cadence in enumerate(wanted)
        if inst is not None and (problem := cadence_problem(inst, cadence))
    }
    if errors:
        raise ActionError(errors)
    current = AdministrationSchedule.objects.select_for_update().filter(
        program=program, instrument=instrument
    )
    current.exclude(cadence__in=wanted).delete()
    have = set(current.values_list("cadence", flat=True))
    AdministrationSchedule.objects.bulk_create(
        AdministrationSchedule(program=program, instrument=instrument, cadence=c, created_by=actor)
        for c in wanted
        if c not in have
    )
    audit_record(
        actor=actor,
        action="update",
        program=program,
        detail={"schedule": instrument, "cadences": wanted},
    )
    return list(
        AdministrationSchedule.objects.filter(program=program, instrument=instrument).order_by(
            "cadence"
        )
    )
