"""Input/output data of `openiop plan-week` and strict parsing of the input document.

Parsing is deliberately strict (unknown fields, wrong types, unresolved references are all
errors) because a silently ignored typo in a schedule file would produce a plausible-looking
but wrong week for real people. Every error names the offending field with a JSON-path-like
location such as `participants[3].available[0].end`, so a program coordinator can fix the file.

Times are stored as minutes: `Window.start`/`end` are minutes after midnight of `day`, and the
`week_start`/`week_end` properties give minutes after Monday 00:00, which is what the planner
compares (a window ending at "24:00" is allowed so that an evening can run to midnight).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

INPUT_SCHEMA = "openiop.plan-week/1"
OUTPUT_SCHEMA = "openiop.plan-week-result/1"

# Populations with an ASAM Level 2.1 dose range (clinical.md section 1). Rules give the minutes
# per population; a population outside this list is a data error rather than a new category.
POPULATIONS: tuple[str, ...] = ("adult", "adolescent")
SESSION_KINDS: tuple[str, ...] = ("individual", "family")
DAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
MINUTES_PER_DAY = 24 * 60
SLOT_MINUTES = 15  # individual/family sessions start on a quarter hour (hard constraint 4)

_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PlanInputError(ValueError):
    """Malformed planner input; `field_path` names the offending field."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


# --------------------------------------------------------------------------- input model


@dataclass(frozen=True)
class Window:
    """A stretch of one day; `start`/`end` are minutes after that day's midnight."""

    day: int
    start: int
    end: int

    @property
    def week_start(self) -> int:
        return self.day * MINUTES_PER_DAY + self.start

    @property
    def week_end(self) -> int:
        return self.day * MINUTES_PER_DAY + self.end

    def contains(self, start: int, end: int) -> bool:
        """True if the week-minute interval [start, end) lies inside this window."""
        return self.week_start <= start and end <= self.week_end


@dataclass(frozen=True)
class Rules:
    min_minutes: Mapping[str, int]
    max_minutes: Mapping[str, int]
    max_group_size: int


@dataclass(frozen=True)
class Clinician:
    id: str
    available: tuple[Window, ...]


@dataclass(frozen=True)
class Group:
    id: str
    track: str
    day: int
    start: int  # minutes after midnight
    end: int
    facilitator: str
    capacity: int

    @property
    def week_start(self) -> int:
        return self.day * MINUTES_PER_DAY + self.start

    @property
    def week_end(self) -> int:
        return self.day * MINUTES_PER_DAY + self.end

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Participant:
    id: str
    population: str
    tracks: tuple[str, ...]
    available: tuple[Window, ...]
    attended_minutes: int
    individual_minutes: int
    family_minutes: int
    primary_clinician: str | None

    def session_minutes(self, kind: str) -> int:
        return self.individual_minutes if kind == "individual" else self.family_minutes

    def requested_kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in SESSION_KINDS if self.session_minutes(kind) > 0)


@dataclass(frozen=True)
class PlanInput:
    week_start: dt.date
    rules: Rules
    clinicians: tuple[Clinician, ...]
    groups: tuple[Group, ...]
    participants: tuple[Participant, ...]
    clinician_by_id: Mapping[str, Clinician] = field(repr=False, compare=False)
    group_by_id: Mapping[str, Group] = field(repr=False, compare=False)

    def seats(self, group: Group) -> int:
        """Places in a group: its own capacity, capped by the program-wide size rule."""
        return min(group.capacity, self.rules.max_group_size)

    def required_minutes(self, participant: Participant) -> int:
        return self.rules.min_minutes[participant.population]

    def max_minutes(self, participant: Participant) -> int:
        return self.rules.max_minutes[participant.population]

    def planning_room(self, participant: Participant) -> int:
        """Minutes that may still be planned before the weekly maximum (never negative)."""
        return max(0, self.max_minutes(participant) - participant.attended_minutes)

    def still_needed(self, participant: Participant) -> int:
        """Minutes still missing to reach the minimum (0 if already reached)."""
        return max(0, self.required_minutes(participant) - participant.attended_minutes)


# -------------------------------------------------------------------------- output model


@dataclass(frozen=True)
class Assignment:
    participant: str
    group: str


@dataclass(frozen=True)
class Session:
    participant: str
    clinician: str
    kind: str
    day: int
    start: int  # minutes after midnight
    end: int

    @property
    def week_start(self) -> int:
        return self.day * MINUTES_PER_DAY + self.start

    @property
    def week_end(self) -> int:
        return self.day * MINUTES_PER_DAY + self.end


@dataclass(frozen=True)
class ParticipantResult:
    id: str
    required_minutes: int
    total_minutes: int
    meets_minimum: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Objective:
    meeting_minimum: int
    sessions_placed: int
    planned_minutes: int  # minutes placed by this plan (groups + sessions), excluding attended
    bound_meeting_minimum: int


@dataclass(frozen=True)
class PlanResult:
    status: str  # "OPTIMAL" or "FEASIBLE"
    assignments: tuple[Assignment, ...]
    sessions: tuple[Session, ...]
    participants: tuple[ParticipantResult, ...]
    objective: Objective

    def to_json(self) -> dict[str, Any]:
        """The `openiop.plan-week-result/1` document, keys in contract order."""
        return {
            "schema": OUTPUT_SCHEMA,
            "status": self.status,
            "assignments": [
                {"participant": a.participant, "group": a.group} for a in self.assignments
            ],
            "sessions": [
                {
                    "participant": s.participant,
                    "clinician": s.clinician,
                    "kind": s.kind,
                    "day": s.day,
                    "start": format_time(s.start),
                    "end": format_time(s.end),
                }
                for s in self.sessions
            ],
            "participants": [
                {
                    "id": p.id,
                    "required_minutes": p.required_minutes,
                    "total_minutes": p.total_minutes,
                    "meets_minimum": p.meets_minimum,
                    "reasons": list(p.reasons),
                }
                for p in self.participants
            ],
            "objective": {
                "meeting_minimum": self.objective.meeting_minimum,
                "sessions_placed": self.objective.sessions_placed,
                "planned_minutes": self.objective.planned_minutes,
                "bound_meeting_minimum": self.objective.bound_meeting_minimum,
            },
        }


def format_time(minutes: int) -> str:
    """Minutes after midnight -> "HH:MM" (1440 -> "24:00")."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe_window(day: int, start: int, end: int) -> str:
    return f"{DAY_NAMES[day]} {format_time(start)}-{format_time(end)}"


# ------------------------------------------------------------------------------- parsing


def _show(value: Any) -> str:
    """The offending value as JSON, as the user wrote it (strings keep their quotes)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _object(value: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PlanInputError(path, f"{_show(value)} is not an object")
    for key in value:
        if key not in allowed:
            raise PlanInputError(_join(path, str(key)), "unknown field")
    return value


def _join(path: str, key: str) -> str:
    return key if path == "" else f"{path}.{key}"


def _required(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise PlanInputError(_join(path, key), "missing")
    return obj[key]


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PlanInputError(path, f"{_show(value)} is not a list")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise PlanInputError(path, f"{_show(value)} is not a string")
    if not value.strip():
        raise PlanInputError(path, "must not be empty")
    return value


def _integer(value: Any, path: str, minimum: int = 0) -> int:
    # bool is a subclass of int in Python but `true` is never a count of minutes.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanInputError(path, f"{_show(value)} is not an integer")
    if value < minimum:
        if minimum == 0:
            raise PlanInputError(path, f"{value} is negative")
        raise PlanInputError(path, f"{value} is less than {minimum}")
    return int(value)


def _time(value: Any, path: str, allow_midnight_end: bool) -> int:
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise PlanInputError(path, f"{_show(value)} is not a time")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if allow_midnight_end and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise PlanInputError(path, f"{_show(value)} is not a time")
    return hours * 60 + minutes


def _day(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise PlanInputError(path, f"{_show(value)} is not a day (0 = Monday to 6 = Sunday)")
    return int(value)


def _span(obj: Mapping[str, Any], path: str) -> tuple[int, int, int]:
    """(day, start, end) of an object with day/start/end, end strictly after start."""
    day = _day(_required(obj, "day", path), _join(path, "day"))
    start = _time(_required(obj, "start", path), _join(path, "start"), allow_midnight_end=False)
    end_raw = _required(obj, "end", path)
    end = _time(end_raw, _join(path, "end"), allow_midnight_end=True)
    if end <= start:
        raise PlanInputError(
            _join(path, "end"), f"{_show(end_raw)} is not after start {_show(obj['start'])}"
        )
    return day, start, end


def _windows(value: Any, path: str) -> tuple[Window, ...]:
    windows: list[Window] = []
    for index, raw in enumerate(_list(value, path)):
        item_path = f"{path}[{index}]"
        obj = _object(raw, item_path, ("day", "start", "end"))
        window = Window(*_span(obj, item_path))
        # Overlapping windows usually mean a copy-paste error in the schedule; refusing them
        # also keeps "inside one window" (hard constraints 1 and 4) unambiguous.
        for other_index, other in enumerate(windows):
            if window.week_start < other.week_end and other.week_start < window.week_end:
                raise PlanInputError(
                    item_path,
                    f"overlaps {path.rsplit('.', 1)[-1]}[{other_index}] "
                    f"({describe_window(other.day, other.start, other.end)})",
                )
        windows.append(window)
    return tuple(windows)


def _id(obj: Mapping[str, Any], path: str, seen: dict[str, str]) -> str:
    id_path = _join(path, "id")
    value = _string(_required(obj, "id", path), id_path)
    if value in seen:
        raise PlanInputError(id_path, f"{_show(value)} is already used by {seen[value]}")
    seen[value] = path
    return value


def _population_minutes(value: Any, path: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise PlanInputError(path, f"{_show(value)} is not an object")
    for key in value:
        if key not in POPULATIONS:
            raise PlanInputError(
                _join(path, str(key)),
                f"{_show(key)} is not a known population ({', '.join(POPULATIONS)})",
            )
    return {key: _integer(value[key], _join(path, key)) for key in POPULATIONS if key in value}


def _rules(value: Any) -> Rules:
    obj = _object(value, "rules", ("min_minutes", "max_minutes", "max_group_size"))
    min_minutes = _population_minutes(_required(obj, "min_minutes", "rules"), "rules.min_minutes")
    max_minutes = _population_minutes(_required(obj, "max_minutes", "rules"), "rules.max_minutes")
    for population, maximum in max_minutes.items():
        minimum = min_minutes.get(population)
        if minimum is not None and maximum < minimum:
            raise PlanInputError(
                f"rules.max_minutes.{population}",
                f"{maximum} is below rules.min_minutes.{population} ({minimum})",
            )
    max_group_size = _integer(
        _required(obj, "max_group_size", "rules"), "rules.max_group_size", minimum=1
    )
    return Rules(min_minutes, max_minutes, max_group_size)


def _clinician_ref(value: Any, path: str, clinician_ids: Mapping[str, str]) -> str:
    ref = _string(value, path)
    if ref not in clinician_ids:
        raise PlanInputError(path, f"{_show(ref)} is not a clinician id")
    return ref


def _clinicians(value: Any, seen: dict[str, str]) -> tuple[Clinician, ...]:
    result = []
    for index, raw in enumerate(_list(value, "clinicians")):
        path = f"clinicians[{index}]"
        obj = _object(raw, path, ("id", "available"))
        clinician_id = _id(obj, path, seen)
        available = _windows(_required(obj, "available", path), _join(path, "available"))
        result.append(Clinician(clinician_id, available))
    return tuple(result)


_GROUP_FIELDS = ("id", "track", "day", "start", "end", "facilitator", "capacity")


def _groups(value: Any, clinician_ids: Mapping[str, str]) -> tuple[Group, ...]:
    seen: dict[str, str] = {}
    result = []
    for index, raw in enumerate(_list(value, "groups")):
        path = f"groups[{index}]"
        obj = _object(raw, path, _GROUP_FIELDS)
        group_id = _id(obj, path, seen)
        track = _string(_required(obj, "track", path), _join(path, "track"))
        day, start, end = _span(obj, path)
        facilitator = _clinician_ref(
            _required(obj, "facilitator", path), _join(path, "facilitator"), clinician_ids
        )
        capacity = _integer(_required(obj, "capacity", path), _join(path, "capacity"))
        result.append(Group(group_id, track, day, start, end, facilitator, capacity))
    return tuple(result)


_PARTICIPANT_FIELDS = (
    "id",
    "population",
    "tracks",
    "available",
    "attended_minutes",
    "individual_minutes",
    "family_minutes",
    "primary_clinician",
)


def _population(value: Any, path: str, rules: Rules) -> str:
    if not isinstance(value, str):
        raise PlanInputError(path, f"{_show(value)} is not a string")
    if value not in POPULATIONS:
        raise PlanInputError(
            path, f"{_show(value)} is not a known population ({', '.join(POPULATIONS)})"
        )
    for rule in ("min_minutes", "max_minutes"):
        if value not in getattr(rules, rule):
            raise PlanInputError(path, f"{_show(value)} has no rules.{rule} entry")
    return value


def _participants(
    value: Any, rules: Rules, clinician_ids: Mapping[str, str]
) -> tuple[Participant, ...]:
    seen: dict[str, str] = {}
    result = []
    for index, raw in enumerate(_list(value, "participants")):
        path = f"participants[{index}]"
        obj = _object(raw, path, _PARTICIPANT_FIELDS)
        participant_id = _id(obj, path, seen)
        population = _population(
            _required(obj, "population", path), _join(path, "population"), rules
        )
        tracks_path = _join(path, "tracks")
        tracks = tuple(
            dict.fromkeys(  # keep order, drop repeats
                _string(track, f"{tracks_path}[{i}]")
                for i, track in enumerate(_list(_required(obj, "tracks", path), tracks_path))
            )
        )
        available = _windows(_required(obj, "available", path), _join(path, "available"))
        minutes = {
            key: _integer(obj.get(key, 0), _join(path, key))
            for key in ("attended_minutes", "individual_minutes", "family_minutes")
        }
        clinician_raw = obj.get("primary_clinician")
        clinician = None
        if clinician_raw is not None:
            clinician = _clinician_ref(
                clinician_raw, _join(path, "primary_clinician"), clinician_ids
            )
        elif minutes["individual_minutes"] or minutes["family_minutes"]:
            raise PlanInputError(
                _join(path, "primary_clinician"),
                "missing (needed to book individual or family sessions)",
            )
        result.append(
            Participant(
                id=participant_id,
                population=population,
                tracks=tracks,
                available=available,
                attended_minutes=minutes["attended_minutes"],
                individual_minutes=minutes["individual_minutes"],
                family_minutes=minutes["family_minutes"],
                primary_clinician=clinician,
            )
        )
    return tuple(result)


_TOP_FIELDS = ("schema", "week_start", "rules", "clinicians", "groups", "participants")


def parse_input(data: Any) -> PlanInput:
    """Validate an `openiop.plan-week/1` document (already JSON-decoded).

    Raises PlanInputError for the first problem found, in document order.
    """
    if not isinstance(data, dict):
        raise PlanInputError("(document)", f"{_show(data)} is not a JSON object")
    schema = _required(data, "schema", "")
    if schema != INPUT_SCHEMA:
        raise PlanInputError("schema", f"{_show(schema)} is not {_show(INPUT_SCHEMA)}")
    obj = _object(data, "", _TOP_FIELDS)
    week_start = _date(_required(obj, "week_start", ""), "week_start")
    rules = _rules(_required(obj, "rules", ""))
    clinician_ids: dict[str, str] = {}
    clinicians = _clinicians(_required(obj, "clinicians", ""), clinician_ids)
    groups = _groups(_required(obj, "groups", ""), clinician_ids)
    participants = _participants(_required(obj, "participants", ""), rules, clinician_ids)
    return PlanInput(
        week_start=week_start,
        rules=rules,
        clinicians=clinicians,
        groups=groups,
        participants=participants,
        clinician_by_id={c.id: c for c in clinicians},
        group_by_id={g.id: g for g in groups},
    )


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PlanInputError(path, f"{_show(value)} is not a date (YYYY-MM-DD)")
