"""Small builders for calendar feed tests, on top of the real actions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from icalendar import Calendar

from openiop.accounts.models import User
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Session
from openiop.participants.models import Participant
from openiop.testing import World

FEED_URL = re.compile(r"https?://[^\"'<\s]+/calendar/([A-Za-z0-9_-]+)\.ics")


def fetch(secret: str) -> Any:
    """A calendar app: no cookies, no log-in."""
    return Client().get(f"/calendar/{secret}.ics")


def events(content: bytes) -> list[Any]:
    return list(Calendar.from_ical(content).walk("VEVENT"))


def uids(content: bytes) -> set[str]:
    return {str(event["UID"]) for event in events(content)}


def session(
    world: World,
    *,
    starts_at: datetime,
    kind: str = "individual",
    title: str = "1:1",
    facilitator: User | None = None,
    co_facilitator: User | None = None,
    participants: list[Participant] | None = None,
    room: str = "Room 2",
    video_link: str = "",
) -> Session:
    created = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=50),
        facilitator=facilitator or world.clinician_a,
        co_facilitator=co_facilitator,
        track=world.track_a if kind == "group" else None,
        plan_code="cbt-02" if kind == "group" else "",
        room=room,
        video_link=video_link,
    )
    for person in participants or []:
        gw.attendance_add(actor=world.clinician_a, session=created, participant=person)
    return created


def secret_in(html: bytes) -> str:
    match = FEED_URL.search(html.decode())
    assert match, "the response shows no feed address"
    return match.group(1)
