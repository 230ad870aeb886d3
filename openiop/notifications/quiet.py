"""Quiet hours: a message due inside them is held until they end, never dropped."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from openiop.core import clock
from openiop.core.clock import HasTimeZone


def _in_window(at: time, start: time, end: time) -> bool:
    # Start is inside, end is outside; an overnight window (21:00-08:00) wraps midnight.
    if start <= end:
        return start <= at < end
    return at >= start or at < end


def send_after(
    due_at: datetime, quiet_start: time | None, quiet_end: time | None, program: HasTimeZone
) -> datetime:
    """The first instant at or after `due_at` outside quiet hours (program zone, DST-correct)."""
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return due_at
    local = clock.local_time(due_at, program)
    if not _in_window(local.time().replace(tzinfo=None), quiet_start, quiet_end):
        return due_at
    day = local.date()
    if quiet_start > quiet_end and local.time().replace(tzinfo=None) >= quiet_start:
        day = day + timedelta(days=1)
    return clock.at_local(day, quiet_end, program)
