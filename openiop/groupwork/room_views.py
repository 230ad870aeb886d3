"""The room screen: the rotating sign-in code (and its QR) shown in the room on the
facilitator's screen. It shows no names and no roster, only the session's title, time and
the code, because the people in the room can read it."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

import segno
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.groupwork import roomcode, selectors


def sign_in_url(request: ProgramRequest, code: str) -> str:
    """The portal page the QR opens: it carries the code and nothing else (no PHI)."""
    path = reverse("portal:sign_in") + "?" + urlencode({"code": code})
    return request.build_absolute_uri(path)


@require_http_methods(["GET"])
@requires(Perm.SESSION_RUN)
def room_screen(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    session = selectors.session_get(program=request.access.program, session_id=session_id)
    now = clock.now()
    context: dict[str, object] = {
        "session": session,
        "program": session.program,
        "open_from": roomcode.open_from(session),
        "tz": session.program.time_zone,
    }
    if roomcode.is_open(session, now):
        code = roomcode.current_code(session, now)
        url = sign_in_url(request, code.code)
        seconds_left = int((code.expires_at - now).total_seconds()) + 1
        context.update(
            {
                "code": code,
                "qr": segno.make(url, error="m").svg_data_uri(scale=8),
                # Reload as the code changes; stop once the session is over, so an unattended
                # screen does not keep a staff session alive past the group.
                "refresh": max(2, min(seconds_left, 60)),
            }
        )
    audit_record(
        actor=request_user(request), action="read", obj=session, detail={"view": "room_screen"}
    )
    return render(request, "groupwork/room_screen.html", context)
