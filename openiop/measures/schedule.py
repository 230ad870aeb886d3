"""Which cadences suit an instrument, from its recall window (clinical.md section 3).

An administration asks about the recall window before it, so a repeating cadence must neither
skip long stretches nor re-ask mostly the same days: the interval must lie between half the
window and the whole window. PHQ-9 and GAD-7 (2 weeks) fit weekly or every 2 weeks; K10 and
PCL-5 (30 days) fit monthly; AUDIT and DAST-10 (12 months) fit no repeating cadence and are
given at intake and discharge only. Instruments without a recall window (trait measures such
as the BRS) may be repeated at any cadence. Intake and discharge always fit.
"""

from __future__ import annotations

from openiop.measures.instruments import Instrument
from openiop.measures.models import CADENCE_DAYS, Cadence


def cadence_problem(instrument: Instrument, cadence: str) -> str | None:
    """Why `cadence` does not suit `instrument`, or None when it does."""
    if cadence not in Cadence.values:
        return f"Unknown cadence {cadence!r}; choose one of: {', '.join(Cadence.values)}."
    if _fits(instrument, cadence):
        return None
    window = instrument.recall_window.text if instrument.recall_window else ""
    fitting = ", ".join(allowed_cadences(instrument))
    return (
        f"{instrument.code} asks about the {window}, which does not fit "
        f"{Cadence(cadence).label.lower()}; choose: {fitting}."
    )


def allowed_cadences(instrument: Instrument) -> list[str]:
    return [c for c in Cadence.values if _fits(instrument, c)]


def _fits(instrument: Instrument, cadence: str) -> bool:
    interval = CADENCE_DAYS.get(cadence)
    window = instrument.recall_window
    if interval is None or window is None or window.days is None:
        return True
    return window.days / 2 <= interval <= window.days
