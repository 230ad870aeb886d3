"""The validation's trade-off for the not-on-track setting, shown beside it on the program
settings page: for each required improvement, how many of the people who are not improving
are flagged (sensitivity) and how many of those who are improving are left alone
(specificity) at weeks 3 and 4 on the simulated programs of docs/outcomes-validation.md.

The numbers are data written by bench/outcomes_validation.py
(openiop/measures/data/not_on_track_tradeoff.json), never typed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TRADEOFF_FILE = (
    Path(__file__).resolve().parent.parent / "measures" / "data" / ("not_on_track_tradeoff.json")
)


@dataclass(frozen=True)
class TradeoffRow:
    percent: int
    default: bool
    week3_sensitivity: float
    week3_specificity: float
    week4_sensitivity: float
    week4_specificity: float
    week4_worst_sensitivity: float
    week4_worst_specificity: float


@cache
def tradeoff_rows() -> tuple[TradeoffRow, ...]:
    data: dict[str, Any] = json.loads(TRADEOFF_FILE.read_text(encoding="utf-8"))
    return tuple(
        TradeoffRow(
            percent=int(row["percent"]),
            default=bool(row["default"]),
            week3_sensitivity=float(row["week3"]["sensitivity"]),
            week3_specificity=float(row["week3"]["specificity"]),
            week4_sensitivity=float(row["week4"]["sensitivity"]),
            week4_specificity=float(row["week4"]["specificity"]),
            week4_worst_sensitivity=float(row["week4"]["worst_sensitivity"]),
            week4_worst_specificity=float(row["week4"]["worst_specificity"]),
        )
        for row in data["rows"]
    )


def tradeoff_chart(rows: tuple[TradeoffRow, ...]) -> dict[str, object]:
    """Sensitivity and specificity at week 4 against the setting, for charts.js (the same
    numbers as the table beside it)."""
    return {
        "type": "line",
        "labels": [f"{row.percent}%" for row in rows],
        "yTitle": "Share at week 4 (mean over simulated programs)",
        "yMin": 0.4,
        "yMax": 1.0,
        "datasets": [
            {
                "label": "not improving and flagged (sensitivity)",
                "data": [row.week4_sensitivity for row in rows],
                "color": "#b42318",
            },
            {
                "label": "improving and not flagged (specificity)",
                "data": [row.week4_specificity for row in rows],
                "color": "#1a7f37",
            },
        ],
        "references": [{"value": 0.8, "label": "target 0.80", "color": "#8c959f"}],
    }
