"""The program's expected-recovery model as pages use it: the last good stored fit.

No page fits the growth model (seconds at thousands of participants). A page reads a
fingerprint of the program's history and the stored fit (openiop.measures.models.GrowthFit);
if the fit is stale it queues one background refit (openiop.measures.actions.growth_refit)
and goes on with the fit it has, saying when that was made. With no fit yet it uses the
documented thin-history rule and says so ("no model fitted yet"); a history too small for the
model anyway uses the rule at once ("thin history"), as the fit would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from openiop.core import clock
from openiop.measures import history, outcomes
from openiop.measures.actions import REFIT_REQUEUE_AFTER, growth_refit_request
from openiop.measures.instruments import get_instrument
from openiop.measures.models import GrowthFit
from openiop.programs.models import Program

NOT_FITTED_YET = "no model fitted yet"


@dataclass(frozen=True)
class FitInfo:
    """What a page says about the expectation it used."""

    method: str  # "model" | "rule"
    text: str  # "Expected-recovery model fitted 3 Dec 14:02 EST from 1,240 histories."
    stale: bool  # the history changed since; a refit is queued


def _describe(fit: GrowthFit | None, program: Program, thin: bool, stale: bool) -> FitInfo:
    if thin:
        return FitInfo("rule", "Too little program history for the growth model: rule used.", False)
    if fit is None or fit.fitted_at is None:
        return FitInfo(
            "rule",
            "No expected-recovery model fitted yet (queued): the documented rule is used.",
            stale,
        )
    when = clock.local_time(fit.fitted_at, program)
    stamp = f"{when.day} {when:%b %H:%M %Z}"
    histories = f"{fit.n_histories:,} histor{'y' if fit.n_histories == 1 else 'ies'}"
    if fit.method == "model":
        text = f"Expected-recovery model fitted {stamp} from {histories}."
    else:
        text = f"Expected-recovery rule in use ({fit.why}), checked {stamp} on {histories}."
    if stale:
        text += " Newer scores since; a refit is queued."
    return FitInfo(fit.method, text, stale)


def current_expectation(
    program: Program, instrument: str = outcomes.DEFAULT_INSTRUMENT
) -> tuple[outcomes.Expectation, FitInfo]:
    """(the expectation to judge with, what to say about it) for one instrument: two cheap
    queries (the history's stamp, the stored fit) whatever the history's size."""
    return current_expectations(program, [instrument])[instrument]


def current_expectations(
    program: Program, instruments: Sequence[str]
) -> dict[str, tuple[outcomes.Expectation, FitInfo]]:
    """Each instrument's (expectation, what to say about it). Two cheap queries for all of
    them (the histories' stamps, the stored fits) whatever the history's size; without a
    stored fit, one count decides between "thin history" and queueing the first fit; a stale
    fit queues one refit (at most one is queued however many pages ask)."""
    stamps = history.history_stamps(program, instruments)
    fits = {
        fit.instrument: fit
        for fit in GrowthFit.objects.filter(program=program, instrument__in=instruments)
    }
    recent = clock.now() - REFIT_REQUEUE_AFTER

    def queued(code: str) -> bool:
        fit = fits.get(code)
        return fit is not None and fit.refit_queued_at is not None and fit.refit_queued_at > recent

    def unfitted(code: str) -> bool:
        fit = fits.get(code)
        return fit is None or fit.fitted_at is None

    ask = [code for code in instruments if unfitted(code) and not queued(code)]
    thin = history.certainly_thin_instruments(program, ask) if ask else set()
    result: dict[str, tuple[outcomes.Expectation, FitInfo]] = {}
    for code in instruments:
        rule = outcomes.rule_for(code)
        fit = fits.get(code)
        if fit is None or fit.fitted_at is None:
            if code in thin:
                result[code] = (rule, _describe(None, program, thin=True, stale=False))
                continue
            if not queued(code):
                growth_refit_request(program_id=program.pk, instrument=code)
            result[code] = (
                replace(rule, why=NOT_FITTED_YET),
                _describe(None, program, False, True),
            )
            continue
        stale = fit.history_hash != stamps[code].hash
        if stale and not queued(code):
            growth_refit_request(program_id=program.pk, instrument=code)
        expectation = outcomes.expectation_from(fit.method, fit.why, fit.params, instrument=code)
        result[code] = (expectation, _describe(fit, program, thin=False, stale=stale))
    return result


def short_name(instrument: str) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire (PHQ-9)"."""
    return get_instrument(instrument).name.split(" (")[-1].rstrip(")")


def not_on_track_flags(
    *,
    program: Program,
    participant_ids: list[int],
    instruments: Sequence[str] | None = None,
) -> dict[int, list[str]]:
    """Participant id -> ["PHQ-9 not on track (...)", "GAD-7 ..."] for those whose latest
    episode of a tracked instrument (outcomes.tracked_instruments) is not on track by the
    trend signal at the program's required improvement; `expected` from the last good stored
    fit. Three queries however many instruments when fits are stored (stamps, fits, these
    participants' rows)."""
    if not participant_ids:
        return {}
    codes = list(outcomes.tracked_instruments() if instruments is None else instruments)
    if not codes:
        return {}
    expectations = current_expectations(program, codes)
    rows = history.valid_rows_by_instrument(program, codes, participant_ids)
    flags: dict[int, list[str]] = {}
    for code in codes:
        if not rows[code]:
            continue
        judged = outcomes.judge_latest_rows(
            rows[code],
            expectations[code][0],
            short_name(code),
            signal_of(program, code),
        )
        for person, text in judged.items():
            flags.setdefault(person, []).append(text)
    return flags


def signal_of(program: Program, instrument: str) -> outcomes.TrendSignal:
    """The instrument's trend signal at the program's required improvement (its setting)."""
    return outcomes.signal_for(instrument, required_improvement(program))


def required_improvement(program: Program) -> float:
    return float(program.not_on_track_improvement_percent) / 100.0


def not_on_track_ids(
    *,
    program: Program,
    participant_ids: list[int],
    instrument: str = outcomes.DEFAULT_INSTRUMENT,
) -> dict[int, str]:
    """One instrument's flags: participant id -> "PHQ-9 not on track (...)"."""
    flags = not_on_track_flags(
        program=program, participant_ids=participant_ids, instruments=[instrument]
    )
    return {person: texts[0] for person, texts in flags.items()}
