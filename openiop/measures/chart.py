"""Trajectory charts and tables: one per instrument, with the RCI category vs intake.

Charts are Chart.js specs read from `json_script` blocks by static/openiop/charts.js (strict
CSP: no inline script); every chart has the same numbers in a table beside it.

Each chart draws the severity band edges, the clinical cutoff and the reliable-change band
(intake +/- the instrument's published threshold). For the instruments with not-on-track
flags (PHQ-9) it also draws the expected-recovery corridor of the participant's current
episode (openiop.measures.outcomes): the program model's prediction band for their intake
score, or the thin-history rule's limit, at the week of each administration, so a flagged
score is visibly above (worse than) the corridor at the very point the flag judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.measures import growth, outcomes, selectors
from openiop.measures.instruments import Instrument, all_instruments, is_enabled
from openiop.measures.models import Assessment
from openiop.measures.review import chart_review
from openiop.participants.models import Participant
from openiop.programs.models import Program

CUTOFF_COLOR = "#b42318"
BAND_COLOR = "#8c959f"
RELIABLE_CHANGE_COLOR = "#8250df"
CORRIDOR_COLOR = "#1a7f37"
CORRIDOR_FILL = "rgba(26, 127, 55, 0.15)"
SCORE_COLOR = "#0b5cad"
# The instruments whose not-on-track flags the team sees (growth.not_on_track_flags judges
# these), so the chart explains exactly those flags.
CORRIDOR_INSTRUMENTS = outcomes.TRACKED_INSTRUMENTS


@dataclass(frozen=True)
class CorridorCell:
    """The corridor at one administration of the current episode (after intake)."""

    week: float
    lower: float | None  # clipped to the instrument's scale for display
    expected: float
    upper: float | None
    not_on_track: bool  # the same verdict the not-on-track flag gives for this score
    limit: float | None = None  # the on-track limit for this score (earlier scores as they were)
    limit_text: str = ""  # the limit as the worst score still on track: "≤ 18"


@dataclass(frozen=True)
class Corridor:
    method: str  # "model" | "rule-based: <why>"
    percentile: float
    cells: dict[int, CorridorCell]  # assessment pk -> cell
    basis: str = ""  # when the program's model was fitted, or that the rule is used
    required_improvement: float = outcomes.DEFAULT_REQUIRED_IMPROVEMENT

    @property
    def is_model(self) -> bool:
        return self.method == "model"

    @property
    def required_percent(self) -> int:
        return round(self.required_improvement * 100)


@dataclass(frozen=True)
class Row:
    assessment: Assessment
    rci: str  # category vs intake, or "" for the intake itself / where not available
    corridor: CorridorCell | None = None


@dataclass(frozen=True)
class Trajectory:
    instrument: Instrument
    summary: selectors.ChangeSummary
    rows: list[Row]
    chart: dict[str, Any] | None
    chart_id: str
    corridor: Corridor | None = None


def _references(inst: Instrument, intake: Assessment | None) -> list[dict[str, Any]]:
    refs = [
        {"value": float(band.min), "label": f"{band.label} from {float(band.min):g}"}
        for band in inst.bands[1:]
    ]
    if inst.reliable_change is not None:
        cutoff = float(inst.reliable_change.cutoff)
        refs.append(
            {"value": cutoff, "label": f"clinical cutoff {cutoff:g}", "color": CUTOFF_COLOR}
        )
        refs.extend(_reliable_change_band(inst, intake))
    return refs


def _reliable_change_band(inst: Instrument, intake: Assessment | None) -> list[dict[str, Any]]:
    """Intake +/- the published threshold: a change reaching either line is reliable."""
    if inst.reliable_change is None or intake is None or intake.total is None:
        return []
    start, step = float(intake.total), float(inst.reliable_change.threshold)
    better, worse = (1, -1) if inst.higher_is_better else (-1, 1)
    return [
        {
            "value": start + sign * step,
            "label": f"reliable {word} from intake ({start + sign * step:g})",
            "color": RELIABLE_CHANGE_COLOR,
        }
        for sign, word in ((better, "improvement"), (worse, "deterioration"))
    ]


def _clip(inst: Instrument, value: float | None) -> float | None:
    """A band edge beyond the scale (e.g. below 0) is drawn and listed at the scale's end."""
    if value is None:
        return None
    low, high = inst.scoring.min, inst.scoring.max
    if low is not None:
        value = max(value, float(low))
    if high is not None:
        value = min(value, float(high))
    return round(value, 1)


def _corridor_datasets(
    inst: Instrument, corridor: Corridor | None, points: list[Assessment]
) -> list[dict[str, Any]]:
    """Lines aligned with the score points (None where a point is outside the current
    episode or is its intake): the expected score, and the band's edges filled between."""
    if corridor is None:
        return []

    def line(edge: str, label: str, **style: Any) -> dict[str, Any]:
        cells = [corridor.cells.get(a.pk) for a in points]
        data = [getattr(c, edge) if c else None for c in cells]
        return {"label": label, "data": data, "color": CORRIDOR_COLOR, "pointRadius": 0} | style

    expected = line("expected", "expected score", dashed=True)
    limit = line("limit", "on-track limit", color=CUTOFF_COLOR, dashed=True)
    if not corridor.is_model:  # the rule has an expected line only: nothing to fill
        return [limit, expected]
    what = f"{corridor.percentile:g}th percentile"
    return [
        line("upper", f"expected range, upper ({what})", fill="+1", background=CORRIDOR_FILL),
        line("lower", "expected range, lower"),
        expected,
        limit,
    ]


def _chart_spec(
    inst: Instrument,
    valid: list[Assessment],
    program: Program,
    intake: Assessment | None,
    corridor: Corridor | None = None,
) -> dict[str, Any] | None:
    points = [a for a in valid if a.total is not None]
    if not points:
        return None
    low, high = inst.scoring.min, inst.scoring.max
    scores: dict[str, Any] = {"label": inst.name, "data": [a.total_number for a in points]}
    if corridor is not None:
        flagged = [(c := corridor.cells.get(a.pk)) is not None and c.not_on_track for a in points]
        scores["color"] = SCORE_COLOR
        scores["pointColors"] = [CUTOFF_COLOR if f else SCORE_COLOR for f in flagged]
    return {
        "type": "line",
        "yTitle": f"{inst.code.upper()} total",
        "labels": [f"{selectors.local_date(program, a.administered_at):%Y-%m-%d}" for a in points],
        "datasets": [scores, *_corridor_datasets(inst, corridor, points)],
        "yMin": float(low) if low is not None else None,
        "yMax": float(high) if high is not None else None,
        "references": _references(inst, intake),
        "referenceColor": BAND_COLOR,
    }


@dataclass(frozen=True)
class _Administration:
    assessment: Assessment
    week: float  # since the episode's intake, as outcomes.py judges it
    intake: float
    score: float
    position: int  # its row in the episode's frame (the intake is row 0)


def _current_episode(scored: list[Assessment]) -> tuple[pd.DataFrame, list[_Administration]]:
    """The latest episode's rows (intake included, as outcomes.py judges them: same frame
    builder, same episode choice) and its administrations after intake."""
    if not scored:
        return pd.DataFrame(), []
    rows = [(a.enrollment_id, a.participant_id, a.administered_at, a.total) for a in scored]
    frame = outcomes.latest_episode(outcomes.episodes_frame(rows))
    after_intake = [
        _Administration(scored[i], float(week), float(intake), float(score), position)
        for position, (i, week, intake, score) in enumerate(
            zip(frame.index, frame["week"], frame["intake"], frame["score"], strict=True)
        )
        if week > 0
    ]
    return frame, after_intake


def _cell(
    inst: Instrument, point: outcomes.CorridorPoint, verdict: outcomes.Verdict | None
) -> CorridorCell:
    return CorridorCell(
        week=point.week,
        lower=_clip(inst, point.lower),
        expected=_clip(inst, point.expected) or 0.0,
        upper=_clip(inst, point.upper),
        not_on_track=bool(verdict and verdict.not_on_track),
        limit=_clip(inst, verdict.edge) if verdict else None,
        limit_text=verdict.limit_text() if verdict else "",
    )


def expected_recovery(
    inst: Instrument,
    valid: list[Assessment],
    expectation: outcomes.Expectation,
    signal: outcomes.TrendSignal,
    basis: str = "",
) -> Corridor | None:
    """The corridor at each administration of the current episode, and each score judged as
    the not-on-track flag judged it then: on the episode's scores up to that administration."""
    frame, episode = _current_episode([a for a in valid if a.total is not None])
    if not episode:
        return None
    percentile = outcomes.DEFAULT_PERCENTILE
    weeks = [row.week for row in episode]
    points = expectation.corridor(intake=episode[0].intake, weeks=weeks, percentile=percentile)
    cells = {}
    for row, point in zip(episode, points, strict=True):
        verdict = outcomes.judge_episode(frame.iloc[: row.position + 1], expectation, signal)
        cells[row.assessment.pk] = _cell(inst, point, verdict)
    return Corridor(
        method=outcomes.method_text(expectation),
        percentile=percentile,
        cells=cells,
        basis=basis,
        required_improvement=signal.required_improvement,
    )


def trajectory(
    inst: Instrument,
    assessments: list[Assessment],
    program: Program,
    expectation: outcomes.Expectation | None = None,
    basis: str = "",
) -> Trajectory:
    summary = selectors.summarise(inst, assessments)
    valid = [a for a in assessments if a.is_valid]
    corridor = (
        expected_recovery(inst, valid, expectation, growth.signal_of(program, inst.code), basis)
        if expectation
        else None
    )
    rows = []
    for a in assessments:
        change = selectors.change_between(inst, summary.intake, a) if a.is_valid else None
        cell = corridor.cells.get(a.pk) if corridor else None
        rows.append(Row(assessment=a, rci=change.category if change else "", corridor=cell))
    return Trajectory(
        instrument=inst,
        summary=summary,
        rows=rows,
        chart=_chart_spec(inst, valid, program, summary.intake, corridor),
        chart_id=f"measure-{inst.code}-data",
        corridor=corridor,
    )


def _expectation(participant: Participant, code: str) -> tuple[outcomes.Expectation, str]:
    # The last good stored fit, never a fit in the request (openiop.measures.growth).
    expectation, info = growth.current_expectation(participant.program, code)
    return expectation, info.text


def trajectories(participant: Participant, *, with_corridor: bool = False) -> list[Trajectory]:
    """One trajectory per instrument given; `with_corridor` adds the expected-recovery
    corridor where the instrument has one (two more queries per such instrument: the
    history's fingerprint and the stored fit)."""
    grouped = selectors.by_instrument(selectors.assessment_list(participant=participant))
    result = []
    for inst in all_instruments():
        if inst.code not in grouped or not is_enabled(inst):
            continue
        expectation, basis = (
            _expectation(participant, inst.code)
            if with_corridor and inst.code in CORRIDOR_INSTRUMENTS
            else (None, "")
        )
        result.append(trajectory(inst, grouped[inst.code], participant.program, expectation, basis))
    return result


def chart_measures(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    """The participant chart's summary panel: intake vs latest and the change category."""
    if not access.can(Perm.ASSESSMENT_VIEW):
        return {"measures_summary": None, "measures_review": []}
    return {
        "measures_summary": [t.summary for t in trajectories(participant)],
        "measures_review": chart_review(selectors.assessment_list(participant=participant)),
    }
