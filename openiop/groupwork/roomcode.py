"""Room codes and video rooms: short secrets derived from the session, never stored.

A room code is HMAC(SECRET_KEY, session id + time window) written in an alphabet without
look-alike characters, so it can be read off a screen across the room and typed on a phone.
It changes every `OPENIOP_ROOM_CODE_MINUTES`; the previous window's code is still accepted so
that a code read just before it changes works. Nothing about the participant is in a code or
in a video room token (no PHI in URLs, AU-04)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from openiop.groupwork.models import Attendance, Modality, Session

# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: what remains cannot be misread.
ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
LENGTH = 6
TELEHEALTH_HOME_POS = "10"  # CMS: telehealth provided in the patient's home


@dataclass(frozen=True)
class RoomCode:
    code: str
    expires_at: datetime


def _period() -> int:
    return max(1, settings.OPENIOP_ROOM_CODE_MINUTES) * 60


def _window(at: datetime) -> int:
    return int(at.timestamp()) // _period()


def _digest(purpose: str, session: Session, extra: str = "") -> bytes:
    message = f"{purpose}:{session.external_id}:{extra}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def code_for(session: Session, window: int) -> str:
    digest = _digest("room-code", session, str(window))
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:LENGTH])


def current_code(session: Session, at: datetime) -> RoomCode:
    window = _window(at)
    expires = datetime.fromtimestamp((window + 1) * _period(), tz=at.tzinfo)
    return RoomCode(code_for(session, window), expires)


def normalise(text: str) -> str:
    """What a person typed, as a code: case, spaces and dashes do not matter."""
    return "".join(ch for ch in text.upper() if ch in ALPHABET)[: LENGTH * 2]


def matches(session: Session, code: str, at: datetime) -> bool:
    """The code of this window or the one before (compared in constant time)."""
    typed = normalise(code)
    window = _window(at)
    return any(hmac.compare_digest(typed, code_for(session, w)) for w in (window, window - 1))


def open_from(session: Session) -> datetime:
    return session.starts_at - timedelta(minutes=settings.OPENIOP_ROOM_CODE_EARLY_MINUTES)


def is_open(session: Session, at: datetime) -> bool:
    """Codes (and the video join) work from shortly before the start until the end."""
    return open_from(session) <= at <= session.ends_at and session.status != "cancelled"


def video_room(session: Session) -> str:
    """An opaque room token for the provider's link: derived, so nothing needs storing."""
    return _digest("video-room", session).hex()[:20]


def video_url(session: Session) -> str:
    """The session's own link, else the program's template with the room token; "" if none."""
    if session.video_link:
        return session.video_link
    template = session.program.video_link_template
    return template.replace("{room}", video_room(session)) if template else ""


def has_video(session: Session) -> bool:
    return session.modality in (Modality.VIRTUAL, Modality.HYBRID)


def place_of_service(session: Session, attendance: Attendance | None = None) -> str:
    """The place-of-service code for notes and billing: in person is the program's code,
    virtual is telehealth in the home, and hybrid depends on how this participant took part
    (someone who joined by video was seen by telehealth)."""
    in_person = session.program.in_person_place_of_service
    if session.modality == Modality.VIRTUAL:
        return TELEHEALTH_HOME_POS
    if session.modality == Modality.HYBRID and attendance is not None:
        return TELEHEALTH_HOME_POS if attendance.joined_by_video else in_person
    return in_person


POS_LABELS = {"02": "telehealth (other than home)", "10": "telehealth in the home", "11": "office"}


def place_label(code: str) -> str:
    return f"POS {code}" + (f" ({POS_LABELS[code]})" if code in POS_LABELS else "")
