"""The program's expected-recovery model as pages use it: the last good stored fit.

No page fits the growth model (seconds at thousands of participants). A page reads a
fingerprint of the program's history and the stored fit (openiop.measures.models.GrowthFit);
if the fit is stale it queues one background refit (openiop.measures.actions.growth_refit)
and goes on with the fit it has, saying when that was made. With no fit yet it uses the
documented thin-history rule and says so ("no model fitted yet"); a history too small for the
model anyway uses the rule at once ("thin history"), as the fit would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

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
    """(the expectation to judge with, what to say about it). Two cheap queries (the history's
    stamp, the stored fit) whatever the history's size; without a stored fit, a count decides
    between "thin history" and queueing the first fit; a stale fit queues one refit (at most
    one is queued however many pages ask)."""
    stamp = history.history_stamp(program, instrument)
    rule = outcomes.rule_for(instrument)
    fit = GrowthFit.objects.filter(program=program, instrument=instrument).first()
    queued = False
    if fit is not None and fit.refit_queued_at is not None:
        queued = fit.refit_queued_at > clock.now() - REFIT_REQUEUE_AFTER
    if fit is None or fit.fitted_at is None:
        if not queued:
            if history.certainly_thin(program, instrument):
                return rule, _describe(None, program, thin=True, stale=False)
            growth_refit_request(program_id=program.pk, instrument=instrument)
        return replace(rule, why=NOT_FITTED_YET), _describe(None, program, False, True)
    stale = fit.history_hash != stamp.hash
    if stale and not queued:
        growth_refit_request(program_id=program.pk, instrument=instrument)
    expectation = outcomes.expectation_from(fit.method, fit.why, fit.params, instrument=instrument)
    return expectation, _describe(fit, program, thin=False, stale=stale)


def program_history(
    *,
    program: Program,
    participant_ids: list[int],
    instrument: str = outcomes.DEFAULT_INSTRUMENT,
) -> tuple[pd.DataFrame, outcomes.Expectation, FitInfo]:
    """(these participants' episodes, the program's expectation, what to say about it): the
    stamp and the stored fit, then just these participants' rows, never the whole history."""
    expectation, info = current_expectation(program, instrument)
    frame = outcomes.episodes_frame(
        list(history.valid_rows(program, instrument).filter(participant_id__in=participant_ids))
    )
    return frame, expectation, info


def short_name(instrument: str) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire (PHQ-9)"."""
    return get_instrument(instrument).name.split(" (")[-1].rstrip(")")


def not_on_track_ids(
    *,
    program: Program,
    participant_ids: list[int],
    instrument: str = outcomes.DEFAULT_INSTRUMENT,
    percentile: float = outcomes.DEFAULT_PERCENTILE,
) -> dict[int, str]:
    """Participant id -> "PHQ-9 not on track (...)" for those whose latest score in their
    latest episode is worse than expected, judged with the last good stored fit. Three
    queries when a fit is stored (stamp, fit, these participants' rows)."""
    if not participant_ids:
        return {}
    frame, expectation, _ = program_history(
        program=program, participant_ids=participant_ids, instrument=instrument
    )
    return outcomes.judge_latest(
        frame, set(participant_ids), expectation, short_name(instrument), percentile
    )
