"""Deterministic generator of synthetic `openiop.plan-week/1` instances.

Used by the tests and the benchmark. The shape follows a typical IOP (clinical.md section 1):
morning, afternoon and evening tracks on weekdays, 3-hour blocks or 90-minute halves, groups of
8-12, adults needing 540 min and adolescents 360 min (after school, so afternoon/evening), most
participants with a weekly individual session and some with a family session.

`availability="loose"` gives wide weekday windows; `"tight"` gives 2-4 days with windows hugging
the track hours, some cut short so that a group does not fit, which produces participants who
cannot reach the minimum and sessions that cannot be placed.
"""

from __future__ import annotations

import random
from typing import Any

from openiop.planner.schema import INPUT_SCHEMA, format_time

# track -> list of (start, end) in minutes after midnight; index 0 is the full 3-hour block.
_TRACK_SLOTS: dict[str, list[tuple[int, int]]] = {
    "AM": [
        (9 * 60, 12 * 60),
        (9 * 60, 10 * 60 + 30),
        (10 * 60 + 30, 12 * 60),
        (9 * 60 + 30, 11 * 60 + 30),
    ],
    "PM": [(13 * 60, 16 * 60), (13 * 60, 14 * 60 + 30), (14 * 60 + 30, 16 * 60)],
    "EVE": [(18 * 60, 21 * 60), (18 * 60, 19 * 60 + 30), (19 * 60 + 30, 21 * 60)],
}
# Hours around each track in which a participant might be free (for loose windows).
_TRACK_SPAN: dict[str, tuple[int, int]] = {
    "AM": (8 * 60, 13 * 60 + 30),
    "PM": (12 * 60, 17 * 60 + 30),
    "EVE": (16 * 60 + 30, 22 * 60),
}
_WEEKDAYS = (0, 1, 2, 3, 4)


def _window(day: int, start: int, end: int) -> dict[str, Any]:
    return {"day": day, "start": format_time(start), "end": format_time(end)}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping/adjacent spans of one day so windows never overlap (input rule)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clinicians(rng: random.Random, count: int) -> list[dict[str, Any]]:
    clinicians = []
    for index in range(count):
        kind = index % 3  # 0 day shift, 1 late shift, 2 part-time split shift
        windows: list[dict[str, Any]] = []
        if kind == 0:
            windows = [_window(d, 8 * 60, 17 * 60) for d in _WEEKDAYS]
        elif kind == 1:
            windows = [_window(d, 12 * 60, 21 * 60 + 30) for d in _WEEKDAYS]
        else:
            for day in sorted(rng.sample(_WEEKDAYS, 3)):
                windows.append(_window(day, 8 * 60 + 30, 12 * 60 + 30))
                windows.append(_window(day, 13 * 60, 21 * 60))
        clinicians.append({"id": f"C{index + 1}", "available": windows})
    return clinicians


def _covers(clinician: dict[str, Any], day: int, start: int, end: int) -> bool:
    for w in clinician["available"]:
        w_start = int(w["start"][:2]) * 60 + int(w["start"][3:])
        w_end = int(w["end"][:2]) * 60 + int(w["end"][3:])
        if w["day"] == day and w_start <= start and end <= w_end:
            return True
    return False


def _groups(
    rng: random.Random, count: int, clinicians: list[dict[str, Any]], block_share: float
) -> list[dict[str, Any]]:
    groups = []
    tracks = ["AM", "PM", "EVE"]
    for index in range(count):
        track = tracks[index % 3] if index < 3 else rng.choices(tracks, weights=(4, 3, 4))[0]
        slots = _TRACK_SLOTS[track]
        start, end = slots[0] if rng.random() < block_share else rng.choice(slots[1:])
        day = _WEEKDAYS[index % 5] if index < 15 else rng.choice(_WEEKDAYS)
        able = [c for c in clinicians if _covers(c, day, start, end)] or clinicians
        groups.append(
            {
                "id": f"G{index + 1:03d}-{track}",
                "track": track,
                "day": day,
                "start": format_time(start),
                "end": format_time(end),
                "facilitator": rng.choice(able)["id"],
                "capacity": rng.choice((8, 10, 12, 12, 14)),
            }
        )
    return groups


def _availability(rng: random.Random, tracks: list[str], tight: bool) -> list[dict[str, Any]]:
    if tight:
        days = sorted(rng.sample(_WEEKDAYS, rng.choice((2, 3, 3, 4))))
    else:
        days = [d for d in _WEEKDAYS if rng.random() < 0.9] or [0]
    windows: list[dict[str, Any]] = []
    for day in days:
        spans = []
        for track in tracks:
            low, high = _TRACK_SPAN[track]
            if tight:
                block_start, block_end = _TRACK_SLOTS[track][0]
                low = block_start - rng.choice((0, 15, 30, 60))
                # One window in four ends before the block does: a late-arriving bus, a shift.
                high = (
                    block_end + rng.choice((0, 30, 60, 90))
                    if rng.random() > 0.25
                    else (block_end - 60)
                )
            spans.append((low, high))
        windows.extend(_window(day, s, e) for s, e in _merge(spans))
    return windows


def _participants(
    rng: random.Random, count: int, clinicians: list[dict[str, Any]], tight: bool
) -> list[dict[str, Any]]:
    participants = []
    for index in range(count):
        adolescent = rng.random() < 0.25
        if adolescent:
            tracks = [rng.choice(("PM", "EVE"))]
        else:
            tracks = [rng.choice(("AM", "PM", "EVE"))]
            if rng.random() < 0.2:
                tracks.append(rng.choice([t for t in ("AM", "PM", "EVE") if t != tracks[0]]))
        # Most people see a clinician whose shift matches their track; some do not.
        preferred = [
            c for c in clinicians if (tracks[0] == "EVE") == (int(c["id"][1:]) % 3 == 2)
        ] or clinicians
        clinician = rng.choice(preferred if rng.random() < 0.8 else clinicians)
        individual = rng.choices((60, 45, 0), weights=(7, 1, 2))[0]
        family_chance = 0.5 if adolescent else 0.2
        family = rng.choice((60, 90)) if rng.random() < family_chance else 0
        participants.append(
            {
                "id": f"P{index + 1:03d}",
                "population": "adolescent" if adolescent else "adult",
                "tracks": tracks,
                "available": _availability(rng, tracks, tight),
                "attended_minutes": 0,
                "individual_minutes": individual,
                "family_minutes": family,
                "primary_clinician": clinician["id"],
            }
        )
    return participants


def generate_instance(
    participants: int,
    clinicians: int | None = None,
    groups: int | None = None,
    availability: str = "loose",
    seed: int = 0,
    block_share: float = 1.0,
) -> dict[str, Any]:
    """A JSON-ready `openiop.plan-week/1` document; same arguments -> same document.

    Clinicians and groups default to the benchmark's ratio (15 and 40 per 200 participants).
    `block_share` is the share of groups that are whole 3-hour program blocks (the unit of the
    contract's example and of clinical.md's "typical week: 3 days x 3 h"); the others are
    90-120 minute groups (e.g. relapse prevention, family education), which make the planning
    problem markedly harder because minutes no longer come in equal steps.
    """
    if availability not in ("loose", "tight"):
        raise ValueError(f"availability must be 'loose' or 'tight', not {availability!r}")
    rng = random.Random(f"{participants}-{clinicians}-{groups}-{availability}-{seed}-{block_share}")
    n_clinicians = clinicians if clinicians is not None else max(2, round(participants * 15 / 200))
    n_groups = groups if groups is not None else max(4, round(participants * 40 / 200))
    clinician_docs = _clinicians(rng, n_clinicians)
    return {
        "schema": INPUT_SCHEMA,
        "week_start": "2026-12-07",
        "rules": {
            "min_minutes": {"adult": 540, "adolescent": 360},
            "max_minutes": {"adult": 1140, "adolescent": 1140},
            "max_group_size": 12,
        },
        "clinicians": clinician_docs,
        "groups": _groups(rng, n_groups, clinician_docs, block_share),
        "participants": _participants(rng, participants, clinician_docs, availability == "tight"),
    }
