"""Small builders for hand-made planner inputs (keeps each test readable)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from openiop.planner import check_plan, parse_input, solve

EXAMPLE: dict[str, Any] = {
    "schema": "openiop.plan-week/1",
    "week_start": "2026-12-07",
    "rules": {
        "min_minutes": {"adult": 540, "adolescent": 360},
        "max_minutes": {"adult": 1140, "adolescent": 1140},
        "max_group_size": 12,
    },
    "clinicians": [{"id": "C1", "available": [{"day": 0, "start": "08:00", "end": "17:00"}]}],
    "groups": [
        {
            "id": "G-mon-am",
            "track": "AM",
            "day": 0,
            "start": "09:00",
            "end": "12:00",
            "facilitator": "C1",
            "capacity": 12,
        }
    ],
    "participants": [
        {
            "id": "P1",
            "population": "adult",
            "tracks": ["AM"],
            "available": [{"day": 0, "start": "08:30", "end": "12:30"}],
            "attended_minutes": 0,
            "individual_minutes": 60,
            "family_minutes": 0,
            "primary_clinician": "C1",
        }
    ],
}


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def window(day: int, start: str, end: str) -> dict[str, Any]:
    return {"day": day, "start": start, "end": end}


def group(
    gid: str,
    day: int,
    start: str = "09:00",
    end: str = "12:00",
    track: str = "AM",
    facilitator: str = "C1",
    capacity: int = 12,
) -> dict[str, Any]:
    return {
        "id": gid,
        "track": track,
        "day": day,
        "start": start,
        "end": end,
        "facilitator": facilitator,
        "capacity": capacity,
    }


def person(
    pid: str,
    available: list[dict[str, Any]],
    tracks: tuple[str, ...] = ("AM",),
    population: str = "adult",
    **extra: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": pid,
        "population": population,
        "tracks": list(tracks),
        "available": available,
    }
    doc.update(extra)
    return doc


def weekdays(start: str = "08:00", end: str = "13:00", days: range = range(5)) -> list[Any]:
    return [window(d, start, end) for d in days]


def document(
    groups: list[dict[str, Any]],
    participants: list[dict[str, Any]],
    clinicians: list[dict[str, Any]] | None = None,
    **rules: Any,
) -> dict[str, Any]:
    doc = example()
    doc["groups"] = groups
    doc["participants"] = participants
    if clinicians is not None:
        doc["clinicians"] = clinicians
    doc["rules"].update(rules)
    return doc


def plan(doc: dict[str, Any], time_limit: float = 5.0, seed: int = 0) -> dict[str, Any]:
    """Solve with CP-SAT, assert the independent checker accepts it, return the result JSON."""
    result = solve(parse_input(doc), time_limit=time_limit, seed=seed).to_json()
    problems = check_plan(doc, result)
    assert problems == [], problems
    return result


def write(tmp_path: Path, doc: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in result["participants"]}


def groups_of(result: dict[str, Any], pid: str) -> list[str]:
    return [a["group"] for a in result["assignments"] if a["participant"] == pid]
