"""Render feeds as iCalendar (RFC 5545) with the `icalendar` library.

A phone calendar is outside OpenIOP, so an event carries only what its owner may see:
a participant's event never names anyone else; a clinician's event shows the roster size,
never who is on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from icalendar import Calendar, Event

from openiop.groupwork.models import Session, SessionKind, SessionStatus

PRODID = "-//OpenIOP//Calendar feeds//EN"


def event_uid(session: Session) -> str:
    return f"{session.external_id}@openiop"


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _event(session: Session, *, summary: str, location: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", event_uid(session))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    cancelled = session.status == SessionStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def participant_calendar(
    *, program_name: str, sessions: Iterable[Session], stamp: datetime
) -> bytes:
    cal = _calendar(f"{program_name}: my sessions")
    for session in sessions:
        event = _event(
            session,
            summary=session.title,
            location=session.room or session.video_link,
            stamp=stamp,
        )
        if session.video_link:
            event.add("description", f"Video link: {session.video_link}")
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical


def clinician_summary(session: Session) -> str:
    # Individual and family sessions are often titled after the person seen; the kind
    # says enough on a phone. Group titles name the group, not its members.
    if session.kind == SessionKind.GROUP:
        return session.title
    return f"{session.get_kind_display()} session"


def clinician_calendar(
    *,
    program_name: str,
    sessions: Iterable[Session],
    stamp: datetime,
    session_url: Callable[[Session], str],
) -> bytes:
    cal = _calendar(f"{program_name}: sessions I run")
    for session in sessions:
        location = session.room or ("Video" if session.video_link else "")
        event = _event(session, summary=clinician_summary(session), location=location, stamp=stamp)
        roster = getattr(session, "roster_size", 0)
        description = f"{session.get_kind_display()} session · {roster} on the roster"
        if session.video_link:
            description += f"\nVideo link: {session.video_link}"
        event.add("description", description)
        event.add("categories", [session.get_kind_display()])
        event.add("url", session_url(session))
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical
