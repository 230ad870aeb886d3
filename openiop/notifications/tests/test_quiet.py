"""Quiet hours at the edges: held until they end, never dropped; DST-correct."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from openiop.core import clock
from openiop.notifications.quiet import send_after


@dataclass
class Zone:
    time_zone: str = "America/New_York"


NY = Zone()
START, END = time(21, 0), time(8, 0)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return clock.at_local(day, time(hh, mm), NY)


DAY = date(2027, 6, 10)


def test_outside_quiet_hours_is_unchanged() -> None:
    assert send_after(at(DAY, 20, 59), START, END, NY) == at(DAY, 20, 59)


def test_exactly_at_start_is_held_until_next_morning() -> None:
    assert send_after(at(DAY, 21, 0), START, END, NY) == at(date(2027, 6, 11), 8, 0)


def test_one_minute_before_end_is_held_until_end() -> None:
    assert send_after(at(DAY, 7, 59), START, END, NY) == at(DAY, 8, 0)


def test_exactly_at_end_is_sent() -> None:
    assert send_after(at(DAY, 8, 0), START, END, NY) == at(DAY, 8, 0)


def test_daytime_window() -> None:
    assert send_after(at(DAY, 13, 30), time(12, 0), time(14, 0), NY) == at(DAY, 14, 0)
    assert send_after(at(DAY, 14, 0), time(12, 0), time(14, 0), NY) == at(DAY, 14, 0)


def test_no_window_is_unchanged() -> None:
    assert send_after(at(DAY, 23, 0), None, None, NY) == at(DAY, 23, 0)


def test_across_spring_forward() -> None:
    # 2027-03-14 clocks go 02:00 -> 03:00 in New York: 08:00 that morning is EDT (UTC-4).
    held = send_after(at(date(2027, 3, 13), 22, 0), START, END, NY)
    assert held == at(date(2027, 3, 14), 8, 0)
    assert held.astimezone(clock.zone_named("UTC")).hour == 12


def test_across_fall_back() -> None:
    # 2027-11-07 clocks go 02:00 -> 01:00: 08:00 that morning is EST (UTC-5), 13:00 UTC.
    held = send_after(at(date(2027, 11, 6), 23, 30), START, END, NY)
    assert held.astimezone(clock.zone_named("UTC")).hour == 13
