"""Clinical content the review asked for (issue 17 items 6 and 13): safety cautions, the limits
of confidentiality, and US English in the text people read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from openiop.curriculum.library import library
from openiop.curriculum.schema import SessionPlan

DATA = Path(__file__).resolve().parent.parent / "data"

# Keys whose values are identifiers, codes or citations rather than prose.
NOT_PROSE = {
    "schema",
    "code",
    "module",
    "plan_prefix",
    "version",
    "kind",
    "name",
    "type",
    "group_model",
    "sources",
    "licence",
    "choices",
}

# British spellings seen in drafts, with their US forms in mind; whole words only, so the
# canonical homework kind `behavioural_activation` (an identifier) is not prose and not matched.
BRITISH = re.compile(
    r"\b(practis(e|ed|es|ing)|behaviour(s|al)?|colour\w*|organis\w*|recognis\w*|realis(e|ed|es|ing)"
    r"|labelling|labelled|skilful|wilful\w*|\w+isation|judgements?|emphasis(e|ed|ing)"
    r"|normalis\w*|minimis\w*|stigmatis\w*|apologis\w*|prioritis\w*|summaris\w*|criticis(e|ed|ing)"
    r"|catastrophis\w*|centre|neighbour\w*|humour|favour\w*|honour\w*|counsell\w*|travell\w*"
    r"|modelling|programme|whilst|amongst|learnt|towards|analys(e|ed|ing))\b",
    re.IGNORECASE,
)


def prose(value: object, key: str | None = None) -> Iterator[str]:
    if key in NOT_PROSE:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from prose(item, key)
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from prose(item, k)


def test_curriculum_text_uses_us_english():
    found = []
    for path in sorted(DATA.glob("*/*.json")):
        for text in prose(json.loads(path.read_text(encoding="utf-8"))):
            found += [f"{path.name}: {m.group(0)!r}" for m in BRITISH.finditer(text)]
    assert found == []


def test_the_spelling_check_catches_british_forms():
    for word in ("practise", "behaviour", "organised", "colour", "labelling", "centre"):
        assert BRITISH.search(f"We {word} here"), word
    for word in ("practice", "behavior", "behavioural_activation", "exercise", "advise"):
        assert not BRITISH.search(f"We {word} here"), word


def everything(plan: SessionPlan) -> str:
    parts = [plan.title, *plan.objectives, plan.homework.title, plan.homework.instructions]
    parts += [f"{block.title}. {block.facilitator_notes}" for block in plan.agenda]
    return " ".join(parts)


def test_psy_01_names_every_limit_of_confidentiality():
    text = everything(library().plan("psy-01"))
    assert "one limit" not in text
    for limit in (
        "risk of harm to the person or to someone else",
        "abuse or neglect that staff must report",
        "medical emergency",
        "court order",
        "42 CFR Part 2",
        "not legally bound",
    ):
        assert limit in text, limit
    objectives = " ".join(library().plan("psy-01").objectives)
    assert "limits of confidentiality" in objectives


def test_tipp_cautions_cover_intoxication_withdrawal_and_heart_rate_medicine():
    plan = library().plan("dbt-dt-02")
    text = everything(plan)
    for caution in ("intoxicated", "withdrawal", "lowers heart rate", "beta-blocker"):
        assert caution in text, caution
    # The participant's own homework sheet carries the caution too, not only the facilitator.
    for caution in ("drinking or using", "withdrawal", "slows your heart"):
        assert caution in plan.homework.instructions, caution
