"""The independent checker must reject broken plans (otherwise passing it would prove nothing)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from openiop.planner import check_plan
from openiop.planner.tests.helpers import document, group, person, plan, weekdays, window

Doc = dict[str, Any]


def _week() -> tuple[Doc, Doc]:
    """A small valid week with groups, a session, and one participant short of the minimum."""
    doc = document(
        [
            group("G-mon", 0, capacity=2),
            group("G-tue", 1),
            group("G-wed", 2),
            group("G-thu", 3, "13:00", "16:00", track="PM"),
        ],
        [
            person("P1", weekdays(), individual_minutes=60, primary_clinician="C1"),
            person("P2", weekdays(), family_minutes=60, primary_clinician="C1"),
            person("P3", [window(3, "12:00", "17:00")], tracks=("PM",)),
        ],
        clinicians=[{"id": "C1", "available": [window(d, "08:00", "17:00") for d in range(5)]}],
    )
    result = plan(doc)
    assert check_plan(doc, result) == []
    return doc, result


def _add_assignment(pid: str, gid: str) -> Callable[[Doc, Doc], None]:
    def breaker(doc: Doc, result: Doc) -> None:
        result["assignments"].append({"participant": pid, "group": gid})

    return breaker


def _edit_session(**fields: Any) -> Callable[[Doc, Doc], None]:
    def breaker(doc: Doc, result: Doc) -> None:
        result["sessions"][0].update(fields)

    return breaker


def _edit_participant(index: int, **fields: Any) -> Callable[[Doc, Doc], None]:
    def breaker(doc: Doc, result: Doc) -> None:
        result["participants"][index].update(fields)

    return breaker


def _edit_objective(**fields: Any) -> Callable[[Doc, Doc], None]:
    def breaker(doc: Doc, result: Doc) -> None:
        result["objective"].update(fields)

    return breaker


def _over_capacity(doc: Doc, result: Doc) -> None:
    doc["participants"].append(person("P4", weekdays()))
    result["participants"].append(
        {
            "id": "P4",
            "required_minutes": 540,
            "total_minutes": 180,
            "meets_minimum": False,
            "reasons": ["x"],
        }
    )
    result["assignments"].append({"participant": "P4", "group": "G-mon"})
    result["objective"]["planned_minutes"] += 180
    result["objective"]["bound_meeting_minimum"] += 1


def _drop_session(doc: Doc, result: Doc) -> None:
    dropped = result["sessions"].pop(0)
    pid = dropped["participant"]
    entry = next(p for p in result["participants"] if p["id"] == pid)
    entry["total_minutes"] -= 60
    result["objective"]["sessions_placed"] -= 1
    result["objective"]["planned_minutes"] -= 60
    entry["meets_minimum"] = entry["total_minutes"] >= 540
    result["objective"]["meeting_minimum"] = sum(p["meets_minimum"] for p in result["participants"])


def _overlapping_session(doc: Doc, result: Doc) -> None:
    session = result["sessions"][0]
    pid = session["participant"]
    day = next(
        g["day"]
        for g in doc["groups"]
        if {"participant": pid, "group": g["id"]} in result["assignments"]
    )
    session.update(day=day, start="11:00", end="12:00")


def _tighten_max(doc: Doc, result: Doc) -> None:
    doc["rules"]["max_minutes"]["adult"] = 550


def _wrong_track(doc: Doc, result: Doc) -> None:
    result["assignments"].append({"participant": "P1", "group": "G-thu"})


BREAKERS: dict[str, tuple[Callable[[Doc, Doc], None], str]] = {
    "wrong-track": (_wrong_track, "track PM is not theirs"),
    "outside-window": (_add_assignment("P3", "G-mon"), "not inside one of their windows"),
    "duplicate-assignment": (
        lambda d, r: r["assignments"].append(dict(r["assignments"][0])),
        "twice",
    ),
    "unknown-group": (_add_assignment("P1", "G-nope"), "unknown participant or group"),
    "over-capacity": (_over_capacity, "more than its 2 places"),
    "session-off-quarter": (_edit_session(start="12:05", end="13:05"), "quarter hour"),
    "session-wrong-length": (_edit_session(end="12:45"), "not the 60 requested"),
    "session-outside-clinician": (
        _edit_session(day=5, start="09:00", end="10:00"),
        "clinician C1's windows",
    ),
    "session-wrong-clinician": (_edit_session(clinician="C9"), "not their primary clinician"),
    "session-overlaps-group": (_overlapping_session, "overlaps"),
    "session-not-requested": (_edit_session(kind="family"), "family session of"),
    "over-maximum": (_tighten_max, "above the 550-min maximum"),
    "wrong-total": (_edit_participant(0, total_minutes=1), "total_minutes 1"),
    "wrong-meets": (_edit_participant(2, meets_minimum=True), "meets_minimum True is wrong"),
    "wrong-required": (_edit_participant(0, required_minutes=360), "required_minutes 360"),
    "missing-reason": (_edit_participant(2, reasons=[]), "misses the minimum without a reason"),
    "session-left-out-silently": (_drop_session, "session left out without a reason"),
    "objective-meeting": (_edit_objective(meeting_minimum=99), "objective.meeting_minimum"),
    "objective-sessions": (_edit_objective(sessions_placed=0), "objective.sessions_placed"),
    "objective-minutes": (_edit_objective(planned_minutes=1), "objective.planned_minutes"),
    "bound-below-value": (_edit_objective(bound_meeting_minimum=0), "bound_meeting_minimum 0"),
    "optimal-with-gap": (_edit_objective(bound_meeting_minimum=3), "status OPTIMAL but"),
    "participants-missing": (lambda d, r: r["participants"].pop(), "do not match the input"),
    "bad-status": (lambda d, r: r.update(status="GREAT"), "status is 'GREAT'"),
    "bad-schema": (lambda d, r: r.update(schema="x"), "schema is 'x'"),
}


@pytest.mark.parametrize("name", list(BREAKERS))
def test_checker_catches(name: str) -> None:
    doc, result = _week()
    breaker, expected = BREAKERS[name]
    doc, result = copy.deepcopy(doc), copy.deepcopy(result)
    breaker(doc, result)
    problems = check_plan(doc, result)
    assert any(expected in p for p in problems), problems


def test_two_sessions_of_one_clinician_must_not_overlap() -> None:
    doc, result = _week()
    first, second = result["sessions"][:2]
    second.update(day=first["day"], start=first["start"], end=first["end"])
    problems = check_plan(doc, result)
    assert any("clinician C1:" in p and "overlaps" in p for p in problems), problems
