"""Every validation rule rejects a deliberately broken copy of the data and names the field."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openiop.curriculum.library import (
    DATA_DIR,
    CurriculumError,
    load_library,
    validate_program_plan,
)

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    return root


def edit(root: Path, relative: str, mutate: Mutation) -> None:
    path = root / relative
    doc = json.loads(path.read_text(encoding="utf-8"))
    mutate(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def first_plan(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["plans"][0]


def set_key(target: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target(doc)[key] = value

    return mutate


def swap_first_blocks(doc: dict[str, Any]) -> None:
    agenda = first_plan(doc)["agenda"]
    agenda[0], agenda[1] = agenda[1], agenda[0]


def move_check_out(doc: dict[str, Any]) -> None:
    agenda = first_plan(doc)["agenda"]
    agenda.insert(1, agenda.pop())


def shorten_block(doc: dict[str, Any]) -> None:
    doc["plans"][2]["agenda"][1]["minutes"] -= 5


def steal_cbt_codes(doc: dict[str, Any]) -> None:
    doc["plan_prefix"] = "cbt"
    for plan in doc["plans"]:
        plan["code"] = plan["code"].replace("comm-", "cbt-")


def rename_homework_field(doc: dict[str, Any]) -> None:
    doc["plans"][3]["homework"]["fields"][0]["name"] = "where"


def retype_homework_field(doc: dict[str, Any]) -> None:
    doc["plans"][3]["homework"]["fields"][2]["type"] = "number_0_10"


def drop_scenarios(doc: dict[str, Any]) -> None:
    first_plan(doc)["role_play_scenarios"] = []


def scenario_skill(doc: dict[str, Any]) -> None:
    first_plan(doc)["role_play_scenarios"][0]["skill"] = "juggling"


def unknown_week_plan(doc: dict[str, Any]) -> None:
    doc["weeks"][0]["plans"][0] = "nope-01"


def skip_week(doc: dict[str, Any]) -> None:
    del doc["weeks"][1]


def drop_title(doc: dict[str, Any]) -> None:
    del first_plan(doc)["title"]


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "schema tag",
        "modules/cbt.json",
        set_key(lambda d: d, "schema", "openiop.curriculum/0"),
        "cbt.json: schema: must be 'openiop.curriculum/1'",
    ),
    (
        "semver",
        "modules/cbt.json",
        set_key(lambda d: d, "version", "1.0"),
        "cbt.json: version: '1.0' is not a semantic version",
    ),
    (
        "licence",
        "modules/cbt.json",
        set_key(lambda d: d, "licence", "all rights reserved"),
        "cbt.json: licence: must state the CC BY 4.0",
    ),
    (
        "minutes sum",
        "modules/cbt.json",
        shorten_block,
        "cbt.json: plans[2].agenda: minutes sum to 85, duration_minutes is 90",
    ),
    (
        "check_in first",
        "modules/cbt.json",
        swap_first_blocks,
        "cbt.json: plans[0].agenda[0].kind: the first block must be check_in",
    ),
    (
        "check_out last",
        "modules/cbt.json",
        move_check_out,
        "cbt.json: plans[0].agenda[4].kind: the last block must be check_out, got peer_feedback",
    ),
    (
        "group model enum",
        "modules/cbt.json",
        set_key(first_plan, "group_model", "therapy"),
        "cbt.json: plans[0].group_model: 'therapy' is not one of",
    ),
    (
        "block kind enum",
        "modules/cbt.json",
        set_key(lambda d: first_plan(d)["agenda"][1], "kind", "lecture"),
        "cbt.json: plans[0].agenda[1].kind: 'lecture' is not one of",
    ),
    (
        "objectives count",
        "modules/cbt.json",
        set_key(first_plan, "objectives", ["Participants will be able to breathe"]),
        "cbt.json: plans[0].objectives: must have 2–4 items, has 1",
    ),
    (
        "objective phrasing",
        "modules/cbt.json",
        set_key(first_plan, "objectives", ["Learn thoughts", "Participants will be able to x"]),
        "cbt.json: plans[0].objectives[0]: must start with 'Participants will be able to'",
    ),
    (
        "notes length",
        "modules/cbt.json",
        set_key(lambda d: first_plan(d)["agenda"][1], "facilitator_notes", "Teach it."),
        "cbt.json: plans[0].agenda[1].facilitator_notes: must be 2–4 sentences, found 1",
    ),
    (
        "homework kind",
        "modules/cbt.json",
        set_key(lambda d: first_plan(d)["homework"], "kind", "essay"),
        "cbt.json: plans[0].homework.kind: 'essay' is not one of",
    ),
    (
        "homework field name",
        "modules/cbt.json",
        rename_homework_field,
        "cbt.json: plans[3].homework.fields[0]: expected situation (text), got where (text)",
    ),
    (
        "homework field type",
        "modules/cbt.json",
        retype_homework_field,
        "cbt.json: plans[3].homework.fields[2]: expected mood_intensity (number_0_100)",
    ),
    (
        "sequence order",
        "modules/cbt.json",
        set_key(first_plan, "sequence", 2),
        "cbt.json: plans[0].sequence: is 2, expected 1 from file order",
    ),
    (
        "code matches prefix",
        "modules/cbt.json",
        set_key(first_plan, "code", "cbt-99"),
        "cbt.json: plans[0].code: is 'cbt-99', expected 'cbt-01'",
    ),
    (
        "unknown key",
        "modules/cbt.json",
        set_key(first_plan, "durration", 60),
        "cbt.json: plans[0].durration: is not a known field",
    ),
    ("missing key", "modules/cbt.json", drop_title, "cbt.json: plans[0].title: is missing"),
    (
        "unique codes",
        "modules/communication.json",
        steal_cbt_codes,
        "communication.json: plans[0].code: 'cbt-01' is already used in cbt.json",
    ),
    (
        "role-play needs scenarios",
        "modules/communication.json",
        drop_scenarios,
        "communication.json: plans[0].role_play_scenarios: a plan with a role_play block needs",
    ),
    (
        "scenario skill",
        "modules/communication.json",
        scenario_skill,
        "communication.json: plans[0].role_play_scenarios[0].skill: 'juggling' is not one of",
    ),
    (
        "structure plan codes",
        "structures/relapse_prevention_16_week.json",
        unknown_week_plan,
        "relapse_prevention_16_week.json: weeks[0].plans[0]: 'nope-01' is not a plan",
    ),
    (
        "structure weeks consecutive",
        "structures/relapse_prevention_16_week.json",
        skip_week,
        "relapse_prevention_16_week.json: weeks[1].week: is 3, expected 2",
    ),
]


def test_unbroken_copy_loads(data_copy: Path):
    assert len(load_library(data_copy).plans) >= 60


@pytest.mark.parametrize(
    ("relative", "mutate", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_rejects_broken_copy(data_copy: Path, relative: str, mutate: Mutation, message: str):
    edit(data_copy, relative, mutate)
    with pytest.raises(CurriculumError) as excinfo:
        load_library(data_copy)
    assert message in str(excinfo.value)


def test_invalid_json_names_the_file(data_copy: Path):
    (data_copy / "modules" / "cbt.json").write_text("{", encoding="utf-8")
    with pytest.raises(CurriculumError, match=r"^cbt\.json: not valid JSON"):
        load_library(data_copy)


def test_module_file_name_must_match_code(data_copy: Path):
    shutil.move(data_copy / "modules" / "cbt.json", data_copy / "modules" / "cbt_old.json")
    with pytest.raises(CurriculumError, match=r"^cbt_old\.json: code: is 'cbt'"):
        load_library(data_copy)


# -- program-authored plans ----------------------------------------------------------------------


def program_plan() -> dict[str, Any]:
    raw = json.loads((DATA_DIR / "modules" / "dbt_distress_tolerance.json").read_text())
    plan = copy.deepcopy(raw["plans"][1])
    plan.update(code="acme-grounding-01", module="acme_local", title="Grounding, our way")
    return plan


def test_program_plan_valid():
    plan = validate_program_plan(program_plan())
    assert plan.code == "acme-grounding-01"
    assert plan.module == "acme_local"


def test_program_plan_same_rules_as_library():
    raw = program_plan()
    raw["agenda"][1]["minutes"] += 7
    with pytest.raises(CurriculumError, match=r"^program plan: agenda: minutes sum to 67"):
        validate_program_plan(raw)


def test_program_plan_cannot_shadow_library_code():
    raw = program_plan()
    raw["code"] = "dbt-dt-02"
    with pytest.raises(CurriculumError, match="already a library plan"):
        validate_program_plan(raw, source="acme plan 7")


def test_program_plan_rejects_bad_homework():
    raw = program_plan()
    raw["homework"]["fields"].pop()
    with pytest.raises(CurriculumError, match=r"homework\.fields: a skill_practice_log has 7"):
        validate_program_plan(raw)
