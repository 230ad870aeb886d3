"""Every write to assessments and administration schedules. Views, the API, seed and tests
call these; each validates, writes inside one transaction and audits in it."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from openiop.accounts.actions import system_user
from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.measures import history, outcomes
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
    GrowthFit,
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
NO_ANSWERS = (
    "Give at least one answer: a questionnaire with no answers is not recorded. Leave it for "
    "later, or record only the questions that were answered."
)
# A refit queued this long ago and not stored was lost (its worker died): queue another.
REFIT_REQUEUE_AFTER = timedelta(minutes=10)

logger = logging.getLogger(__name__)


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
    if all(answer is None for answer in answers):
        # Checked first, so an empty list gets this message too, not an item count.
        raise ActionError({"answers": NO_ANSWERS})
    scoring_sex = _scoring_sex(participant, sex)
    result = _score(inst, answers, scoring_sex)
    fields = _scored_fields(inst, answers, scoring_sex, result) | {
        "enrollment": enrollment,
        "administered_at": when,
        "source": source,
        "entered_by": actor,
        "status": AssessmentStatus.SCORED,
    }
    draft = _locked_draft(participant, external_id)
    if draft is not None:
        # The same administration, first saved as a draft (the participant left the portal
        # form): it becomes this scored row, under the same id and the same safety event.
        assessment = _write_fields(draft, fields)
        action = "update"
    else:
        assessment = Assessment.objects.create(
            **({"external_id": external_id} if external_id else {}),
            program=participant.program,
            participant=participant,
            created_by=actor,
            **fields,
        )
        action = "create"
    assessment.result = result
    audit_record(
        actor=actor,
        action=action,
        obj=assessment,
        detail={
            "instrument": inst.code,
            "source": source,
            "critical": bool(result.critical),
            "inconsistent": bool(result.inconsistent),
            **({"change": "draft submitted"} if draft is not None else {}),
        },
    )
    _react(assessment)
    return assessment


def _scored_fields(
    inst: Instrument, answers: Sequence[int | None], sex: str | None, result: ScoreResult
) -> dict[str, Any]:
    """The columns a score fills, the same for a draft and a scored row."""
    return {
        "instrument": inst.code,
        "instrument_version": inst.version,
        "answers": list(answers),
        "sex_for_scoring": sex or "",
        "total": _decimal(result.total),
        "band": result.band or "",
        "positive_screen": result.positive_screen,
        "subscales": dict(result.subscales),
        "critical": list(result.critical),
        "critical_not_assessed": list(result.critical_not_assessed),
        "missing": list(result.missing),
        "risk": result.risk or "",
        "prorated": result.prorated,
        "inconsistent": list(result.inconsistent),
    }


def _locked_draft(participant: Participant, external_id: UUID | None) -> Assessment | None:
    if external_id is None:
        return None
    return (
        Assessment.objects.select_for_update()
        .filter(
            program=participant.program,
            participant=participant,
            external_id=external_id,
            status=AssessmentStatus.DRAFT,
        )
        .first()
    )


def _write_fields(row: Assessment, fields: dict[str, Any]) -> Assessment:
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    row._stored_status = row.status
    return row


@transaction.atomic
def assessment_draft_save(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: Sequence[int | None],
    source: str,
    external_id: UUID,
) -> Assessment:
    """Keep the answers so far of an administration not yet submitted (a portal form the
    participant left) as a draft under `external_id`, scored by the same rules as a submitted
    one (a missing item leaves the total null; CORE-10 prorates one missing item). Saving
    again updates the same draft; once `assessment_record` has stored the administration
    under that id, a late draft save changes nothing and returns the scored row. A critical
    answer opens its safety event here too (one per id, so never a second)."""
    inst = instrument_for_use(instrument)
    if all(answer is None for answer in answers):
        raise ActionError({"answers": NO_ANSWERS})
    stored = (
        Assessment.objects.select_for_update()
        .filter(program=participant.program, participant=participant, external_id=external_id)
        .first()
    )
    if stored is not None and stored.status != AssessmentStatus.DRAFT:
        return stored  # already submitted: the submission stands
    enrollment = _open_enrollment(participant)
    scoring_sex = _scoring_sex(participant, None)
    result = _score(inst, answers, scoring_sex)
    fields = _scored_fields(inst, answers, scoring_sex, result) | {
        "enrollment": enrollment,
        "administered_at": timezone.now(),
        "source": source,
        "entered_by": actor,
        "status": AssessmentStatus.DRAFT,
    }
    if stored is not None:
        draft = _write_fields(stored, fields)
    else:
        draft = Assessment.objects.create(
            external_id=external_id,
            program=participant.program,
            participant=participant,
            created_by=actor,
            **fields,
        )
    draft.result = result
    audit_record(
        actor=actor,
        action="update" if stored is not None else "create",
        obj=draft,
        detail={"instrument": inst.code, "source": source, "draft": True},
    )
    safety.raise_for_assessment(draft)
    return draft


def _react(assessment: Assessment) -> None:
    """What a recorded administration sets off, critical items first. Called directly, not
    through a registry, so no caller and no test can record an assessment without them."""
    safety.raise_for_assessment(assessment)
    safety.link_cssrs(assessment)
    medical_risk.evaluate(assessment)
    _history_changed(assessment)


def _history_changed(assessment: Assessment) -> None:
    """After the commit, queue a refit of the program's growth model if the change made the
    stored fit stale (robust: a failure to queue is logged, the recorded data stands)."""
    if assessment.instrument in outcomes.TRACKED_INSTRUMENTS:
        program_id, instrument = assessment.program_id, assessment.instrument
        transaction.on_commit(
            lambda: growth_refit_if_stale(program_id=program_id, instrument=instrument),
            robust=True,
        )


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
    _history_changed(locked)
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


# --- The growth model: refitted in the background ----------------------------------------
# Pages never fit (openiop.measures.growth reads the stored fit). A change to a program's
# history, or a page that finds the stored fit stale, calls growth_refit_if_stale /
# growth_refit_request; the worker runs growth_refit, which stores the new fit.


def growth_refit_request(*, program_id: int, instrument: str) -> bool:
    """Queue one refit unless one is already queued (deduplicated on the GrowthFit row: the
    conditional update lets exactly one of several concurrent callers win). Returns whether
    this call queued it. Job bookkeeping, not a record: not audited (the stored fit is)."""
    now = clock.now()
    with transaction.atomic():
        GrowthFit.objects.get_or_create(program_id=program_id, instrument=instrument)
        won = (
            GrowthFit.objects.filter(program_id=program_id, instrument=instrument)
            .filter(
                Q(refit_queued_at__isnull=True) | Q(refit_queued_at__lt=now - REFIT_REQUEUE_AFTER)
            )
            .update(refit_queued_at=now)
        )
        if won:
            growth_refit.enqueue(program_id, instrument)
    return bool(won)


def growth_refit_if_stale(*, program_id: int, instrument: str) -> bool:
    """Queue a refit if the stored fit does not match the program's current history (and the
    history is not too thin for the model anyway)."""
    program = Program.objects.get(pk=program_id)
    stamp = history.history_stamp(program, instrument)
    fit = GrowthFit.objects.filter(program_id=program_id, instrument=instrument).first()
    if fit is not None and fit.fitted_at is not None and fit.history_hash == stamp.hash:
        return False
    if (fit is None or fit.fitted_at is None) and history.certainly_thin(program, instrument):
        return False  # nothing to fit yet: pages use the rule for a thin history
    return growth_refit_request(program_id=program_id, instrument=instrument)


@transaction.atomic
def growth_fit_store(
    *,
    program: Program,
    instrument: str,
    expectation: outcomes.Expectation,
    stamp: history.HistoryStamp,
    n_histories: int,
    n_assessments: int,
    seconds: float,
) -> GrowthFit:
    """Store a fit as the program's last good one (clearing the queued mark) and audit it."""
    instrument_for_use(instrument)
    why = getattr(expectation, "why", "")
    fit, created = GrowthFit.objects.select_for_update().get_or_create(
        program=program, instrument=instrument
    )
    fit.method = "model" if expectation.method == "model" else "rule"
    fit.why = str(why)[:64]
    fit.params = outcomes.expectation_params(expectation)
    fit.n_histories = n_histories
    fit.n_assessments = n_assessments
    fit.history_hash = stamp.hash
    fit.fitted_at = clock.now()
    fit.fit_seconds = round(seconds, 3)
    fit.refit_queued_at = None
    fit.save()
    audit_record(
        actor=system_user(),
        action="create" if created else "update",
        obj=fit,
        program=program,
        detail={"instrument": instrument, "method": fit.method, "histories": n_histories},
    )
    return fit


def growth_refit_run(*, program_id: int, instrument: str) -> GrowthFit | None:
    """Fit the program's whole history (seconds at thousands of participants) and store it.
    A fit already matching the history is kept; a missing program is nothing to do."""
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        return None
    stamp = history.history_stamp(program, instrument)
    fit = GrowthFit.objects.filter(program=program, instrument=instrument).first()
    if fit is not None and fit.fitted_at is not None and fit.history_hash == stamp.hash:
        GrowthFit.objects.filter(pk=fit.pk).update(refit_queued_at=None)
        return fit
    started = time.perf_counter()
    frame = outcomes.episodes_frame(list(history.valid_rows(program, instrument)))
    expectation = outcomes.expectation_for(frame, instrument=instrument)
    seconds = time.perf_counter() - started
    post = frame[frame["week"] > 0]
    stored = growth_fit_store(
        program=program,
        instrument=instrument,
        expectation=expectation,
        stamp=stamp,
        n_histories=int(post["participant"].nunique()),
        n_assessments=len(frame),
        seconds=seconds,
    )
    logger.info(
        "growth model refitted: program %s, %s, %s, %.1f s",
        program.pk,
        instrument,
        stored.method,
        seconds,
    )
    return stored


@task()
def growth_refit(program_id: int, instrument: str) -> bool:
    """The background refit (queued by growth_refit_request)."""
    return growth_refit_run(program_id=program_id, instrument=instrument) is not None
