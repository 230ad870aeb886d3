"""Tracking and ending a user's server sessions (AUTH-06)."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.http import HttpRequest

from openiop.accounts.models import User, UserSession

AUTH_AT_KEY = "openiop_auth_at"
LAST_SEEN_KEY = "openiop_last_seen"


def session_track(request: HttpRequest, user: User) -> None:
    """Remember this session as the user's; call after login and after a key rotation."""
    if not request.session.session_key:
        request.session.save()
    key = request.session.session_key
    assert key is not None
    UserSession.objects.update_or_create(session_key=key, defaults={"user": user})


def session_rotate(request: HttpRequest, user: User) -> None:
    """New session id on a privilege change, so a fixed or stolen old id is worthless."""
    old_key = request.session.session_key
    request.session.cycle_key()
    if old_key:
        UserSession.objects.filter(session_key=old_key).delete()
    session_track(request, user)


def sessions_end_others(user: User, keep_key: str | None) -> int:
    """Destroy every server session of `user` except `keep_key`; returns how many ended."""
    keys = list(
        UserSession.objects.filter(user=user)
        .exclude(session_key=keep_key or "")
        .values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)
