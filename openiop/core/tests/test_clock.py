"""The one clock: program dates and wall-clock times at the instants that break date code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from openiop.core import clock


@dataclass
class Place:
    time_zone: str


NEW_YORK = Place("America/New_York")
CHICAGO = Place("America/Chicago")


@pytest.mark.parametrize(
    ("instant", "place", "expected"),
    [
        # Just after midnight UTC the Americas are still on the previous day.
        (datetime(2027, 1, 4, 0, 5, tzinfo=UTC), NEW_YORK, date(2027, 1, 3)),
        (datetime(2027, 1, 4, 0, 5, tzinfo=UTC), CHICAGO, date(2027, 1, 3)),
        # New Year in UTC, 31 December in New York.
        (datetime(2028, 1, 1, 0, 30, tzinfo=UTC), NEW_YORK, date(2027, 12, 31)),
        # 1 March in UTC, the leap day in New York.
        (datetime(2028, 3, 1, 3, 0, tzinfo=UTC), NEW_YORK, date(2028, 2, 29)),
        # Midday: both agree.
        (datetime(2027, 6, 1, 16, 0, tzinfo=UTC), NEW_YORK, date(2027, 6, 1)),
    ],
)
def test_program_today_is_the_program_date_not_the_utc_date(instant, place, expected):
    with time_machine.travel(instant, tick=False):
        assert clock.program_today(place) == expected
        assert clock.today_in(place.time_zone) == expected
        assert clock.utc_today() == instant.date()


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2027, 3, 14), 23), (date(2027, 11, 7), 25), (date(2027, 6, 1), 24)],
)
def test_a_program_day_is_23_24_or_25_hours_long(day, hours):
    start, end = clock.day_bounds(day, NEW_YORK)
    assert end - start == timedelta(hours=hours)
    assert clock.local_date(start, NEW_YORK) == day
    assert clock.local_date(end - timedelta(microseconds=1), NEW_YORK) == day


def test_wall_time_after_midnight_belongs_to_a_group_that_crosses_it():
    start = clock.at_local(date(2027, 1, 13), time(22, 30), NEW_YORK)
    end = start + timedelta(hours=3)
    left = clock.wall_time_near(time(1, 10), start, end, NEW_YORK)
    assert clock.local_date(left, NEW_YORK) == date(2027, 1, 14)
    assert start < left < end
    arrived = clock.wall_time_near(time(22, 40), start, end, NEW_YORK)
    assert arrived == start + timedelta(minutes=10)


def test_wall_time_early_arrival_before_a_group_that_starts_after_midnight():
    start = clock.at_local(date(2027, 1, 14), time(0, 15), NEW_YORK)
    end = start + timedelta(hours=2)
    early = clock.wall_time_near(time(23, 55), start, end, NEW_YORK)
    assert early == start - timedelta(minutes=20)


def test_wall_time_in_an_ordinary_group_stays_on_its_day():
    start = clock.at_local(date(2027, 3, 14), time(9, 0), NEW_YORK)  # spring-forward day
    end = start + timedelta(hours=3)
    assert clock.wall_time_near(time(10, 0), start, end, NEW_YORK) == start + timedelta(hours=1)


def test_wall_time_in_the_repeated_hour_means_the_one_inside_the_group():
    # 2027-11-07, New York falls back at 02:00 EDT (06:00 UTC) to 01:00 EST.
    start = datetime(2027, 11, 7, 5, 35, tzinfo=UTC)  # 01:35 EDT
    end = start + timedelta(hours=3)
    arrived = clock.wall_time_near(time(1, 0), start, end, NEW_YORK)
    assert arrived == datetime(2027, 11, 7, 6, 0, tzinfo=UTC)  # 01:00 EST, 25 min in
    arrived = clock.wall_time_near(time(1, 50), start, end, NEW_YORK)
    assert arrived == datetime(2027, 11, 7, 5, 50, tzinfo=UTC)  # 01:50 EDT, 15 min in
