"""`openiop not-on-track INPUT.json` (clinical.md section 8, format `openiop.not-on-track/1`).

The app's not-on-track flag as a command, so the alert can be checked on cohorts the program did
not produce: the expectation comes from `outcomes.expectation_for` on `history` (the mixed model,
or the documented rule when the history is thin, exactly as the background refit decides), and
each `current` episode is judged at its latest score by `outcomes.judge_episode`, the function the
runner, the chart and the alerts use, at the program default percentile. No database, no Django.

Input validation names the first bad field (`current[2].score`) and exits 2 with
`{"error": {"field": ..., "message": ...}}` on stdout, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from openiop.measures import outcomes
from openiop.measures.instruments import (
    Instrument,
    InstrumentDisabledError,
    UnknownInstrumentError,
    get_instrument,
)

FORMAT = "openiop.not-on-track/1"
EXIT_OK = 0
EXIT_BAD_INPUT = 2
USAGE = (
    "usage: openiop not-on-track INPUT.json   ('-' reads standard input)\n"
    f'  INPUT: {{"format": "{FORMAT}", "instrument": "phq9", "history": [...], '
    '"current": [...]}\n'
    '  each row {"episode": "h1", "week": 0.0, "score": 17}; week 0.0 is the intake.\n'
    "  Prints one result per current episode, judged at its latest score (clinical.md section 8)."
)


Row = tuple[str, float, float]  # episode, week, score


class InputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Cohort:
    instrument: Instrument
    history: pd.DataFrame  # participant, person, week, score, intake (outcomes' frame)
    current: pd.DataFrame
    order: list[str]  # current episodes in the order they first appear


# --------------------------------------------------------------------------- validation


def _instrument(doc: Mapping[str, Any]) -> Instrument:
    code = doc.get("instrument")
    if not isinstance(code, str) or not code:
        raise InputError("instrument", 'required: an instrument code such as "phq9"')
    try:
        instrument = get_instrument(code)
    except (UnknownInstrumentError, InstrumentDisabledError) as exc:
        raise InputError("instrument", str(exc)) from None
    if instrument.reliable_change is None or instrument.scoring.min is None:
        supported = ", ".join(_supported())
        raise InputError(
            "instrument",
            f"{code} has no reliable-change data for the expected-recovery model "
            f"(supported: {supported})",
        )
    return instrument


def _supported() -> list[str]:
    from openiop.measures.instruments import _REGISTRY

    return sorted(code for code, inst in _REGISTRY.items() if inst.reliable_change is not None)


def _number(value: Any, field: str) -> float:
    # bool is an int in Python; true/false is not a week or a score.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(field, f"must be a number, got {json.dumps(value)}")
    return float(value)


def _rows(
    doc: Mapping[str, Any], key: str, instrument: Instrument
) -> list[tuple[str, float, float]]:
    rows = doc.get(key)
    if not isinstance(rows, list):
        raise InputError(key, "required: a list of {episode, week, score} rows")
    low, high = float(instrument.scoring.min or 0), float(instrument.scoring.max or 0)
    parsed = []
    for i, row in enumerate(rows):
        where = f"{key}[{i}]"
        if not isinstance(row, dict):
            raise InputError(where, "must be an object {episode, week, score}")
        episode = row.get("episode")
        if not isinstance(episode, str) or not episode.strip():
            raise InputError(f"{where}.episode", "required: a non-empty string")
        week = _number(row.get("week"), f"{where}.week")
        if week < 0:
            raise InputError(f"{where}.week", f"{week:g} is before the intake (week 0.0)")
        score = _number(row.get("score"), f"{where}.score")
        if not low <= score <= high:
            raise InputError(
                f"{where}.score", f"{score:g} is outside {instrument.code}'s range {low:g}–{high:g}"
            )
        parsed.append((episode, week, score))
    return parsed


def _episodes_frame(rows: list[Row], key: str) -> pd.DataFrame:
    """Rows -> outcomes' frame (one episode per `participant` and `person`), each episode in
    week order with its week-0 score as the intake covariate, as the app builds it."""
    weeks: dict[str, dict[float, int]] = {}
    for i, (episode, week, _) in enumerate(rows):
        seen = weeks.setdefault(episode, {})
        if week in seen:
            raise InputError(
                f"{key}[{i}].week",
                f"episode {episode} already has a score at week {week:g} ({key}[{seen[week]}])",
            )
        seen[week] = i
    for episode, seen in weeks.items():
        if 0.0 not in seen:
            first = min(seen.values())
            raise InputError(
                f"{key}[{first}].episode",
                f"episode {episode} has no intake score (a row with week 0.0): "
                "weeks count from the intake",
            )
    ordered = sorted(rows, key=lambda row: (row[0], row[1]))
    intake = {episode: score for episode, week, score in ordered if week == 0.0}
    records = [(ep, ep, week, score, intake[ep]) for ep, week, score in ordered]
    return pd.DataFrame(
        records, columns=["participant", "person", "week", "score", "intake"]
    ).astype({"week": float, "score": float, "intake": float})


def parse(doc: Any) -> Cohort:
    if not isinstance(doc, dict):
        raise InputError("(document)", "must be a JSON object")
    if doc.get("format") != FORMAT:
        raise InputError("format", f'must be "{FORMAT}", got {json.dumps(doc.get("format"))}')
    instrument = _instrument(doc)
    history_rows = _rows(doc, "history", instrument)
    current_rows = _rows(doc, "current", instrument)
    order = list(dict.fromkeys(episode for episode, _, _ in current_rows))
    return Cohort(
        instrument=instrument,
        history=_episodes_frame(history_rows, "history"),
        current=_episodes_frame(current_rows, "current"),
        order=order,
    )


# --------------------------------------------------------------------------- judging


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def judge(cohort: Cohort) -> dict[str, Any]:
    """Judged with the program defaults (the default required improvement)."""
    expectation = outcomes.expectation_for(cohort.history, instrument=cohort.instrument.code)
    signal = outcomes.signal_for(cohort.instrument.code)
    results = []
    episodes = dict(tuple(cohort.current.groupby("participant", sort=False)))
    for episode in cohort.order:
        rows = episodes[episode]
        verdict = outcomes.judge_episode(rows, expectation, signal)
        latest = rows.iloc[-1]
        if verdict is None:  # intake only: nothing to judge yet, no limit at week 0
            expected = expectation.corridor(intake=float(latest["intake"]), weeks=[0.0])[0]
            results.append(
                {
                    "episode": episode,
                    "week": float(latest["week"]),
                    "not_on_track": False,
                    "expected": _rounded(expected.expected),
                    "limit": None,
                }
            )
            continue
        results.append(
            {
                "episode": episode,
                "week": verdict.week,
                "not_on_track": verdict.not_on_track,
                "expected": _rounded(verdict.expected),
                "limit": _rounded(verdict.edge),
            }
        )
    method = "model" if expectation.method == "model" else "rule"
    return {"format": FORMAT, "method": method, "results": results}


# --------------------------------------------------------------------------- the command


def _read(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("INPUT", f"cannot read {source}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            "INPUT", f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def main(argv: list[str]) -> int:
    if argv in ([], ["-h"], ["--help"]):
        print(USAGE)
        return EXIT_OK if argv else EXIT_BAD_INPUT
    if len(argv) != 1:
        error = InputError("INPUT", "give exactly one input file (or '-' for standard input)")
        print(json.dumps({"error": {"field": error.field, "message": error.message}}))
        return EXIT_BAD_INPUT
    try:
        cohort = parse(_read(argv[0]))
    except InputError as exc:
        print(json.dumps({"error": {"field": exc.field, "message": exc.message}}))
        return EXIT_BAD_INPUT
    print(json.dumps(judge(cohort)))
    return EXIT_OK
