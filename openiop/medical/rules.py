"""Medical-risk rules (ASAM dimension 1): load and validate `data/medical_risk_rules.json`.

The rules are data with their citations, like the instruments (clinical.md section 3). The file
is read and validated when this module is imported, against the loaded instrument files, so a
rule that names an unknown instrument, item or code stops start-up instead of silently never
firing. Errors name the file and the field, e.g.
`medical_risk_rules.json: field 'rules[2].when.item': no item 'heavy_days' in bam`.

Two kinds of condition:

* `item`: the item's code compared with a value (`op` one of >=, >, <=, <, ==);
* `return_to_use`: the item was 0 on the participant's previous valid administration of the
  same instrument in the same episode and is above 0 now (use after abstinence: lost tolerance).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from openiop.measures.instruments import (
    _OPS,
    Instrument,
    InstrumentDataError,
    Rule,
    _Reader,
    all_instruments,
)

SCHEMA = "openiop.medical-risk-rules/1"
RULES_FILE = Path(__file__).resolve().parent / "data" / "medical_risk_rules.json"
RISKS: tuple[str, ...] = ("withdrawal", "overdose")
ACTIONS: tuple[str, ...] = ("medical_review", "naloxone_offer")

ConditionType = Literal["item", "return_to_use"]


@dataclass(frozen=True)
class Condition:
    type: ConditionType
    item: str
    rule: Rule | None = None  # for "item"


@dataclass(frozen=True)
class RiskRule:
    id: str
    risk: str
    instrument: str
    when: Condition
    prompt: str
    actions: tuple[str, ...]
    citations: tuple[str, ...]

    @property
    def offers_naloxone(self) -> bool:
        return "naloxone_offer" in self.actions


@dataclass(frozen=True)
class RuleSet:
    version: str
    citations: dict[str, str]
    rules: tuple[RiskRule, ...]

    def for_instrument(self, code: str) -> tuple[RiskRule, ...]:
        return tuple(rule for rule in self.rules if rule.instrument == code)

    def get(self, rule_id: str) -> RiskRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


def load_rules(path: Path = RULES_FILE) -> RuleSet:
    """Parse and validate the rules file; raises InstrumentDataError naming the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstrumentDataError(path.name, "", f"cannot read JSON: {exc}") from exc
    root = _Reader(data, "", path.name)
    if root.text("schema") != SCHEMA:
        root.fail(f"expected '{SCHEMA}'", "schema")
    version = root.text("version")
    root.raw("notes", required=False)
    citations = _citations(root.child("citations"))
    instruments = {inst.code: inst for inst in all_instruments()}
    rules = tuple(_rule(c, instruments, citations) for c in root.children("rules"))
    if not rules:
        root.fail("needs at least one rule", "rules")
    ids = [rule.id for rule in rules]
    for index, rule_id in enumerate(ids):
        if ids.count(rule_id) > 1:
            root.fail(f"duplicate rule id '{rule_id}'", f"rules[{index}].id")
    root.finish()
    return RuleSet(version=version, citations=citations, rules=rules)


def _citations(r: _Reader) -> dict[str, str]:
    citations = {key: r.text(key) for key in list(r.data)}
    if not citations:
        r.fail("needs at least one citation")
    r.finish()
    return citations


def _rule(r: _Reader, instruments: dict[str, Instrument], citations: dict[str, str]) -> RiskRule:
    code = r.text("instrument")
    instrument = instruments.get(code)
    if instrument is None:
        known = ", ".join(sorted(instruments))
        r.fail(f"unknown instrument '{code}' (known: {known})", "instrument")
    risk = r.text("risk")
    if risk not in RISKS:
        r.fail(f"'{risk}' is not one of {', '.join(RISKS)}", "risk")
    actions = _names(r, "actions", ACTIONS)
    if "medical_review" not in actions:
        r.fail("every rule prompts a medical review: include 'medical_review'", "actions")
    cited = tuple(r.items_of("citations"))
    for index, key in enumerate(cited):
        if key not in citations:
            r.fail(f"'{key}' is not a key of the top-level citations", f"citations[{index}]")
    if not cited:
        r.fail("cite at least one source", "citations")
    rule = RiskRule(
        id=r.text("id"),
        risk=risk,
        instrument=code,
        when=_condition(r.child("when"), instrument),
        prompt=r.text("prompt"),
        actions=actions,
        citations=cited,
    )
    r.finish()
    return rule


def _names(r: _Reader, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = r.items_of(key)
    for index, value in enumerate(values):
        if value not in allowed:
            r.fail(f"{value!r} is not one of {', '.join(allowed)}", f"{key}[{index}]")
    return tuple(values)


def _condition(r: _Reader, instrument: Instrument) -> Condition:
    kind = r.text("type")
    name = r.text("item")
    item = next((i for i in instrument.items if i.name == name), None)
    if item is None:
        names = ", ".join(i.name for i in instrument.items)
        r.fail(f"no item '{name}' in {instrument.code} (items: {names})", "item")
    if kind == "return_to_use":
        if 0 not in item.codes:
            r.fail(f"'{name}' has no code 0 to return from", "item")
        return _finish(r, Condition(type="return_to_use", item=name))
    if kind != "item":
        r.fail(f"'{kind}' is not one of item, return_to_use", "type")
    op = r.text("op")
    if op not in _OPS:
        r.fail(f"'{op}' is not one of {', '.join(_OPS)}", "op")
    rule = Rule(op=op, value=r.number("value"))
    if not any(rule.holds(code) for code in item.codes):
        r.fail(f"no code of '{name}' ({item.codes}) satisfies {op} {rule.value}", "value")
    return _finish(r, Condition(type="item", item=name, rule=rule))


def _finish(r: _Reader, condition: Condition) -> Condition:
    r.finish()
    return condition


# Loaded at import: a rule naming a missing item must stop start-up, not fail to fire.
RULES: RuleSet = load_rules()
