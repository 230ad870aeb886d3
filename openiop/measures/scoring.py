"""Score one administration of an instrument (clinical.md section 3).

`score()` is pure: instrument facts come from the data files (`instruments.py`), answers are the
codes as answered in item order, `None` marks a skipped or missing item. Order of work matters:

1. validate every code (a wrong code is an error that names the item, never a guess);
2. apply skip rules (C-SSRS: q2 = no skips q3-q5). Skip logic decides what is asked, never
   what is kept: an answer given anyway is scored like any other (a yes is critical and counts
   toward risk) and the item is listed in `inconsistent` for the clinician to review;
3. evaluate critical items, *before* any total: they never depend on the rest of the form, are
   never prorated, and a missing critical item is "not assessed" (listed separately), never 0.
   `critical_screen()` does this step alone, on whatever was answered, so a caller can act on
   a critical answer before it validates the rest of the form;
4. totals: any missing item leaves the total, band and positive screen null, except where the
   instrument defines proration (CORE-10: exactly one item missing -> 10 x sum / 9);
5. bands, screens and subscales are computed on the *exact* total (a Fraction); only the
   reported value is rounded (BRS mean: 2 decimals; prorated CORE-10: 1 decimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from openiop.measures.instruments import (
    SEXES,
    Instrument,
    Item,
    ItemRef,
    UnknownInstrumentError,
    all_instruments,
    get_instrument,
)

Answer = int | None
Number = int | float


class ScoringError(ValueError):
    """Input that cannot be scored; the message is meant for the clinician who entered it."""


class AnswerError(ScoringError):
    """A problem with one answer; the message starts with the item, e.g. `item 4: ...`."""

    def __init__(self, item: ItemRef | str, message: str) -> None:
        super().__init__(f"item {item}: {message}")
        self.item = item


class SexRequiredError(ScoringError):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code}: the sex used for scoring ({' or '.join(SEXES)}) is required because the "
            "positive-screen cutoff depends on it"
        )
        self.code = code


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    total: Number | None
    band: str | None
    subscales: dict[str, Number | None]
    positive_screen: bool | None
    critical: list[ItemRef]  # critical items endorsed, in item order
    risk: str | None
    prorated: bool
    # Beyond the command-line contract: what the web app and safety workflow also need.
    critical_not_assessed: list[ItemRef] = field(default_factory=list)
    missing: list[ItemRef] = field(default_factory=list)
    exact_total: Fraction | None = None
    raw_total: int | None = None  # WHO-5: the 0-25 sum before x4
    version: str = ""
    # Items answered although skip logic would have skipped them (C-SSRS q3-q5 after q2 = no,
    # a yes to q6r after q6 = no): kept and scored, listed for the clinician to review.
    inconsistent: list[ItemRef] = field(default_factory=list)
    # C-SSRS: when risk is None, the missing items whose answers would decide it.
    risk_undetermined_by: list[ItemRef] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Exactly the keys of the `openiop score` contract, in its order."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "subscales": dict(self.subscales),
            "positive_screen": self.positive_screen,
            "critical": list(self.critical),
            "risk": self.risk,
            "prorated": self.prorated,
        }


def score(instrument_code: str, answers: Sequence[Answer], sex: str | None = None) -> ScoreResult:
    """Score `answers` (codes in item order, None = skipped/missing) for `instrument_code`.

    Raises UnknownInstrumentError, InstrumentDisabledError or ScoringError (AnswerError names
    the item). `sex` is the sex used for scoring ('female'/'male'), needed by AUDIT-C.
    """
    inst = get_instrument(instrument_code)
    check_answer_count(inst, len(answers))
    for item, answer in zip(inst.items, answers, strict=True):
        check_code(item, answer)
    skipped, inconsistent = _skipped_items(inst, answers)
    scoring_sex = _scoring_sex(inst, sex)
    critical, not_assessed = _critical_items(inst, answers, skipped)
    risk, undetermined_by = _risk(inst, answers, skipped)
    exact, prorated = _exact_total(inst, answers)
    return ScoreResult(
        instrument=inst.code,
        total=_reported_total(inst, exact, prorated),
        band=_band(inst, exact),
        subscales=_subscales(inst, answers),
        positive_screen=_positive_screen(inst, exact, answers, skipped, scoring_sex),
        critical=critical,
        risk=risk,
        prorated=prorated,
        critical_not_assessed=not_assessed,
        missing=[
            i.ref
            for i, a in zip(inst.items, answers, strict=True)
            if a is None and i.name not in skipped
        ],
        exact_total=exact,
        raw_total=_raw_total(inst, answers),
        version=inst.version,
        inconsistent=inconsistent,
        risk_undetermined_by=undetermined_by,
    )


@dataclass(frozen=True)
class CriticalScreen:
    critical: list[ItemRef]
    risk: str | None
    risk_undetermined_by: list[ItemRef]


def critical_screen(instrument_code: str, answers: Sequence[object]) -> CriticalScreen:
    """Critical items endorsed (and C-SSRS risk) from whatever was answered, without
    validating the rest: a wrong code elsewhere, a wrong number of answers or an unanswered
    item never hides a critical answer, and neither does a licence flag (it only decides
    whether the instrument is offered). Answers that are not valid codes count as missing."""
    inst = next((i for i in all_instruments() if i.code == instrument_code), None)
    if inst is None:
        raise UnknownInstrumentError(instrument_code)
    usable: list[Answer] = []
    for index, item in enumerate(inst.items):
        answer = answers[index] if index < len(answers) else None
        valid = isinstance(answer, int) and not isinstance(answer, bool) and answer in item.codes
        usable.append(answer if valid else None)  # type: ignore[arg-type]
    skipped, _ = _skipped_items(inst, usable)
    critical, _ = _critical_items(inst, usable, skipped)
    risk, undetermined_by = _risk(inst, usable, skipped)
    return CriticalScreen(critical=critical, risk=risk, risk_undetermined_by=undetermined_by)


# --------------------------------------------------------------------------- validation


def check_answer_count(inst: Instrument, count: int) -> None:
    expected = len(inst.items)
    if count < expected:
        raise AnswerError(
            inst.items[count].ref,
            f"missing: {inst.code} takes {expected} answers ({_item_list(inst)}), got {count}; "
            "use '-' for a skipped item",
        )
    if count > expected:
        position = expected + 1 if inst.item_ref == "number" else f"#{expected + 1}"
        raise AnswerError(
            position,
            f"{inst.code} has only {expected} items ({_item_list(inst)}); got {count} answers",
        )


def _item_list(inst: Instrument) -> str:
    if inst.item_ref == "name":
        return " ".join(item.name for item in inst.items)
    return f"items 1–{len(inst.items)}"


def check_code(item: Item, answer: object) -> None:
    if answer is None:
        return
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise AnswerError(item.ref, f"{answer!r} is not a whole number")
    if answer in item.codes:
        return
    low, high = min(item.codes), max(item.codes)
    if list(item.codes) == list(range(low, high + 1)):
        raise AnswerError(item.ref, f"{answer} is out of range {low}–{high}")
    allowed = ", ".join(str(code) for code in item.codes)
    raise AnswerError(item.ref, f"{answer} is not a valid code (allowed: {allowed})")


def _scoring_sex(inst: Instrument, sex: str | None) -> str | None:
    if sex is None:
        if inst.needs_sex:
            raise SexRequiredError(inst.code)
        return None
    value = sex.strip().lower()
    if value not in SEXES:
        raise ScoringError(f"sex used for scoring must be one of {', '.join(SEXES)}, got {sex!r}")
    return value


# --------------------------------------------------------------------------- skip logic


def _skipped_items(inst: Instrument, answers: Sequence[Answer]) -> tuple[set[str], list[ItemRef]]:
    """(names of items skipped by the form's own logic, refs of items answered anyway).

    A skipped item is left blank: it was never asked, so it is not "missing". An answer given
    to it anyway is kept and scored (the person answered out of order, or the interviewer asked
    anyway); it is reported as inconsistent so that the clinician reviews it, never refused.
    """
    by_name = {item.name: answer for item, answer in zip(inst.items, answers, strict=True)}
    skipped: set[str] = set()
    inconsistent: set[str] = set()
    for rule in inst.skip_rules:
        if all(by_name[name] == code for name, code in rule.when):
            for name in rule.skip:
                given = by_name[name]
                if given is None:
                    skipped.add(name)
                elif rule.if_answered == "flag" or given != 0:
                    inconsistent.add(name)
    return skipped, [item.ref for item in inst.items if item.name in inconsistent]


def inconsistency_notes(inst: Instrument, answers: Sequence[Answer]) -> list[str]:
    """One plain sentence per item answered although skip logic would have skipped it."""
    by_name = {item.name: answer for item, answer in zip(inst.items, answers, strict=False)}
    notes = []
    for rule in inst.skip_rules:
        if not all(by_name.get(name) == code for name, code in rule.when):
            continue
        when = " and ".join(_describe_answer(inst, n, code) for n, code in rule.when)
        for name in rule.skip:
            given = by_name.get(name)
            if given is None or (rule.if_answered == "flag_yes" and given == 0):
                continue
            item = inst.item_by_name(name)
            notes.append(
                f"item {item.ref} was answered {_label(item, given)} ({given}) although {when}, "
                "so the form would have skipped it; the answer is kept and scored"
            )
    return notes


def _label(item: Item, code: int) -> str:
    return next((option.label for option in item.options if option.code == code), str(code))


def _describe_answer(inst: Instrument, name: str, code: int) -> str:
    return f"{name} is {_label(inst.item_by_name(name), code)} ({code})"


# --------------------------------------------------------------------------- critical items


def _critical_items(
    inst: Instrument, answers: Sequence[Answer], skipped: set[str]
) -> tuple[list[ItemRef], list[ItemRef]]:
    """(endorsed, not assessed). Works on the answered code, independent of every other item."""
    endorsed: list[ItemRef] = []
    not_assessed: list[ItemRef] = []
    for item, answer in zip(inst.items, answers, strict=True):
        if item.critical is None:
            continue
        if answer is None:
            if item.name not in skipped:
                not_assessed.append(item.ref)
        elif item.critical.holds(answer):
            endorsed.append(item.ref)
    return endorsed, not_assessed


# --------------------------------------------------------------------------- totals and bands


def _item_scores(inst: Instrument, answers: Sequence[Answer]) -> list[int | None]:
    """Keyed score per scored item (reverse keying applied); None where unanswered."""
    return [
        None if answer is None else item.keyed(answer)
        for item, answer in zip(inst.items, answers, strict=True)
        if item.scored
    ]


def _exact_total(inst: Instrument, answers: Sequence[Answer]) -> tuple[Fraction | None, bool]:
    """(exact total, prorated?). None when the instrument has no total or too much is missing."""
    method = inst.scoring.method
    if method == "none":
        return None, False
    scores = _item_scores(inst, answers)
    answered = [s for s in scores if s is not None]
    missing = len(scores) - len(answered)
    if missing == 0:
        raw = sum(answered)
        if method == "sum_x4":
            return Fraction(4 * raw), False
        if method == "mean":
            return Fraction(raw, len(scores)), False
        return Fraction(raw), False
    if inst.proration and missing <= inst.proration.max_missing:
        return Fraction(sum(answered) * len(scores), len(answered)), True
    return None, False


def _raw_total(inst: Instrument, answers: Sequence[Answer]) -> int | None:
    scores = _item_scores(inst, answers)
    if inst.scoring.method == "none" or None in scores:
        return None
    return sum(s for s in scores if s is not None)


def _reported_total(inst: Instrument, exact: Fraction | None, prorated: bool) -> Number | None:
    if exact is None:
        return None
    if prorated and inst.proration:
        return round_half_up(exact, inst.proration.decimals)
    if inst.scoring.decimals is not None:
        return round_half_up(exact, inst.scoring.decimals)
    return int(exact)  # whole-number sums (and WHO-5's x4) stay integers


def round_half_up(value: Fraction, decimals: int) -> float:
    """Clinical rounding (2.345 -> 2.35), not Python's round-half-even."""
    with localcontext() as context:
        context.prec = 50
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _band(inst: Instrument, exact: Fraction | None) -> str | None:
    """Highest band whose lower edge the exact score reaches (see instruments.py)."""
    if exact is None:
        return None
    label = None
    for band in inst.bands:
        if band.reached_by(exact):
            label = band.label
    return label


def _positive_screen(
    inst: Instrument,
    exact: Fraction | None,
    answers: Sequence[Answer],
    skipped: set[str],
    sex: str | None,
) -> bool | None:
    screen = inst.positive_screen
    if screen is None:
        return None
    if screen.kind == "any_yes":
        if any(answer == 1 for answer in answers):
            return True
        complete = all(
            a is not None or i.name in skipped for i, a in zip(inst.items, answers, strict=True)
        )
        return False if complete else None
    if exact is None:
        return None
    rule = screen.rule_for(sex) if screen.kind == "threshold_by_sex" and sex else screen.rule
    return None if rule is None else rule.holds(exact)


def _subscales(inst: Instrument, answers: Sequence[Answer]) -> dict[str, Number | None]:
    """Subscale sums; a subscale with any missing item is null (no proration of subscales)."""
    by_number = {
        item.number: (item, answer) for item, answer in zip(inst.items, answers, strict=True)
    }
    result: dict[str, Number | None] = {}
    for subscale in inst.subscales:
        pairs = [by_number[number] for number in subscale.items]
        if any(answer is None for _, answer in pairs):
            result[subscale.name] = None
        else:
            result[subscale.name] = sum(item.keyed(a) for item, a in pairs if a is not None)
    return result


# --------------------------------------------------------------------------- C-SSRS risk


def _risk(
    inst: Instrument, answers: Sequence[Answer], skipped: set[str]
) -> tuple[str | None, list[ItemRef]]:
    """(first risk level from the top whose condition holds, items that leave it undetermined).

    Items left blank by skip logic count as "no" (the form skips them because the gate
    question was no); an answer given to a skipped item counts as given. A missing answer is
    unknown: if it could make a higher level apply, the level is not determined and risk is
    None, because reporting "moderate" when intent was never asked would understate risk. The
    second value names those missing items, so that they can be asked. Every yes is still
    reported as critical.
    """
    if inst.risk is None:
        return None, []
    known: dict[str, int | None] = {
        item.name: 0 if item.name in skipped else answer
        for item, answer in zip(inst.items, answers, strict=True)
    }
    for level in inst.risk.levels:
        state = _any_of(level.any_of, known)
        if state is None:
            return None, _undetermined_by(inst, level.any_of, known)
        if state:
            return level.level, []
    return inst.risk.default, []


def _undetermined_by(
    inst: Instrument,
    conditions: tuple[tuple[tuple[str, int], ...], ...],
    known: dict[str, int | None],
) -> list[ItemRef]:
    """Missing items in the conditions that could still hold."""
    names = {
        name
        for condition in conditions
        if _all_of(condition, known) is None
        for name, _ in condition
        if known[name] is None
    }
    return [item.ref for item in inst.items if item.name in names]


def _any_of(
    conditions: tuple[tuple[tuple[str, int], ...], ...], known: dict[str, int | None]
) -> bool | None:
    """Three-valued OR of AND-conditions: True, False, or None (depends on a missing answer)."""
    states = [_all_of(condition, known) for condition in conditions]
    if True in states:
        return True
    return None if None in states else False


def _all_of(condition: tuple[tuple[str, int], ...], known: dict[str, int | None]) -> bool | None:
    values = [(known[name], code) for name, code in condition]
    if any(value is not None and value != code for value, code in values):
        return False
    return None if any(value is None for value, _ in values) else True
