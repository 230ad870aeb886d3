"""A participant's questionnaire history in plain words (/me/measures/, issue 16 item 4).

Each instrument's scores from the participant's current episode, oldest first, and one
sentence comparing the latest score with the first: "Your score has gone down by 7 points
since your first one (lower scores mean fewer difficulties on this questionnaire)."

The sentence is deliberately plain and non-clinical. It never names a severity band (those
are shown only where the program turns `portal_shows_severity` on, docs/measures.md), and it
calls a difference a change only when it reaches the instrument's published reliable-change
threshold (the same "at least the threshold" rule as `measures.change`), so week-to-week
noise reads as "about the same". An instrument without a published threshold reports the
difference as it is: there is no basis for calling any size of it noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext, gettext_noop, ngettext

from openiop.measures.instruments import (
    Instrument,
    InstrumentDisabledError,
    UnknownInstrumentError,
    get_instrument,
)
from openiop.measures.models import Assessment

# English source strings, marked for the translation catalogue and translated when used.
FIRST_SCORE = gettext_noop(
    "This is your first score on this questionnaire, so there is nothing to compare it with yet."
)
NO_SCORE_YET = gettext_noop(
    "There is no score to compare yet: a questionnaire with questions left blank has no score."
)
LOWER_IS_BETTER = gettext_noop("lower scores mean fewer difficulties on this questionnaire")
HIGHER_IS_BETTER = gettext_noop("higher scores mean you are doing better on this questionnaire")
# Said after a change in the worse direction: honest about it, and pointing to the people
# who can help make sense of it rather than leaving the participant alone with the number.
WORSE_NEXT_STEP = gettext_noop("it may help to talk this over with your care team")


def _points(amount: Fraction) -> str:
    """`7 points`, `1 point`, `0.5 points`: up to two decimals, none when whole."""
    text = f"{float(amount):.2f}".rstrip("0").rstrip(".")
    return ngettext("%(n)s point", "%(n)s points", 1 if amount == 1 else 2) % {"n": text}


def _meaning(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return ""
    return f" ({gettext(HIGHER_IS_BETTER if higher_is_better else LOWER_IS_BETTER)})"


def trend_sentence(
    scores: Sequence[Decimal | int],
    *,
    higher_is_better: bool | None,
    threshold: Fraction | None,
) -> str:
    """One sentence comparing the latest of `scores` (oldest first, valid totals only) with
    the first. A change of at least `threshold` points is a change; less is "about the same".
    Exact arithmetic: Decimal totals such as 17.8 and 11.8 differ by exactly 6."""
    if not scores:
        return gettext(NO_SCORE_YET)
    if len(scores) == 1:
        return gettext(FIRST_SCORE)
    change = Fraction(scores[-1]) - Fraction(scores[0])
    meaning = {"meaning": _meaning(higher_is_better)}
    if change == 0:
        return gettext("Your latest score is the same as your first one%(meaning)s.") % meaning
    if threshold is not None and abs(change) < threshold:
        return gettext("Your score is about the same as your first one%(meaning)s.") % meaning
    # Whole sentences per direction: word order differs between languages.
    if change > 0:
        sentence = gettext("Your score has gone up by %(points)s since your first one")
    else:
        sentence = gettext("Your score has gone down by %(points)s since your first one")
    sentence = sentence % {"points": _points(abs(change))}
    if higher_is_better is not None and (change > 0) != higher_is_better:
        return gettext("%(sentence)s%(meaning)s, so %(next_step)s.") % {
            "sentence": sentence,
            "next_step": gettext(WORSE_NEXT_STEP),
            **meaning,
        }
    return f"{sentence}{meaning['meaning']}."


@dataclass(frozen=True)
class History:
    """One instrument's administrations (oldest first) and the sentence about them; `trend`
    is None for an instrument without a score (C-SSRS, BAM) or no longer enabled."""

    code: str
    name: str
    administrations: list[Assessment]
    trend: str | None


def _instrument(code: str) -> Instrument | None:
    try:
        return get_instrument(code)
    except (UnknownInstrumentError, InstrumentDisabledError):
        return None


def _history(code: str, administrations: list[Assessment]) -> History:
    inst = _instrument(code)
    if inst is None or inst.scoring.method == "none":
        trend = None
    else:
        # Partial administrations (no total) are listed but have no score to compare.
        totals = [a.total for a in administrations if a.total is not None]
        threshold = inst.reliable_change.threshold if inst.reliable_change else None
        trend = trend_sentence(totals, higher_is_better=inst.higher_is_better, threshold=threshold)
    name = inst.name if inst else code.upper()
    return History(code=code, name=name, administrations=administrations, trend=trend)


def histories(administrations: Sequence[Assessment]) -> list[History]:
    """Valid administrations (oldest first) grouped by instrument; the instrument answered
    most recently comes first."""
    grouped: dict[str, list[Assessment]] = {}
    for assessment in administrations:
        grouped.setdefault(assessment.instrument, []).append(assessment)
    ordered = sorted(grouped.items(), key=lambda pair: pair[1][-1].administered_at, reverse=True)
    return [_history(code, rows) for code, rows in ordered]
