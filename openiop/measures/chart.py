"""Trajectory charts and tables: one per instrument, with the RCI category vs intake.

Charts are Chart.js specs read from `json_script` blocks by static/openiop/charts.js (strict
CSP: no inline script); every chart has the same numbers in a table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.measures import selectors
from openiop.measures.instruments import Instrument, all_instruments, is_enabled
from openiop.measures.models import Assessment
from openiop.participants.models import Participant
from openiop.programs.models import Program

CUTOFF_COLOR = "#b42318"
BAND_COLOR = "#8c959f"


@dataclass(frozen=True)
class Row:
    assessment: Assessment
    rci: str  # category vs intake, or "" for the intake itself / where not available


@dataclass(frozen=True)
class Trajectory:
    instrument: Instrument
    summary: selectors.ChangeSummary
    rows: list[Row]
    chart: dict[str, Any] | None
    chart_id: str


def _references(inst: Instrument) -> list[dict[str, Any]]:
    refs = [
        {"value": float(band.min), "label": f"{band.label} from {float(band.min):g}"}
        for band in inst.bands[1:]
    ]
    if inst.reliable_change is not None:
        cutoff = float(inst.reliable_change.cutoff)
        refs.append(
            {"value": cutoff, "label": f"clinical cutoff {cutoff:g}", "color": CUTOFF_COLOR}
        )
    return refs


def _chart_spec(
    inst: Instrument, valid: list[Assessment], program: Program
) -> dict[str, Any] | None:
    points = [a for a in valid if a.total is not None]
    if not points:
        return None
    low, high = inst.scoring.min, inst.scoring.max
    return {
        "type": "line",
        "yTitle": f"{inst.code.upper()} total",
        "labels": [f"{selectors.local_date(program, a.administered_at):%Y-%m-%d}" for a in points],
        "datasets": [{"label": inst.name, "data": [a.total_number for a in points]}],
        "yMin": float(low) if low is not None else None,
        "yMax": float(high) if high is not None else None,
        "references": _references(inst),
        "referenceColor": BAND_COLOR,
    }


def trajectory(inst: Instrument, assessments: list[Assessment], program: Program) -> Trajectory:
    summary = selectors.summarise(inst, assessments)
    valid = [a for a in assessments if a.is_valid]
    rows = []
    for a in assessments:
        change = selectors.change_between(inst, summary.intake, a) if a.is_valid else None
        rows.append(Row(assessment=a, rci=change.category if change else ""))
    return Trajectory(
        instrument=inst,
        summary=summary,
        rows=rows,
        chart=_chart_spec(inst, valid, program),
        chart_id=f"measure-{inst.code}-data",
    )


def trajectories(participant: Participant) -> list[Trajectory]:
    grouped = selectors.by_instrument(selectors.assessment_list(participant=participant))
    return [
        trajectory(inst, grouped[inst.code], participant.program)
        for inst in all_instruments()
        if inst.code in grouped and is_enabled(inst)
    ]


def chart_measures(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    """The participant chart's summary panel: intake vs latest and the change category."""
    if not access.can(Perm.ASSESSMENT_VIEW):
        return {"measures_summary": None}
    return {"measures_summary": [t.summary for t in trajectories(participant)]}
