"""The one clock: every "now" and "today" in OpenIOP comes from here.

A program runs on its own calendar. "Today" is the date *in the program's time zone*, which is
not the server's date and not the UTC date: between midnight UTC and midnight in New York the two
differ, and a date taken from the wrong one makes a same-day revocation "in the future" or a
same-day admission "yesterday". So:

- an instant is `now()` (aware, UTC; Django's `timezone.now()`, which time-machine freezes);
- a date is always asked *of a program* (`program_today`, `local_date`), or of a named zone;
- a wall-clock time on a program's calendar becomes an instant with `at_local`.

`date.today()`, `datetime.now()`, `timezone.now().date()` and `timezone.localdate()` are
forbidden outside this module; `tests/test_one_clock.py` fails when one appears.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol

from django.utils import timezone


class HasTimeZone(Protocol):
    """Anything with an IANA time-zone name: a Program, or a test double."""

    time_zone: str


@lru_cache(maxsize=64)
def zone_named(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def zone(program: HasTimeZone) -> zoneinfo.ZoneInfo:
    """The program's time zone (cached: building a ZoneInfo reads the tz database)."""
    return zone_named(program.time_zone)


def now() -> datetime:
    """The current instant, aware and in UTC."""
    return timezone.now()


def utc_today() -> date:
    """The UTC date, for labels that are not about any program (a benchmark report's run date).
    Never use it for anything a program does."""
    return datetime.now(UTC).date()


def program_now(program: HasTimeZone) -> datetime:
    """The current instant on the program's wall clock."""
    return now().astimezone(zone(program))


def program_today(program: HasTimeZone) -> date:
    """Today's date where the program is, the only meaning "today" has in OpenIOP."""
    return program_now(program).date()


def today_in(zone_name: str) -> date:
    """Today in a named zone, for code that has a zone but no program yet (a new program)."""
    return now().astimezone(zone_named(zone_name)).date()


def local_date(moment: datetime, program: HasTimeZone) -> date:
    """The program-calendar date on which an instant falls."""
    return moment.astimezone(zone(program)).date()


def local_time(moment: datetime, program: HasTimeZone) -> datetime:
    """An instant shown on the program's wall clock."""
    return moment.astimezone(zone(program))


def at_local(day: date, at: time, program: HasTimeZone) -> datetime:
    """The instant at wall-clock `at` on `day` in the program's zone.

    On a spring-forward day a time that does not exist (02:30) resolves, as zoneinfo does, to the
    offset in force before the change; on a fall-back day the first of the two 01:30s is meant.
    """
    return datetime.combine(day, at, tzinfo=zone(program))


def wall_time_near(at: time, start: datetime, end: datetime, program: HasTimeZone) -> datetime:
    """The instant a wall-clock time typed for an event from `start` to `end` means.

    A group from 22:30 to 01:30 that someone left at "01:10" left after midnight, on the next
    calendar day: of the candidate days around the event, the one whose `at` falls in (or
    nearest to) the event wins, so times on either side of local midnight resolve correctly.
    On a fall-back day both 01:xx instants are candidates (`fold`): a group from 01:35 EDT to
    04:35 EST that someone reached at "01:00" arrived at 01:00 EST, inside the group, not an
    hour before it began.
    """
    first = local_date(start, program)

    def distance(moment: datetime) -> float:
        if start <= moment <= end:
            return 0.0
        return min(abs((moment - start).total_seconds()), abs((moment - end).total_seconds()))

    candidates = [
        at_local(first + timedelta(days=offset), at.replace(fold=fold), program).astimezone(UTC)
        for offset in (-1, 0, 1)
        for fold in (0, 1)
    ]
    return min(candidates, key=distance)


def aware_in_program(naive: datetime, program: HasTimeZone) -> datetime:
    """Interpret a naive wall-clock value (a form field) as program time."""
    return naive.replace(tzinfo=zone(program))


def day_bounds(day: date, program: HasTimeZone) -> tuple[datetime, datetime]:
    """[start, end) instants of a program-calendar day (23 or 25 hours long on DST days)."""
    # In UTC: Python subtracts and compares two datetimes that share a tzinfo by wall time,
    # which would make every day 24 hours long.
    start = at_local(day, time.min, program).astimezone(UTC)
    end = at_local(day + timedelta(days=1), time.min, program).astimezone(UTC)
    return start, end


def use_program_zone(program: HasTimeZone) -> None:
    """For the rest of this request, forms read and templates show times in the program's zone.

    Called where a request's program is resolved (staff access, the participant's own record);
    `RequestIdMiddleware` deactivates it when the request ends, so no zone outlives its request.
    Without it a clinician's "09:00" typed into a form is parsed as 09:00 UTC.
    """
    timezone.activate(zone(program))


def in_active_zone(moment: datetime) -> datetime:
    """An instant on the wall clock of the zone active for this request: the program's once
    `use_program_zone` has run (UTC before that, and a zone label then says so)."""
    return moment.astimezone(timezone.get_current_timezone())
