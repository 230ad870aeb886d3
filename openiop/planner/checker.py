"""Independent validator of a plan: `check_plan(input_doc, output_doc) -> list[str]`.

Written from the contract (planner.md) alone, working on the raw JSON documents, and sharing no
code with the parser, the candidate computation or the solver, so that a bug there cannot hide
itself here. An empty list means the plan satisfies hard constraints 1-5 and the result
document is internally consistent (totals add up, `meets_minimum`, objective counts and bound
are right, every shortfall and every session left out has a reason). The input document is
assumed to have passed parsing; defaults (`attended_minutes` etc. = 0) are applied here again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

_DAY = 1440
_KINDS = {"individual": "individual_minutes", "family": "family_minutes"}


def _minutes(text: Any) -> int | None:
    """ "HH:MM" -> minutes after midnight ("24:00" -> 1440); None if not a time."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    try:
        hours, minutes = int(text[:2]), int(text[3:])
    except ValueError:
        return None
    if (hours, minutes) == (24, 0):
        return _DAY
    if 0 <= hours <= 23 and 0 <= minutes <= 59:
        return hours * 60 + minutes
    return None


def _span(item: Mapping[str, Any]) -> tuple[int, int] | None:
    """Week-minute interval of something with day/start/end."""
    day, start, end = item.get("day"), _minutes(item.get("start")), _minutes(item.get("end"))
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
        return None
    if start is None or end is None:
        return None
    return day * _DAY + start, day * _DAY + end


def _inside_one(windows: list[Any], span: tuple[int, int]) -> bool:
    for window in windows:
        w = _span(window)
        if w is not None and w[0] <= span[0] and span[1] <= w[1]:
            return True
    return False


def _clash(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def check_plan(input_doc: Mapping[str, Any], output_doc: Mapping[str, Any]) -> list[str]:
    """All violations found (empty list = valid plan)."""
    problems: list[str] = []
    if output_doc.get("schema") != "openiop.plan-week-result/1":
        problems.append(f"schema is {output_doc.get('schema')!r}")
    if output_doc.get("status") not in ("OPTIMAL", "FEASIBLE"):
        problems.append(f"status is {output_doc.get('status')!r}")

    rules = input_doc["rules"]
    clinicians = {c["id"]: c for c in input_doc["clinicians"]}
    groups = {g["id"]: g for g in input_doc["groups"]}
    people = {p["id"]: p for p in input_doc["participants"]}
    # Everything each participant / clinician is doing, for the overlap checks.
    timeline: dict[str, list[tuple[tuple[int, int], str]]] = {pid: [] for pid in people}
    clinician_time: dict[str, list[tuple[tuple[int, int], str]]] = {cid: [] for cid in clinicians}
    planned: Counter[str] = Counter()

    _check_assignments(output_doc, groups, people, rules, timeline, planned, problems)
    _check_sessions(
        output_doc, groups, people, clinicians, timeline, clinician_time, planned, problems
    )
    for pid, items in timeline.items():  # hard constraint 2
        _pairwise_clashes(f"participant {pid}", items, problems)
    for cid, items in clinician_time.items():  # hard constraint 4 (clinician side)
        _pairwise_clashes(f"clinician {cid}", items, problems, ignore_group_pairs=True)
    meeting = _check_participants(output_doc, input_doc, rules, planned, problems)
    _check_objective(output_doc, meeting, planned, len(people), problems)
    return problems


def _check_assignments(
    output_doc: Mapping[str, Any],
    groups: dict[str, Any],
    people: dict[str, Any],
    rules: Mapping[str, Any],
    timeline: dict[str, list[tuple[tuple[int, int], str]]],
    planned: Counter[str],
    problems: list[str],
) -> None:
    seen: set[tuple[str, str]] = set()
    occupancy: Counter[str] = Counter()
    for item in output_doc.get("assignments", []):
        pid, gid = item.get("participant"), item.get("group")
        if pid not in people or gid not in groups:
            problems.append(f"assignment {pid}->{gid} names an unknown participant or group")
            continue
        if (pid, gid) in seen:
            problems.append(f"assignment {pid}->{gid} is listed twice")
            continue
        seen.add((pid, gid))
        person, group = people[pid], groups[gid]
        span = _span(group)
        assert span is not None  # the input passed parsing
        if group["track"] not in person["tracks"]:  # hard constraint 1
            problems.append(f"{pid} is in {gid} whose track {group['track']} is not theirs")
        if not _inside_one(person["available"], span):
            problems.append(f"{pid} is in {gid}, which is not inside one of their windows")
        occupancy[gid] += 1
        timeline[pid].append((span, f"group {gid}"))
        planned[pid] += span[1] - span[0]
    for gid, count in occupancy.items():  # hard constraint 3
        limit = min(groups[gid]["capacity"], rules["max_group_size"])
        if count > limit:
            problems.append(f"group {gid} has {count} participants, more than its {limit} places")


def _check_sessions(
    output_doc: Mapping[str, Any],
    groups: dict[str, Any],
    people: dict[str, Any],
    clinicians: dict[str, Any],
    timeline: dict[str, list[tuple[tuple[int, int], str]]],
    clinician_time: dict[str, list[tuple[tuple[int, int], str]]],
    planned: Counter[str],
    problems: list[str],
) -> None:
    for group in groups.values():  # clinicians are busy while leading their groups
        span = _span(group)
        assert span is not None
        clinician_time.setdefault(group["facilitator"], []).append((span, f"group {group['id']}"))
    seen: set[tuple[str, str]] = set()
    for item in output_doc.get("sessions", []):
        pid, cid, kind = item.get("participant"), item.get("clinician"), item.get("kind")
        label = f"{kind} session of {pid}"
        if pid not in people or kind not in _KINDS:
            problems.append(f"{label} names an unknown participant or kind")
            continue
        person = people[pid]
        wanted = person.get(_KINDS[kind], 0)
        if not wanted:
            problems.append(f"{label} was not requested")
        if (pid, kind) in seen:
            problems.append(f"{label} is booked twice")
        seen.add((pid, kind))
        if cid != person.get("primary_clinician"):
            problems.append(f"{label} is with {cid}, not their primary clinician")
        span = _span(item)
        if span is None:
            problems.append(f"{label} has an invalid day or time")
            continue
        if span[1] - span[0] != wanted:
            problems.append(f"{label} lasts {span[1] - span[0]} min, not the {wanted} requested")
        if span[0] % 15:  # hard constraint 4
            problems.append(f"{label} does not start on a quarter hour")
        if not _inside_one(person["available"], span):
            problems.append(f"{label} is not inside one of the participant's windows")
        if cid not in clinicians or not _inside_one(clinicians[cid]["available"], span):
            problems.append(f"{label} is not inside one of clinician {cid}'s windows")
        timeline[pid].append((span, label))
        clinician_time.setdefault(cid, []).append((span, label))
        planned[pid] += max(0, span[1] - span[0])


def _pairwise_clashes(
    who: str,
    items: list[tuple[tuple[int, int], str]],
    problems: list[str],
    ignore_group_pairs: bool = False,
) -> None:
    # Two groups led by the same clinician at once is the input's business, not the plan's.
    ordered = sorted(items)
    for i, (span_a, label_a) in enumerate(ordered):
        for span_b, label_b in ordered[i + 1 :]:
            if span_b[0] >= span_a[1]:
                break
            both_groups = label_a.startswith("group ") and label_b.startswith("group ")
            if _clash(span_a, span_b) and not (ignore_group_pairs and both_groups):
                problems.append(f"{who}: {label_a} overlaps {label_b}")


def _check_participants(
    output_doc: Mapping[str, Any],
    input_doc: Mapping[str, Any],
    rules: Mapping[str, Any],
    planned: Counter[str],
    problems: list[str],
) -> int:
    results = output_doc.get("participants", [])
    expected_ids = [p["id"] for p in input_doc["participants"]]
    if [r.get("id") for r in results] != expected_ids:
        problems.append("participants in the result do not match the input, in order")
    booked = {(s.get("participant"), s.get("kind")) for s in output_doc.get("sessions", [])}
    meeting = 0
    for person, result in zip(input_doc["participants"], results, strict=False):
        pid, population = person["id"], person["population"]
        attended = person.get("attended_minutes", 0)
        total = attended + planned[pid]
        required = rules["min_minutes"][population]
        maximum = rules["max_minutes"][population]
        if total > maximum and planned[pid] > 0:  # hard constraint 5
            problems.append(f"{pid} is planned {total} min, above the {maximum}-min maximum")
        if result.get("required_minutes") != required:
            problems.append(
                f"{pid}: required_minutes {result.get('required_minutes')} != {required}"
            )
        if result.get("total_minutes") != total:
            problems.append(f"{pid}: total_minutes {result.get('total_minutes')} != {total}")
        meets = total >= required
        meeting += meets
        if result.get("meets_minimum") is not meets:
            problems.append(f"{pid}: meets_minimum {result.get('meets_minimum')} is wrong")
        reasons = result.get("reasons")
        if not isinstance(reasons, list) or not all(isinstance(r, str) and r for r in reasons):
            problems.append(f"{pid}: reasons is not a list of sentences")
            continue
        if not meets and not reasons:
            problems.append(f"{pid} misses the minimum without a reason")
        for kind, key in _KINDS.items():
            left_out = person.get(key, 0) and (pid, kind) not in booked
            if left_out and not any(kind in reason for reason in reasons):
                problems.append(f"{pid}: {kind} session left out without a reason")
    return meeting


def _check_objective(
    output_doc: Mapping[str, Any],
    meeting: int,
    planned: Counter[str],
    participants: int,
    problems: list[str],
) -> None:
    objective = output_doc.get("objective", {})
    expected = {
        "meeting_minimum": meeting,
        "sessions_placed": len(output_doc.get("sessions", [])),
        "planned_minutes": sum(planned.values()),
    }
    for key, value in expected.items():
        if objective.get(key) != value:
            problems.append(f"objective.{key} is {objective.get(key)}, expected {value}")
    bound = objective.get("bound_meeting_minimum")
    if not isinstance(bound, int) or not meeting <= bound <= participants:
        problems.append(
            f"objective.bound_meeting_minimum {bound} is not in [{meeting}, {participants}]"
        )
    elif output_doc.get("status") == "OPTIMAL" and bound != meeting:
        problems.append("status OPTIMAL but bound_meeting_minimum differs from meeting_minimum")
