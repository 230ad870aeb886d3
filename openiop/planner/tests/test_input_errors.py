"""Malformed input: exit status 2 and a one-line message naming the offending field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openiop.planner.cli import main
from openiop.planner.tests.helpers import example, group, person, window, write

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    """Mutation setting a dotted path ("participants.0.available.0.end") to value."""

    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return mutate


def _add_participant(**fields: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        base = person("P2", [window(1, "08:00", "12:00")])
        base.update(fields)
        doc["participants"].append(base)

    return mutate


def _add_window(target: str, day: int, start: str, end: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        kind, index = target.split(".")
        doc[kind][int(index)]["available"].append(window(day, start, end))

    return mutate


CASES: list[tuple[str, Mutation, str]] = [
    # (case id, mutation of the example, expected start of the stderr message)
    ("schema-wrong", _set("schema", "openiop.plan-week/2"), 'schema: "openiop.plan-week/2"'),
    ("schema-missing", _delete("schema"), "schema: missing"),
    ("schema-result-tag", _set("schema", "openiop.plan-week-result/1"), "schema:"),
    ("unknown-top-field", _set("colour", "blue"), "colour: unknown field"),
    (
        "unknown-participant-field",
        _set("participants.0.nickname", "Al"),
        "participants[0].nickname: unknown field",
    ),
    ("unknown-group-field", _set("groups.0.room", "A"), "groups[0].room: unknown field"),
    ("unknown-rules-field", _set("rules.max_days", 5), "rules.max_days: unknown field"),
    (
        "unknown-window-field",
        _set("participants.0.available.0.note", "x"),
        "participants[0].available[0].note: unknown field",
    ),
    (
        "time-25",
        _set("participants.0.available.0.end", "25:00"),
        'participants[0].available[0].end: "25:00" is not a time',
    ),
    (
        "time-one-digit",
        _set("participants.0.available.0.start", "8:30"),
        'participants[0].available[0].start: "8:30" is not a time',
    ),
    (
        "time-minutes-60",
        _set("groups.0.start", "09:60"),
        'groups[0].start: "09:60" is not a time',
    ),
    ("time-number", _set("groups.0.end", 12), "groups[0].end: 12 is not a time"),
    (
        "time-24-as-start",
        _set("clinicians.0.available.0.start", "24:00"),
        'clinicians[0].available[0].start: "24:00" is not a time',
    ),
    (
        "window-inverted",
        _set("participants.0.available.0.end", "08:00"),
        'participants[0].available[0].end: "08:00" is not after start "08:30"',
    ),
    (
        "window-empty",
        _set("clinicians.0.available.0.end", "08:00"),
        "clinicians[0].available[0].end:",
    ),
    ("group-inverted", _set("groups.0.end", "09:00"), "groups[0].end:"),
    ("day-7", _set("participants.0.available.0.day", 7), "participants[0].available[0].day: 7"),
    ("day-negative", _set("groups.0.day", -1), "groups[0].day: -1 is not a day"),
    ("day-string", _set("groups.0.day", "Monday"), 'groups[0].day: "Monday" is not a day'),
    (
        "overlapping-participant-windows",
        _add_window("participants.0", 0, "12:00", "14:00"),
        "participants[0].available[1]: overlaps available[0]",
    ),
    (
        "overlapping-clinician-windows",
        _add_window("clinicians.0", 0, "07:00", "09:00"),
        "clinicians[0].available[1]: overlaps available[0]",
    ),
    (
        "duplicate-participant",
        _add_participant(id="P1"),
        'participants[1].id: "P1" is already used by participants[0]',
    ),
    (
        "duplicate-group",
        lambda doc: doc["groups"].append(group("G-mon-am", 1)),
        'groups[1].id: "G-mon-am" is already used',
    ),
    (
        "duplicate-clinician",
        lambda doc: doc["clinicians"].append({"id": "C1", "available": []}),
        'clinicians[1].id: "C1" is already used',
    ),
    (
        "unknown-facilitator",
        _set("groups.0.facilitator", "C9"),
        'groups[0].facilitator: "C9" is not a clinician id',
    ),
    (
        "unknown-primary-clinician",
        _set("participants.0.primary_clinician", "C9"),
        'participants[0].primary_clinician: "C9" is not a clinician id',
    ),
    (
        "primary-clinician-missing-with-sessions",
        _delete("participants.0.primary_clinician"),
        "participants[0].primary_clinician: missing",
    ),
    (
        "unknown-population",
        _set("participants.0.population", "child"),
        'participants[0].population: "child" is not a known population',
    ),
    (
        "population-without-rules",
        lambda doc: doc["rules"]["min_minutes"].pop("adult"),
        'participants[0].population: "adult" has no rules.min_minutes entry',
    ),
    (
        "rules-unknown-population",
        _set("rules.min_minutes.senior", 300),
        'rules.min_minutes.senior: "senior" is not a known population',
    ),
    (
        "negative-attended",
        _set("participants.0.attended_minutes", -30),
        "participants[0].attended_minutes: -30 is negative",
    ),
    (
        "negative-individual",
        _set("participants.0.individual_minutes", -60),
        "participants[0].individual_minutes: -60 is negative",
    ),
    (
        "negative-family",
        _set("participants.0.family_minutes", -1),
        "participants[0].family_minutes: -1 is negative",
    ),
    ("negative-min-rule", _set("rules.min_minutes.adult", -1), "rules.min_minutes.adult: -1"),
    ("negative-capacity", _set("groups.0.capacity", -2), "groups[0].capacity: -2 is negative"),
    (
        "max-below-min",
        _set("rules.max_minutes.adult", 300),
        "rules.max_minutes.adult: 300 is below rules.min_minutes.adult (540)",
    ),
    ("group-size-zero", _set("rules.max_group_size", 0), "rules.max_group_size: 0"),
    (
        "capacity-string",
        _set("groups.0.capacity", "12"),
        'groups[0].capacity: "12" is not an integer',
    ),
    (
        "capacity-bool",
        _set("groups.0.capacity", True),
        "groups[0].capacity: true is not an integer",
    ),
    (
        "minutes-float",
        _set("participants.0.attended_minutes", 30.5),
        "participants[0].attended_minutes: 30.5 is not an integer",
    ),
    (
        "tracks-string",
        _set("participants.0.tracks", "AM"),
        'participants[0].tracks: "AM" is not a list',
    ),
    (
        "track-number",
        _set("participants.0.tracks", [1]),
        "participants[0].tracks[0]: 1 is not a string",
    ),
    ("id-number", _set("participants.0.id", 7), "participants[0].id: 7 is not a string"),
    ("id-empty", _set("groups.0.id", ""), "groups[0].id: must not be empty"),
    (
        "available-object",
        _set("participants.0.available", {}),
        "participants[0].available: {} is not a list",
    ),
    (
        "window-not-object",
        _set("participants.0.available.0", "Mon"),
        "participants[0].available[0]:",
    ),
    ("participants-object", _set("participants", {}), "participants: {} is not a list"),
    ("rules-list", _set("rules", []), "rules: [] is not an object"),
    (
        "missing-population",
        _delete("participants.0.population"),
        "participants[0].population: missing",
    ),
    ("missing-track", _delete("groups.0.track"), "groups[0].track: missing"),
    (
        "missing-window-day",
        _delete("clinicians.0.available.0.day"),
        "clinicians[0].available[0].day: missing",
    ),
    ("missing-groups", _delete("groups"), "groups: missing"),
    ("missing-max-group-size", _delete("rules.max_group_size"), "rules.max_group_size: missing"),
    ("bad-date", _set("week_start", "2026-13-01"), 'week_start: "2026-13-01" is not a date'),
    ("date-number", _set("week_start", 20261207), "week_start: 20261207 is not a date"),
]


@pytest.mark.parametrize(
    ("mutation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_input_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutation: Mutation, expected: str
) -> None:
    doc = example()
    mutation(doc)
    status = main([write(tmp_path, doc)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.startswith(expected), captured.err
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1  # one line


def test_example_message_is_exactly_in_the_documented_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = example()
    doc["participants"] = [
        {**doc["participants"][0], "id": f"P{i}"} for i in range(4)
    ]  # four participants so the index is 3
    doc["participants"][3]["available"] = [window(0, "08:30", "25:00")]
    assert main([write(tmp_path, doc)]) == 2
    assert capsys.readouterr().err == ('participants[3].available[0].end: "25:00" is not a time\n')


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{not json", "not valid JSON"), ("[]", "[] is not a JSON object"), ("", "not valid JSON")],
)
def test_unparseable_documents_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content, encoding="utf-8")
    assert main([str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "absent.json: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["in.json", "--time-limit", "0"],
        ["in.json", "--time-limit", "abc"],
        ["in.json", "--seed", "x"],
        ["in.json", "--seed", "-1"],
        ["in.json", "--seed", "99999999999"],
        ["in.json", "--unknown-option"],
    ],
)
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    assert "openiop plan-week:" in capsys.readouterr().err


def test_defaults_are_applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """attended/individual/family minutes default to 0; primary_clinician is then optional."""
    doc = example()
    for key in ("attended_minutes", "individual_minutes", "family_minutes", "primary_clinician"):
        del doc["participants"][0][key]
    assert main([write(tmp_path, doc), "--time-limit", "5"]) == 0
    capsys.readouterr()
