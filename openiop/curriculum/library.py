"""Load and validate the curriculum library; importing this module validates every data file.

Data lives in `data/modules/*.json` (one module each) and `data/structures/*.json` (multi-week
schedules that reference plan codes). Nothing here touches Django: a later app stores
program-authored plans and checks them with `validate_program_plan`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from openiop.curriculum.schema import Module, SessionPlan, Structure
from openiop.curriculum.validation import (
    At,
    CurriculumError,
    parse_module,
    parse_plan,
    parse_structure,
)

DATA_DIR = Path(__file__).parent / "data"

# Burns (1980) cognitive distortions: CBT groups teach people to notice them, so they appear
# among a plan's skills, but they are thinking errors, not skills anyone "used"; pickers of
# skills used leave them out (practice_skills).
THINKING_ERRORS = frozenset(
    {
        "all-or-nothing thinking",
        "overgeneralization",
        "mental filter",
        "disqualifying the positive",
        "jumping to conclusions",
        "mind reading",
        "fortune telling",
        "magnification and minimization",
        "catastrophizing",
        "emotional reasoning",
        "should statements",
        "labeling",
        "personalization",
    }
)

__all__ = [
    "DATA_DIR",
    "THINKING_ERRORS",
    "CurriculumError",
    "Library",
    "library",
    "load_library",
    "validate_program_plan",
]


@dataclass(frozen=True)
class Library:
    modules: tuple[Module, ...]
    structures: tuple[Structure, ...]
    _plans: dict[str, SessionPlan] = field(repr=False, compare=False)

    @property
    def plans(self) -> tuple[SessionPlan, ...]:
        return tuple(self._plans.values())

    def plan(self, code: str) -> SessionPlan:
        try:
            return self._plans[code]
        except KeyError:
            raise KeyError(f"no curriculum plan {code!r}") from None

    def module(self, code: str) -> Module:
        for module in self.modules:
            if module.code == code:
                return module
        raise KeyError(f"no curriculum module {code!r}")

    def practice_skills(self, code: str) -> tuple[str, ...]:
        """The plan's skills a participant can practise: its skills without the thinking
        errors (THINKING_ERRORS) it teaches people to recognise."""
        return tuple(s for s in self.plan(code).skills if s.lower() not in THINKING_ERRORS)

    def plans_for_module(self, code: str) -> tuple[SessionPlan, ...]:
        return self.module(code).plans

    def structure(self, code: str) -> Structure:
        for structure in self.structures:
            if structure.code == code:
                return structure
        raise KeyError(f"no curriculum structure {code!r}")


def read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CurriculumError(f"{path.name}: not valid JSON ({exc})") from exc


def index_plans(modules: Iterable[Module]) -> dict[str, SessionPlan]:
    # Plan codes are what group sessions and programs store, so they must be unique library-wide.
    plans: dict[str, SessionPlan] = {}
    owner: dict[str, str] = {}
    for module in modules:
        for position, plan in enumerate(module.plans):
            if plan.code in plans:
                At(f"{module.code}.json", f"plans[{position}].code").fail(
                    f"{plan.code!r} is already used in {owner[plan.code]}.json"
                )
            plans[plan.code] = plan
            owner[plan.code] = module.code
    return plans


def check_module_file_names(paths: list[Path], modules: list[Module]) -> None:
    for path, module in zip(paths, modules, strict=True):
        if path.stem != module.code:
            At(path.name, "code").fail(f"is {module.code!r}, the file name says {path.stem!r}")


def load_library(root: Path = DATA_DIR) -> Library:
    module_paths = sorted((root / "modules").glob("*.json"))
    if not module_paths:
        raise CurriculumError(f"{root / 'modules'}: no module files found")
    modules = [parse_module(read_json(path), path.name) for path in module_paths]
    check_module_file_names(module_paths, modules)
    plans = index_plans(modules)
    structures = tuple(
        parse_structure(read_json(path), path.name, plans)
        for path in sorted((root / "structures").glob("*.json"))
    )
    return Library(modules=tuple(modules), structures=structures, _plans=plans)


@cache
def library() -> Library:
    return load_library()


def validate_program_plan(raw: dict[str, object], *, source: str = "program plan") -> SessionPlan:
    """Validate a plan a program wrote itself, by the same rules as the library's own plans.

    Its code must not shadow a library plan, or a stored session could silently change meaning.
    """
    plan = parse_plan(raw, At(source))
    if plan.code in library()._plans:
        At(source, "code").fail(f"{plan.code!r} is already a library plan; choose another code")
    return plan


# Validate at import so a broken data file stops the process at start-up, not mid-session.
library()
