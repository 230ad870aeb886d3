"""Attended minutes: arrival to departure, clamped to the session, in whole minutes.

clinical.md section 1: the weekly dose counts attended minutes, not scheduled minutes.
A participant who arrives 10 minutes late to a 180-minute group has attended 170.
"""

from __future__ import annotations

from datetime import datetime


def attended_minutes(
    *,
    session_start: datetime,
    session_end: datetime,
    arrived_at: datetime | None,
    departed_at: datetime | None,
) -> int:
    if arrived_at is None:
        return 0
    start = max(arrived_at, session_start)
    end = min(departed_at or session_end, session_end)
    if end <= start:
        return 0
    # Whole minutes only, rounded down: payers audit attended time, never round it up.
    return int((end - start).total_seconds() // 60)


def minutes_late(*, session_start: datetime, arrived_at: datetime | None) -> int:
    if arrived_at is None or arrived_at <= session_start:
        return 0
    return int((arrived_at - session_start).total_seconds() // 60)


def minutes_early(*, session_end: datetime, departed_at: datetime | None) -> int:
    if departed_at is None or departed_at >= session_end:
        return 0
    return int((session_end - departed_at).total_seconds() // 60)
