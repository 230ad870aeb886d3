"""Instrument definitions: load, validate and look up `data/instruments/*.json`.

Every fact about an instrument (items, codes, keying, bands, cutoffs, critical items, licence,
citation) lives in its data file, never in code (clinical.md section 3). The files are read and
validated when this module is imported so that a broken file stops the process at start-up
instead of mis-scoring a real person later. Validation is strict: unknown fields are errors
(a typo such as `"revers_keyed"` would otherwise be silently ignored) and every error names the
file and a JSON-path-like field, e.g. `phq9.json: field 'items[8].critical.value': ...`.

Numbers from the files are held as `Fraction`s (floats are parsed as decimals first) so that band
edges such as BRS 4.30 compare exactly.

Band matching uses the *lower edge*: a score belongs to the highest band whose `min` it reaches
(strictly above `min` when `min_exclusive`). `max` is the published upper edge, kept for display
and checked for consistency. This matters only for fractional scores, e.g. a prorated CORE-10
total of 5.6 lies between "0-5 healthy" and "6-10 low" and stays "healthy", in line with the
positive screen starting at exactly 11.

Band labels are the labels of the clinical.md table lower-cased and otherwise unchanged (e.g.
"moderately severe", AUDIT "zone i".."zone iv"); the loader rejects labels that are not lower case.
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

SCHEMA = "openiop.instrument/1"
DATA_DIR = Path(__file__).resolve().parent / "data" / "instruments"
DISABLE_NONCOMMERCIAL_ENV = "OPENIOP_DISABLE_NONCOMMERCIAL"
SEXES: tuple[str, ...] = ("female", "male")
SCORING_METHODS: tuple[str, ...] = ("sum", "mean", "sum_x4", "none")

_OPS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_CODE_RE = re.compile(r"^[a-z0-9]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
_LOINC_RE = re.compile(r"^(\d{1,7})-(\d)$")

ItemRef = int | str
_T = TypeVar("_T")


class InstrumentDataError(ValueError):
    """A malformed instrument file; the message names the file and the field."""

    def __init__(self, file: str, field_path: str, message: str) -> None:
        where = f"field '{field_path}'" if field_path else "top level"
        super().__init__(f"{file}: {where}: {message}")
        self.file = file
        self.field_path = field_path


class UnknownInstrumentError(LookupError):
    def __init__(self, code: str) -> None:
        known = ", ".join(sorted(_REGISTRY))
        super().__init__(f"unknown instrument '{code}' (known: {known})")
        self.code = code


class InstrumentDisabledError(RuntimeError):
    def __init__(self, instrument: Instrument) -> None:
        super().__init__(
            f"{instrument.code} is disabled by licence: {instrument.name} is licensed for "
            f"non-commercial use only and this deployment sets {DISABLE_NONCOMMERCIAL_ENV}=1"
        )
        self.code = instrument.code


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Rule:
    """A comparison against a fixed value, e.g. `>= 10` (critical items, screens)."""

    op: str
    value: Fraction

    def holds(self, score: Fraction | int) -> bool:
        return _OPS[self.op](Fraction(score), self.value)


@dataclass(frozen=True)
class Option:
    code: int
    label: str


@dataclass(frozen=True)
class Item:
    number: int
    name: str
    ref: ItemRef  # how results and messages refer to the item (number, or name for C-SSRS)
    label: str
    options: tuple[Option, ...]
    reverse_keyed: bool
    critical: Rule | None
    critical_action: str | None
    scored: bool = True
    loinc: str | None = None
    note: str | None = None
    sub_items: tuple[tuple[str, str], ...] = ()

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(option.code for option in self.options)

    def keyed(self, code: int) -> int:
        """The item score: reverse-keyed items map the code range onto itself (4 - x for 0-4)."""
        if not self.reverse_keyed:
            return code
        return min(self.codes) + max(self.codes) - code


@dataclass(frozen=True)
class Band:
    label: str
    min: Fraction
    max: Fraction
    min_exclusive: bool = False
    max_exclusive: bool = False

    def reached_by(self, score: Fraction) -> bool:
        return score > self.min if self.min_exclusive else score >= self.min


@dataclass(frozen=True)
class PositiveScreen:
    kind: Literal["threshold", "threshold_by_sex", "any_yes"]
    rule: Rule | None = None
    by_sex: tuple[tuple[str, Rule], ...] = ()
    meaning: str | None = None

    def rule_for(self, sex: str) -> Rule:
        return dict(self.by_sex)[sex]


@dataclass(frozen=True)
class Subscale:
    name: str
    label: str
    items: tuple[int, ...]
    higher_is_better: bool | None = None


@dataclass(frozen=True)
class Scoring:
    method: str
    min: Fraction | None
    max: Fraction | None
    decimals: int | None


@dataclass(frozen=True)
class Proration:
    max_missing: int
    decimals: int


@dataclass(frozen=True)
class ReliableChangeParams:
    threshold: Fraction
    cutoff: Fraction
    source: str


@dataclass(frozen=True)
class SkipRule:
    when: tuple[tuple[str, int], ...]
    skip: tuple[str, ...]
    # What an answer to a skipped item does: it is always kept and scored (clinical.md
    # section 3); "flag" marks any answer inconsistent, "flag_yes" only one that is not 0.
    if_answered: Literal["flag", "flag_yes"]


@dataclass(frozen=True)
class RiskLevel:
    level: str
    any_of: tuple[tuple[tuple[str, int], ...], ...]


@dataclass(frozen=True)
class RiskRule:
    levels: tuple[RiskLevel, ...]
    default: str


@dataclass(frozen=True)
class Licence:
    id: str
    text: str
    commercial_use_allowed: bool
    modification_allowed: bool
    # The copyright line a licence requires wherever the measure is shown (CORE-10, CC BY-NC-ND).
    copyright: str | None = None


@dataclass(frozen=True)
class RecallWindow:
    text: str
    days: int | None


@dataclass(frozen=True)
class Unverified:
    field: str
    note: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    citation: str
    licence: Licence
    recall_window: RecallWindow | None
    administration: str | None
    item_ref: Literal["number", "name"]
    items: tuple[Item, ...]
    scoring: Scoring
    proration: Proration | None
    bands: tuple[Band, ...]
    positive_screen: PositiveScreen | None
    subscales: tuple[Subscale, ...]
    higher_is_better: bool | None
    loinc_panel: str | None
    loinc_total: str | None
    reliable_change: ReliableChangeParams | None
    skip_rules: tuple[SkipRule, ...] = ()
    risk: RiskRule | None = None
    unverified: tuple[Unverified, ...] = ()
    notes: tuple[str, ...] = ()
    source_file: str = field(default="", compare=False)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    @property
    def needs_sex(self) -> bool:
        screen = self.positive_screen
        return screen is not None and screen.kind == "threshold_by_sex"

    def item_by_name(self, name: str) -> Item:
        return next(item for item in self.items if item.name == name)


# --------------------------------------------------------------------------- strict reader


class _Reader:
    """Typed access to one JSON object that remembers its path and rejects unknown keys."""

    def __init__(self, data: Any, path: str, file: str) -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            self.fail(f"expected an object, got {_describe(data)}")
        self.data: dict[str, Any] = data
        self._seen: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        raise InstrumentDataError(self.file, self.at(key) if key else self.path, message)

    def raw(self, key: str, *, required: bool = True) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                self.fail("is required", key)
            return None
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"expected a non-empty string, got {_describe(value)}", key)
        return value

    def opt_text(self, key: str) -> str | None:
        return None if self.raw(key, required=False) is None else self.text(key)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self.raw(key, required=default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {_describe(value)}", key)
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self.raw(key)
        return None if value is None else self.flag(key)

    def integer(self, key: str) -> int:
        return _as_int(self.raw(key), self, key)

    def number(self, key: str) -> Fraction:
        return _as_number(self.raw(key), self, key)

    def child(self, key: str) -> _Reader:
        return _Reader(self.raw(key), self.at(key), self.file)

    def opt_child(self, key: str, *, required: bool = True) -> _Reader | None:
        value = self.raw(key, required=required)
        return None if value is None else self.child(key)

    def items_of(self, key: str) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            self.fail(f"expected a list, got {_describe(value)}", key)
        return value

    def children(self, key: str) -> Iterator[_Reader]:
        for index, value in enumerate(self.items_of(key)):
            yield _Reader(value, f"{self.at(key)}[{index}]", self.file)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            self.fail(f"unknown field (allowed: {', '.join(sorted(self._seen))})", unknown[0])


def _done(r: _Reader, value: _T) -> _T:
    """Return `value` once `r` has been checked for unknown keys (parsers end with this)."""
    r.finish()
    return value


def _describe(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"


def _as_int(value: Any, reader: _Reader, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    reader.fail(f"expected a whole number, got {_describe(value)}", key)


def _as_number(value: Any, reader: _Reader, key: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        reader.fail(f"expected a number, got {_describe(value)}", key)
    return Fraction(value)


# --------------------------------------------------------------------------- parsing


def load_instrument_file(path: Path) -> Instrument:
    """Parse and validate one instrument file; raises InstrumentDataError naming the field."""
    try:
        # Decimal keeps 4.30 exact; json's float would make 4.3 a binary approximation.
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstrumentDataError(path.name, "", f"cannot read JSON: {exc}") from exc
    root = _Reader(data, "", path.name)
    instrument = _parse_instrument(root, path)
    root.finish()
    _check_instrument(instrument, root)
    return instrument


def _parse_instrument(r: _Reader, path: Path) -> Instrument:
    if r.text("schema") != SCHEMA:
        r.fail(f"expected '{SCHEMA}'", "schema")
    code = r.text("code")
    if code != path.stem or not _CODE_RE.match(code):
        r.fail(f"'{code}' must be lower-case letters/digits and match the file name", "code")
    item_ref = r.text("item_ref")
    if item_ref not in ("number", "name"):
        r.fail("expected 'number' or 'name'", "item_ref")
    option_sets = _parse_option_sets(r.child("option_sets"))
    used_sets: set[str] = set()
    items = tuple(_parse_item(c, option_sets, item_ref, used_sets) for c in r.children("items"))
    for name in option_sets:
        if name not in used_sets:
            r.fail("option set is not used by any item", f"option_sets.{name}")
    loinc = r.child("loinc")
    instrument = Instrument(
        code=code,
        name=r.text("name"),
        version=r.text("version"),
        citation=r.text("citation"),
        licence=_parse_licence(r.child("licence")),
        recall_window=_parse_recall(r.opt_child("recall_window")),
        administration=r.opt_text("administration"),
        item_ref="name" if item_ref == "name" else "number",
        items=items,
        scoring=_parse_scoring(r.child("scoring")),
        proration=_parse_proration(r.opt_child("proration")),
        bands=tuple(_parse_band(c) for c in r.children("bands")),
        positive_screen=_parse_screen(r.opt_child("positive_screen")),
        subscales=tuple(_parse_subscale(c) for c in r.children("subscales")),
        higher_is_better=r.opt_flag("higher_is_better"),
        loinc_panel=_loinc(loinc, "panel"),
        loinc_total=_loinc(loinc, "total"),
        reliable_change=_parse_reliable_change(r.opt_child("reliable_change")),
        skip_rules=tuple(_parse_skip(c) for c in _optional_children(r, "skip_rules")),
        risk=_parse_risk(r.opt_child("risk", required=False)),
        unverified=tuple(_parse_unverified(c) for c in r.children("unverified")),
        notes=tuple(_text_list(r, "notes")),
        source_file=path.name,
    )
    loinc.finish()
    return instrument


def _optional_children(r: _Reader, key: str) -> Iterator[_Reader]:
    if r.raw(key, required=False) is None:
        return iter(())
    return r.children(key)


def _text_list(r: _Reader, key: str) -> list[str]:
    values = r.items_of(key)
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            r.fail(f"expected a non-empty string, got {_describe(value)}", f"{key}[{index}]")
    return values


def _parse_option_sets(r: _Reader) -> dict[str, tuple[Option, ...]]:
    sets: dict[str, tuple[Option, ...]] = {}
    for name in list(r.data):
        options = tuple(_parse_option(c) for c in r.children(name))
        codes = [option.code for option in options]
        if not options or len(set(codes)) != len(codes) or codes != sorted(codes):
            r.fail("needs at least one option, with unique codes in ascending order", name)
        sets[name] = options
    r.finish()
    return sets


def _parse_option(r: _Reader) -> Option:
    return _done(r, Option(code=r.integer("code"), label=r.text("label")))


def _parse_item(
    r: _Reader, option_sets: dict[str, tuple[Option, ...]], item_ref: str, used_sets: set[str]
) -> Item:
    number, name = r.integer("number"), r.text("name")
    if not _NAME_RE.match(name):
        r.fail("use letters, digits and underscores only", "name")
    set_name = r.text("options")
    if set_name not in option_sets:
        r.fail(f"unknown option set '{set_name}'", "options")
    used_sets.add(set_name)
    critical = r.opt_child("critical")
    item = Item(
        number=number,
        name=name,
        ref=name if item_ref == "name" else number,
        label=r.text("label"),
        options=option_sets[set_name],
        reverse_keyed=r.flag("reverse_keyed"),
        critical=_parse_rule(critical) if critical else None,
        critical_action=critical.text("action") if critical else None,
        scored=r.flag("scored", default=True),
        loinc=_loinc(r, "loinc", required=False),
        note=r.opt_text("note"),
        sub_items=tuple(_parse_sub_item(c) for c in _optional_children(r, "sub_items")),
    )
    if critical:
        critical.finish()
    r.finish()
    return item


def _parse_sub_item(r: _Reader) -> tuple[str, str]:
    return _done(r, (r.text("name"), r.text("label")))


def _parse_rule(r: _Reader) -> Rule:
    op = r.text("op")
    if op not in _OPS:
        r.fail(f"'{op}' is not one of {', '.join(_OPS)}", "op")
    return Rule(op=op, value=r.number("value"))


def _parse_licence(r: _Reader) -> Licence:
    return _done(
        r,
        Licence(
            id=r.text("id"),
            text=r.text("text"),
            commercial_use_allowed=r.flag("commercial_use_allowed"),
            modification_allowed=r.flag("modification_allowed"),
            copyright=r.opt_text("copyright"),
        ),
    )


def _parse_recall(r: _Reader | None) -> RecallWindow | None:
    if r is None:
        return None
    days = None if r.raw("days") is None else r.integer("days")
    return _done(r, RecallWindow(text=r.text("text"), days=days))


def _parse_scoring(r: _Reader) -> Scoring:
    method = r.text("method")
    if method not in SCORING_METHODS:
        r.fail(f"'{method}' is not one of {', '.join(SCORING_METHODS)}", "method")
    span = r.opt_child("range")
    decimals = r.raw("decimals")
    scoring = Scoring(
        method=method,
        min=span.number("min") if span else None,
        max=span.number("max") if span else None,
        decimals=None if decimals is None else r.integer("decimals"),
    )
    if span:
        span.finish()
    r.finish()
    return scoring


def _parse_proration(r: _Reader | None) -> Proration | None:
    if r is None:
        return None
    r.opt_text("note")
    return _done(r, Proration(max_missing=r.integer("max_missing"), decimals=r.integer("decimals")))


def _parse_band(r: _Reader) -> Band:
    return _done(
        r,
        Band(
            label=r.text("label"),
            min=r.number("min"),
            max=r.number("max"),
            min_exclusive=r.flag("min_exclusive", default=False),
            max_exclusive=r.flag("max_exclusive", default=False),
        ),
    )


def _parse_screen(r: _Reader | None) -> PositiveScreen | None:
    if r is None:
        return None
    kind = r.text("type")
    meaning = r.opt_text("meaning")
    screen: PositiveScreen
    if kind == "threshold":
        screen = PositiveScreen(kind="threshold", rule=_parse_rule(r), meaning=meaning)
    elif kind == "threshold_by_sex":
        by_sex = _parse_by_sex(r.child("by_sex"))
        screen = PositiveScreen(kind="threshold_by_sex", by_sex=by_sex, meaning=meaning)
    elif kind == "any_yes":
        screen = PositiveScreen(kind="any_yes", meaning=meaning)
    else:
        r.fail(f"'{kind}' is not one of threshold, threshold_by_sex, any_yes", "type")
    r.finish()
    return screen


def _parse_by_sex(r: _Reader) -> tuple[tuple[str, Rule], ...]:
    if sorted(r.data) != sorted(SEXES):
        r.fail(f"needs exactly the keys {', '.join(SEXES)}")
    rules = []
    for sex in SEXES:
        child = r.child(sex)
        rules.append((sex, _parse_rule(child)))
        child.finish()
    r.finish()
    return tuple(rules)


def _parse_subscale(r: _Reader) -> Subscale:
    numbers = r.items_of("items")
    subscale = Subscale(
        name=r.text("name"),
        label=r.text("label"),
        items=tuple(_as_int(n, r, f"items[{i}]") for i, n in enumerate(numbers)),
        higher_is_better=r.opt_flag("higher_is_better") if "higher_is_better" in r.data else None,
    )
    r.finish()
    return subscale


def _loinc(r: _Reader, key: str, *, required: bool = True) -> str | None:
    value = r.raw(key, required=required)
    if value is None:
        return None
    match = _LOINC_RE.match(value) if isinstance(value, str) else None
    if match is None or _loinc_check_digit(match.group(1)) != int(match.group(2)):
        r.fail(f"{value!r} is not a LOINC code with a valid check digit", key)
    return str(value)


def _loinc_check_digit(body: str) -> int:
    """LOINC's mod-10 check digit: double every other digit from the right, sum the digits."""
    digits = body[::-1]
    doubled = "".join(str(int(d) * 2) for d in digits[0::2])
    total = sum(int(d) for d in doubled + digits[1::2])
    return (10 - total % 10) % 10


def _parse_reliable_change(r: _Reader | None) -> ReliableChangeParams | None:
    if r is None:
        return None
    params = ReliableChangeParams(
        threshold=r.number("threshold"), cutoff=r.number("cutoff"), source=r.text("source")
    )
    if params.threshold <= 0:
        r.fail("must be greater than 0", "threshold")
    r.finish()
    return params


def _read_pairs(r: _Reader) -> tuple[tuple[str, int], ...]:
    """An object of item name -> code, e.g. {"q6": 1, "q6r": 0}."""
    if not r.data:
        r.fail("needs at least one item")
    return _done(r, tuple((name, r.integer(name)) for name in list(r.data)))


def _parse_skip(r: _Reader) -> SkipRule:
    policy = r.text("if_answered")
    if policy not in ("flag", "flag_yes"):
        r.fail("expected 'flag' or 'flag_yes' (answers to skipped items are kept)", "if_answered")
    names = _text_list(r, "skip")
    rule = SkipRule(
        when=_read_pairs(r.child("when")),
        skip=tuple(names),
        if_answered="flag" if policy == "flag" else "flag_yes",
    )
    r.opt_text("note")
    r.finish()
    return rule


def _parse_risk(r: _Reader | None) -> RiskRule | None:
    if r is None:
        return None
    levels = []
    for level in r.children("levels"):
        conditions = [_read_pairs(c) for c in level.children("any_of")]
        levels.append(RiskLevel(level=level.text("level"), any_of=tuple(conditions)))
        level.finish()
    rule = RiskRule(levels=tuple(levels), default=r.text("default"))
    r.opt_text("note")
    r.finish()
    return rule


def _parse_unverified(r: _Reader) -> Unverified:
    return _done(r, Unverified(field=r.text("field"), note=r.text("note")))


# --------------------------------------------------------------------------- cross-field checks


def _check_instrument(inst: Instrument, r: _Reader) -> None:
    _check_items(inst, r)
    _check_range(inst, r)
    _check_bands(inst, r)
    _check_screen(inst, r)
    _check_subscales(inst, r)
    _check_conditions(inst, r)
    _check_reliable_change(inst, r)
    for index, marker in enumerate(inst.unverified):
        if marker.field.split(".")[0] not in r.data:
            r.fail(f"'{marker.field}' is not a field of this file", f"unverified[{index}].field")


def _check_reliable_change(inst: Instrument, r: _Reader) -> None:
    rc, low, high = inst.reliable_change, inst.scoring.min, inst.scoring.max
    if rc and (low is None or high is None or not low <= rc.cutoff <= high):
        r.fail("cutoff must lie within the scoring range", "reliable_change.cutoff")


def _check_items(inst: Instrument, r: _Reader) -> None:
    if not inst.items:
        r.fail("needs at least one item", "items")
    names = [item.name for item in inst.items]
    for index, item in enumerate(inst.items):
        if item.number != index + 1:
            r.fail(f"expected {index + 1} (items are numbered in order)", f"items[{index}].number")
        if names.count(item.name) > 1:
            r.fail(f"duplicate item name '{item.name}'", f"items[{index}].name")
        if item.critical and item.critical_action != "safety_workflow":
            r.fail("the only action is 'safety_workflow'", f"items[{index}].critical.action")


def _expected_range(inst: Instrument) -> tuple[Fraction, Fraction] | None:
    items = inst.scored_items
    low = sum((Fraction(min(i.codes)) for i in items), Fraction(0))
    high = sum((Fraction(max(i.codes)) for i in items), Fraction(0))
    if inst.scoring.method == "sum":
        return low, high
    if inst.scoring.method == "sum_x4":
        return 4 * low, 4 * high
    if inst.scoring.method == "mean":
        return low / len(items), high / len(items)
    return None


def _check_range(inst: Instrument, r: _Reader) -> None:
    scoring = inst.scoring
    expected = _expected_range(inst)
    declared = None if scoring.min is None or scoring.max is None else (scoring.min, scoring.max)
    if declared != expected:
        shown = "null" if expected is None else f"{expected[0]}-{expected[1]}"
        r.fail(f"does not match the items' codes (expected {shown})", "scoring.range")
    if scoring.method == "mean" and scoring.decimals is None:
        r.fail("a mean needs the number of decimals to report", "scoring.decimals")
    proration = inst.proration
    if proration and (scoring.method != "sum" or not 0 < proration.max_missing < len(inst.items)):
        r.fail("proration needs a summed total and 0 < max_missing < item count", "proration")


def _check_bands(inst: Instrument, r: _Reader) -> None:
    bands = inst.bands
    if not bands:
        return
    if inst.scoring.min is None:
        r.fail("bands need a total score", "bands")
    first, last = bands[0], bands[-1]
    if first.min != inst.scoring.min or first.min_exclusive or last.max != inst.scoring.max:
        r.fail("bands must start at the scoring range's min and end at its max", "bands")
    for index, band in enumerate(bands):
        where = f"bands[{index}]"
        if band.label != band.label.lower() or [b.label for b in bands].count(band.label) > 1:
            r.fail(f"'{band.label}' must be lower case and unique", f"{where}.label")
        if band.min > band.max:
            r.fail("min is above max", where)
        if index and not _bands_follow(bands[index - 1], band, inst.scoring.method):
            r.fail("overlaps, leaves a gap or is out of order with the band before it", where)


def _bands_follow(previous: Band, band: Band, method: str) -> bool:
    """Bands touch (one side exclusive) or, for whole-number sums, leave no whole number out."""
    if previous.max == band.min:
        return previous.max_exclusive != band.min_exclusive
    whole = previous.max.denominator == 1 and band.min.denominator == 1
    return method == "sum" and whole and band.min - previous.max == 1


def _check_screen(inst: Instrument, r: _Reader) -> None:
    screen = inst.positive_screen
    if screen is None:
        return
    if screen.kind == "any_yes":
        if any(set(item.codes) != {0, 1} for item in inst.items):
            r.fail("'any_yes' needs yes/no items (codes 0 and 1)", "positive_screen")
    elif inst.scoring.method == "none":
        r.fail("a threshold screen needs a total score", "positive_screen")


def _check_subscales(inst: Instrument, r: _Reader) -> None:
    scored = {item.number for item in inst.scored_items}
    names = [s.name for s in inst.subscales]
    for index, subscale in enumerate(inst.subscales):
        if names.count(subscale.name) > 1:
            r.fail(f"duplicate subscale '{subscale.name}'", f"subscales[{index}].name")
        bad = [n for n in subscale.items if n not in scored]
        if not subscale.items or bad or len(set(subscale.items)) != len(subscale.items):
            r.fail(
                f"items must be distinct scored item numbers (bad: {bad})", f"subscales[{index}]"
            )


def _check_conditions(inst: Instrument, r: _Reader) -> None:
    """Skip and risk rules may only name existing items and their valid codes."""
    codes = {item.name: set(item.codes) for item in inst.items}
    for index, rule in enumerate(inst.skip_rules):
        _check_pairs(rule.when, codes, r, f"skip_rules[{index}].when")
        if any(name not in codes for name in rule.skip):
            r.fail("names an unknown item", f"skip_rules[{index}].skip")
    if inst.risk:
        for index, level in enumerate(inst.risk.levels):
            for cond_index, condition in enumerate(level.any_of):
                where = f"risk.levels[{index}].any_of[{cond_index}]"
                _check_pairs(condition, codes, r, where)


def _check_pairs(
    pairs: tuple[tuple[str, int], ...], codes: dict[str, set[int]], r: _Reader, where: str
) -> None:
    for name, code in pairs:
        if code not in codes.get(name, set()):
            r.fail(f"'{name}' = {code} is not an item with that code", where)


# --------------------------------------------------------------------------- registry


def load_instruments(directory: Path = DATA_DIR) -> dict[str, Instrument]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise InstrumentDataError(str(directory), "", "no instrument files found")
    instruments = [load_instrument_file(path) for path in files]
    return {instrument.code: instrument for instrument in instruments}


def noncommercial_disabled() -> bool:
    """Read at every call so that a deployment (or a test) can flip it without re-importing."""
    value = os.environ.get(DISABLE_NONCOMMERCIAL_ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def is_enabled(instrument: Instrument) -> bool:
    return instrument.licence.commercial_use_allowed or not noncommercial_disabled()


def all_instruments() -> tuple[Instrument, ...]:
    """Every loaded instrument, enabled or not (the UI shows disabled ones as such)."""
    return tuple(_REGISTRY.values())


def get_instrument(code: str) -> Instrument:
    """The enabled instrument `code`; raises UnknownInstrumentError or InstrumentDisabledError."""
    instrument = _REGISTRY.get(code)
    if instrument is None:
        raise UnknownInstrumentError(code)
    if not is_enabled(instrument):
        raise InstrumentDisabledError(instrument)
    return instrument


# Loaded at import: a malformed file must stop start-up, not surface at the first scoring.
_REGISTRY: dict[str, Instrument] = load_instruments()
