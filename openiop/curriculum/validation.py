"""Parse raw JSON into curriculum records, failing loudly with the file and field path.

Every error reads like `cbt.json: plans[3].agenda: minutes sum to 85, duration_minutes is 90`, so a
curriculum author can fix a data file without reading this code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from openiop.curriculum.schema import (
    BLOCK_KINDS,
    CANONICAL_HOMEWORK_FIELDS,
    FIELD_TYPES,
    GROUP_MODELS,
    HOMEWORK_KINDS,
    LICENCE_MARKER,
    MAX_DURATION,
    MAX_NOTE_SENTENCES,
    MAX_OBJECTIVES,
    MAX_SCENARIOS,
    MIN_DURATION,
    MIN_NOTE_SENTENCES,
    MIN_OBJECTIVES,
    MIN_SCENARIOS,
    MODULE_SCHEMA,
    OBJECTIVE_PREFIX,
    STRUCTURE_SCHEMA,
    AgendaBlock,
    HomeworkField,
    HomeworkTemplate,
    Module,
    RolePlayScenario,
    SessionPlan,
    Structure,
    StructureWeek,
)

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
PLAN_CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# A sentence ends with . ! or ? (optionally inside a closing quote or bracket) before a space or the
# end; notes therefore avoid abbreviations such as "e.g." that would be miscounted.
SENTENCE_END = re.compile(r"[.!?]['\"’”)]*(?=\s|$)")

MODULE_KEYS = {
    "schema",
    "code",
    "title",
    "version",
    "description",
    "plan_prefix",
    "sources",
    "licence",
    "plans",
}
PLAN_KEYS = {
    "code",
    "title",
    "module",
    "sequence",
    "group_model",
    "duration_minutes",
    "skills",
    "objectives",
    "agenda",
    "role_play_scenarios",
    "homework",
}
BLOCK_KEYS = {"kind", "title", "minutes", "facilitator_notes"}
SCENARIO_KEYS = {"title", "setup", "roles", "skill", "debrief_questions"}
HOMEWORK_KEYS = {"kind", "title", "instructions", "fields"}
FIELD_KEYS = {"name", "label", "type"}
STRUCTURE_KEYS = {
    "schema",
    "code",
    "title",
    "version",
    "description",
    "admission",
    "note",
    "sources",
    "licence",
    "weeks",
}
WEEK_KEYS = {"week", "plans"}


class CurriculumError(ValueError):
    """A curriculum file or program-authored plan breaks the schema."""


@dataclass(frozen=True)
class At:
    """Where a value sits: the file (or other source) and the field path inside it."""

    source: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.path}" if self.path else self.source

    def key(self, name: str) -> At:
        return At(self.source, f"{self.path}.{name}" if self.path else name)

    def index(self, position: int) -> At:
        return At(self.source, f"{self.path}[{position}]")

    def fail(self, message: str) -> NoReturn:
        raise CurriculumError(f"{self}: {message}")


# -- primitive readers ---------------------------------------------------------------------------


def read_object(
    raw: object, at: At, required: Collection[str], optional: Collection[str] = ()
) -> Mapping[str, object]:
    if not isinstance(raw, dict):
        at.fail(f"must be an object, got {type(raw).__name__}")
    missing = sorted(set(required) - set(raw))
    if missing:
        at.key(missing[0]).fail("is missing")
    # Unknown keys are rejected because they are almost always a misspelt field that would
    # otherwise be silently ignored.
    unknown = sorted(set(raw) - set(required) - set(optional))
    if unknown:
        at.key(unknown[0]).fail("is not a known field")
    return raw


def read_text(raw: object, at: At) -> str:
    if not isinstance(raw, str) or not raw.strip():
        at.fail("must be a non-empty string")
    return raw


def read_int(raw: object, at: At, low: int, high: int) -> int:
    # bool is a subclass of int; `true` in JSON is never a valid count of minutes.
    if not isinstance(raw, int) or isinstance(raw, bool):
        at.fail(f"must be an integer, got {raw!r}")
    if not low <= raw <= high:
        at.fail(f"must be between {low} and {high}, got {raw}")
    return raw


def read_choice(raw: object, at: At, allowed: Collection[str]) -> str:
    value = read_text(raw, at)
    if value not in allowed:
        at.fail(f"{value!r} is not one of {sorted(allowed)}")
    return value


def read_text_list(raw: object, at: At, low: int, high: int | None = None) -> tuple[str, ...]:
    if not isinstance(raw, list):
        at.fail("must be a list")
    if len(raw) < low or (high is not None and len(raw) > high):
        bound = f"{low}–{high}" if high is not None else f"at least {low}"
        at.fail(f"must have {bound} items, has {len(raw)}")
    items = tuple(read_text(item, at.index(i)) for i, item in enumerate(raw))
    first_duplicate(items, at)
    return items


def read_list(raw: object, at: At) -> list[object]:
    if not isinstance(raw, list):
        at.fail("must be a list")
    return raw


def first_duplicate(items: Iterable[str], at: At) -> None:
    repeated = [item for item, count in Counter(items).items() if count > 1]
    if repeated:
        at.fail(f"{repeated[0]!r} appears more than once")


# -- homework ------------------------------------------------------------------------------------


def parse_field(raw: object, at: At) -> HomeworkField:
    data = read_object(raw, at, FIELD_KEYS, optional={"choices"})
    field_type = read_choice(data["type"], at.key("type"), FIELD_TYPES)
    choices: tuple[str, ...] = ()
    if field_type == "choice":
        choices = read_text_list(data.get("choices"), at.key("choices"), 2)
    elif "choices" in data:
        at.key("choices").fail("only a 'choice' field may list choices")
    return HomeworkField(
        name=read_text(data["name"], at.key("name")),
        label=read_text(data["label"], at.key("label")),
        type=field_type,
        choices=choices,
    )


def check_canonical_fields(kind: str, fields: tuple[HomeworkField, ...], at: At) -> None:
    # The portal stores answers by these names, so the shape is fixed per kind.
    expected = CANONICAL_HOMEWORK_FIELDS[kind]
    actual = [(f.name, f.type, f.choices) for f in fields]
    if len(actual) != len(expected):
        at.fail(f"a {kind} has {len(expected)} fields, got {len(actual)}")
    for position, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if want != got:
            at.index(position).fail(f"expected {want[0]} ({want[1]}), got {got[0]} ({got[1]})")


def parse_homework(raw: object, at: At) -> HomeworkTemplate:
    data = read_object(raw, at, HOMEWORK_KEYS)
    kind = read_choice(data["kind"], at.key("kind"), HOMEWORK_KINDS)
    fields_at = at.key("fields")
    fields = tuple(
        parse_field(item, fields_at.index(i))
        for i, item in enumerate(read_list(data["fields"], fields_at))
    )
    first_duplicate((f.name for f in fields), fields_at)
    check_canonical_fields(kind, fields, fields_at)
    return HomeworkTemplate(
        kind=kind,
        title=read_text(data["title"], at.key("title")),
        instructions=read_text(data["instructions"], at.key("instructions")),
        fields=fields,
    )


# -- agenda --------------------------------------------------------------------------------------


def read_notes(raw: object, at: At) -> str:
    notes = read_text(raw, at)
    sentences = len(SENTENCE_END.findall(notes.strip()))
    if not MIN_NOTE_SENTENCES <= sentences <= MAX_NOTE_SENTENCES:
        at.fail(f"must be {MIN_NOTE_SENTENCES}–{MAX_NOTE_SENTENCES} sentences, found {sentences}")
    return notes


def parse_block(raw: object, at: At) -> AgendaBlock:
    data = read_object(raw, at, BLOCK_KEYS)
    return AgendaBlock(
        kind=read_choice(data["kind"], at.key("kind"), BLOCK_KINDS),
        title=read_text(data["title"], at.key("title")),
        minutes=read_int(data["minutes"], at.key("minutes"), 1, MAX_DURATION),
        facilitator_notes=read_notes(data["facilitator_notes"], at.key("facilitator_notes")),
    )


def check_agenda(agenda: tuple[AgendaBlock, ...], duration: int, at: At) -> None:
    if len(agenda) < 3:
        at.fail(f"needs a check_in, at least one activity and a check_out, has {len(agenda)}")
    if agenda[0].kind != "check_in":
        at.index(0).key("kind").fail(f"the first block must be check_in, got {agenda[0].kind}")
    if agenda[-1].kind != "check_out":
        last = len(agenda) - 1
        at.index(last).key("kind").fail(f"the last block must be check_out, got {agenda[-1].kind}")
    for position, block in enumerate(agenda[1:-1], start=1):
        if block.kind in {"check_in", "check_out"}:
            at.index(position).key("kind").fail(f"{block.kind} may only open or close a session")
    total = sum(block.minutes for block in agenda)
    if total != duration:
        at.fail(f"minutes sum to {total}, duration_minutes is {duration}")


def parse_agenda(raw: object, at: At, duration: int) -> tuple[AgendaBlock, ...]:
    agenda = tuple(parse_block(item, at.index(i)) for i, item in enumerate(read_list(raw, at)))
    check_agenda(agenda, duration, at)
    return agenda


# -- role-play -----------------------------------------------------------------------------------


def parse_scenario(raw: object, at: At, skills: tuple[str, ...]) -> RolePlayScenario:
    data = read_object(raw, at, SCENARIO_KEYS)
    skill = read_text(data["skill"], at.key("skill"))
    if skill not in skills:
        at.key("skill").fail(f"{skill!r} is not one of the plan's skills {list(skills)}")
    return RolePlayScenario(
        title=read_text(data["title"], at.key("title")),
        setup=read_text(data["setup"], at.key("setup")),
        roles=read_text_list(data["roles"], at.key("roles"), 2),
        skill=skill,
        debrief_questions=read_text_list(data["debrief_questions"], at.key("debrief_questions"), 1),
    )


def parse_scenarios(
    raw: object, at: At, skills: tuple[str, ...], agenda: tuple[AgendaBlock, ...]
) -> tuple[RolePlayScenario, ...]:
    items = read_list(raw, at)
    has_role_play = any(block.kind == "role_play" for block in agenda)
    # A role-play block with nothing to play, or scenarios no block makes time for, are both
    # authoring mistakes a facilitator would only discover in the room.
    if has_role_play and not MIN_SCENARIOS <= len(items) <= MAX_SCENARIOS:
        at.fail(f"a plan with a role_play block needs {MIN_SCENARIOS}–{MAX_SCENARIOS} scenarios")
    if items and not has_role_play:
        at.fail("scenarios are listed but the agenda has no role_play block")
    return tuple(parse_scenario(item, at.index(i), skills) for i, item in enumerate(items))


# -- plans and modules ---------------------------------------------------------------------------


def read_objectives(raw: object, at: At) -> tuple[str, ...]:
    objectives = read_text_list(raw, at, MIN_OBJECTIVES, MAX_OBJECTIVES)
    for position, objective in enumerate(objectives):
        if not objective.startswith(OBJECTIVE_PREFIX):
            at.index(position).fail(f"must start with {OBJECTIVE_PREFIX.strip()!r}")
    return objectives


def read_plan_code(raw: object, at: At) -> str:
    code = read_text(raw, at)
    if not PLAN_CODE.match(code):
        at.fail(f"{code!r} must be lower-case words and digits joined by hyphens")
    return code


def read_slug(raw: object, at: At) -> str:
    value = read_text(raw, at)
    if not SLUG.match(value):
        at.fail(f"{value!r} must be lower-case letters, digits and underscores")
    return value


def parse_plan(raw: object, at: At) -> SessionPlan:
    data = read_object(raw, at, PLAN_KEYS)
    duration = read_int(
        data["duration_minutes"], at.key("duration_minutes"), MIN_DURATION, MAX_DURATION
    )
    skills = read_text_list(data["skills"], at.key("skills"), 1)
    agenda = parse_agenda(data["agenda"], at.key("agenda"), duration)
    return SessionPlan(
        code=read_plan_code(data["code"], at.key("code")),
        title=read_text(data["title"], at.key("title")),
        module=read_slug(data["module"], at.key("module")),
        sequence=read_int(data["sequence"], at.key("sequence"), 1, 999),
        group_model=read_choice(data["group_model"], at.key("group_model"), GROUP_MODELS),
        duration_minutes=duration,
        skills=skills,
        objectives=read_objectives(data["objectives"], at.key("objectives")),
        agenda=agenda,
        role_play_scenarios=parse_scenarios(
            data["role_play_scenarios"], at.key("role_play_scenarios"), skills, agenda
        ),
        homework=parse_homework(data["homework"], at.key("homework")),
    )


def check_plan_in_module(
    plan: SessionPlan, position: int, module: str, prefix: str, at: At
) -> None:
    # Sequence numbers follow the file order and are baked into the code, so a plan moved in the
    # file without renumbering (or renumbered without renaming) is caught here.
    if plan.module != module:
        at.key("module").fail(f"is {plan.module!r}, the file's module is {module!r}")
    if plan.sequence != position + 1:
        at.key("sequence").fail(f"is {plan.sequence}, expected {position + 1} from file order")
    expected_code = f"{prefix}-{plan.sequence:02d}"
    if plan.code != expected_code:
        at.key("code").fail(f"is {plan.code!r}, expected {expected_code!r}")


def read_header(data: Mapping[str, object], at: At, schema: str) -> None:
    if data["schema"] != schema:
        at.key("schema").fail(f"must be {schema!r}, got {data['schema']!r}")
    version = read_text(data["version"], at.key("version"))
    if not SEMVER.match(version):
        at.key("version").fail(f"{version!r} is not a semantic version like 1.0.0")
    if LICENCE_MARKER not in read_text(data["licence"], at.key("licence")):
        at.key("licence").fail(f"must state the {LICENCE_MARKER} licence of our text")


def parse_module(raw: object, source: str) -> Module:
    at = At(source)
    data = read_object(raw, at, MODULE_KEYS)
    read_header(data, at, MODULE_SCHEMA)
    code = read_slug(data["code"], at.key("code"))
    prefix = read_plan_code(data["plan_prefix"], at.key("plan_prefix"))
    plans_at = at.key("plans")
    raw_plans = read_list(data["plans"], plans_at)
    if not raw_plans:
        plans_at.fail("must list at least one plan")
    plans = []
    for position, item in enumerate(raw_plans):
        plan = parse_plan(item, plans_at.index(position))
        check_plan_in_module(plan, position, code, prefix, plans_at.index(position))
        plans.append(plan)
    return Module(
        code=code,
        title=read_text(data["title"], at.key("title")),
        version=str(data["version"]),
        description=read_text(data["description"], at.key("description")),
        plan_prefix=prefix,
        sources=read_text_list(data["sources"], at.key("sources"), 1),
        licence=str(data["licence"]),
        plans=tuple(plans),
    )


# -- structures ----------------------------------------------------------------------------------


def parse_week(raw: object, at: At, known_codes: Collection[str]) -> StructureWeek:
    data = read_object(raw, at, WEEK_KEYS)
    week = read_int(data["week"], at.key("week"), 1, 104)
    plans = read_text_list(data["plans"], at.key("plans"), 1)
    for position, code in enumerate(plans):
        if code not in known_codes:
            at.key("plans").index(position).fail(f"{code!r} is not a plan in the library")
    return StructureWeek(week=week, plans=plans)


def parse_structure(raw: object, source: str, known_codes: Collection[str]) -> Structure:
    at = At(source)
    data = read_object(raw, at, STRUCTURE_KEYS)
    read_header(data, at, STRUCTURE_SCHEMA)
    weeks_at = at.key("weeks")
    weeks = tuple(
        parse_week(item, weeks_at.index(i), known_codes)
        for i, item in enumerate(read_list(data["weeks"], weeks_at))
    )
    for position, entry in enumerate(weeks):
        if entry.week != position + 1:
            weeks_at.index(position).key("week").fail(f"is {entry.week}, expected {position + 1}")
    if not weeks:
        weeks_at.fail("must list at least one week")
    return Structure(
        code=read_slug(data["code"], at.key("code")),
        title=read_text(data["title"], at.key("title")),
        version=str(data["version"]),
        description=read_text(data["description"], at.key("description")),
        admission=read_choice(data["admission"], at.key("admission"), {"rolling", "closed"}),
        note=read_text(data["note"], at.key("note")),
        sources=read_text_list(data["sources"], at.key("sources"), 1),
        licence=str(data["licence"]),
        weeks=weeks,
    )
