"""Rule packs: payer and level-of-care rules as versioned data, each rule citing its source."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RULE_PACK_DIR = Path(__file__).parent / "data" / "rule_packs"
REQUIRED_RULES = {"min_weekly_minutes", "max_weekly_minutes", "max_group_size"}


class RulePackError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    value: object
    text: str
    source: str


@dataclass(frozen=True)
class RulePack:
    code: str
    version: str
    name: str
    rules: dict[str, Rule]
    unverified: bool = False

    def min_weekly_minutes(self, population: str) -> int:
        value = self.rules["min_weekly_minutes"].value
        assert isinstance(value, dict)
        return int(value[population])

    def max_weekly_minutes(self, population: str) -> int:
        value = self.rules["max_weekly_minutes"].value
        assert isinstance(value, dict)
        return int(value[population])


def parse_rule_pack(raw: dict[str, object], source: str) -> RulePack:
    if raw.get("schema") != "openiop.rule-pack/1":
        raise RulePackError(f"{source}: schema must be 'openiop.rule-pack/1'")
    rules: dict[str, Rule] = {}
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list):
        raise RulePackError(f"{source}: rules must be a list")
    for index, item in enumerate(raw_rules):
        for key in ("id", "value", "text", "source"):
            if key not in item:
                raise RulePackError(f"{source}: rules[{index}].{key} is missing")
        rules[item["id"]] = Rule(item["id"], item["value"], item["text"], item["source"])
    missing = REQUIRED_RULES - set(rules)
    if missing:
        raise RulePackError(f"{source}: rules missing: {sorted(missing)}")
    return RulePack(
        code=str(raw["code"]),
        version=str(raw["version"]),
        name=str(raw["name"]),
        rules=rules,
        unverified=bool(raw.get("unverified", False)),
    )


@cache
def rule_packs() -> dict[str, RulePack]:
    packs: dict[str, RulePack] = {}
    for path in sorted(RULE_PACK_DIR.glob("*.json")):
        pack = parse_rule_pack(json.loads(path.read_text()), path.name)
        packs[pack.code] = pack
    return packs
