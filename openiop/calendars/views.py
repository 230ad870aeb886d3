"""Calendar feed pages (participant chart partial, "My calendar feed") and the public
.ics address. Staff views are guarded by `@requires` (404 for outsiders, 403 for members
without the permission); the public view's only key is the secret in its path."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, public, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.calendars import actions, ics, selectors
from openiop.calendars.models import FeedKind, FeedToken
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.groupwork.models import Session
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant

MAX_SECRET_LENGTH = 100


def _feed_access(request: ProgramRequest) -> ProgramAccess:
    """The access `@requires` resolved, refused under break-glass."""
    access = request.access
    if access.break_glass:
        # A break-glass grant is read-only; a feed would outlive it.
        raise PermissionDenied("break-glass access cannot manage calendar feeds")
    return access


def feed_url(request: HttpRequest, secret: str) -> str:
    return request.build_absolute_uri(reverse("calendar_feed:ics", kwargs={"secret": secret}))


def _error_text(error: ActionError) -> str:
    return " ".join(msg for msgs in error.errors.values() for msg in msgs)


# --- Participant feeds (from the chart) ---------------------------------------------------


def _participant_page(
    request: ProgramRequest, participant_id: UUID
) -> tuple[ProgramAccess, Participant]:
    access = _feed_access(request)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _render_participant_feed(
    request: HttpRequest,
    access: ProgramAccess,
    participant: Participant,
    *,
    new_url: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "can_manage_feed": True,
        "calendar_feed": selectors.live_participant_feed(
            program=access.program, participant=participant
        ),
        "calendar_feed_url": new_url,
        "calendar_feed_error": error,
    }
    template = (
        "calendars/_chart_feed.html"
        if getattr(request, "htmx", False)
        else "calendars/participant_feed.html"
    )
    return render(request, template, context, status=status)


@require_http_methods(["POST"])
@requires(Perm.FEED_MANAGE)
def participant_feed_create(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    try:
        _, secret = actions.feed_create_for_participant(
            actor=request_user(request), participant=participant
        )
    except ActionError as error:
        return _render_participant_feed(
            request, access, participant, error=_error_text(error), status=422
        )
    # The secret is shown in this response only; it is never stored or shown again.
    return _render_participant_feed(request, access, participant, new_url=feed_url(request, secret))


@require_http_methods(["POST"])
@requires(Perm.FEED_MANAGE)
def participant_feed_revoke(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    token = selectors.live_participant_feed(program=access.program, participant=participant)
    error = ""
    if token is None:
        error = "There is no calendar feed to revoke."
    else:
        try:
            actions.feed_revoke(actor=request_user(request), token=token)
        except ActionError as exc:
            error = _error_text(exc)
    if getattr(request, "htmx", False):
        return _render_participant_feed(request, access, participant, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Calendar feed revoked: its link no longer works.")
    return redirect(
        reverse(
            "participants:chart",
            kwargs={"program_id": program_id, "participant_id": participant.external_id},
        )
    )


# --- My calendar feed (any staff member of the program) -----------------------------------


def _render_mine(
    request: HttpRequest,
    access: ProgramAccess,
    *,
    new_url: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "access": access,
        "program": access.program,
        "calendar_feed": selectors.live_user_feed(
            program=access.program, user=request_user(request)
        ),
        "calendar_feed_url": new_url,
        "calendar_feed_error": error,
    }
    template = "calendars/_mine.html" if getattr(request, "htmx", False) else "calendars/mine.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET"])
@requires(Perm.PROGRAM_VIEW)
def my_feed(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    return _render_mine(request, _feed_access(request))


@require_http_methods(["POST"])
@requires(Perm.PROGRAM_VIEW)
def my_feed_create(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = _feed_access(request)
    try:
        _, secret = actions.feed_create_for_clinician(
            actor=request_user(request), user=request_user(request), program=access.program
        )
    except ActionError as error:
        return _render_mine(request, access, error=_error_text(error), status=422)
    return _render_mine(request, access, new_url=feed_url(request, secret))


@require_http_methods(["POST"])
@requires(Perm.PROGRAM_VIEW)
def my_feed_revoke(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = _feed_access(request)
    token = selectors.live_user_feed(program=access.program, user=request_user(request))
    if token is None:
        return _render_mine(request, access, error="There is no calendar feed to revoke.")
    try:
        actions.feed_revoke(actor=request_user(request), token=token)
    except ActionError as error:
        return _render_mine(request, access, error=_error_text(error), status=422)
    if getattr(request, "htmx", False):
        return _render_mine(request, access)
    messages.success(request, "Calendar feed revoked: its link no longer works.")
    return redirect(reverse("calendars:mine", kwargs={"program_id": program_id}))


# --- The public feed ----------------------------------------------------------------------


def _not_found() -> HttpResponse:
    """The same bytes for an unknown, revoked or malformed secret."""
    response = HttpResponse(b"Not found\n", status=404, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    # Django's request logger would write "Not Found: <path>", and the path is the secret.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@require_http_methods(["GET", "HEAD"])
@public
def feed_ics(request: HttpRequest, secret: str) -> HttpResponse:
    token = selectors.feed_token_for_secret(secret) if len(secret) <= MAX_SECRET_LENGTH else None
    if token is None:
        return _not_found()
    now = clock.now()
    body = _feed_body(request, token, now)
    try:
        actions.feed_use_record(token=token, at=now)
    except ActionError:
        return _not_found()  # revoked while the feed was being built: nothing is released
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = 'inline; filename="openiop.ics"'
    return response


def _feed_body(request: HttpRequest, token: FeedToken, now: Any) -> bytes:
    name = token.program.name
    if token.kind == FeedKind.PARTICIPANT:
        sessions = selectors.participant_feed_sessions(token=token, now=now)
        return ics.participant_calendar(program_name=name, sessions=sessions, stamp=now)

    def session_url(session: Session) -> str:
        path = reverse(
            "groupwork:runner",
            kwargs={"program_id": token.program.external_id, "session_id": session.external_id},
        )
        return request.build_absolute_uri(path)

    sessions = selectors.clinician_feed_sessions(token=token, now=now)
    return ics.clinician_calendar(
        program_name=name, sessions=sessions, stamp=now, session_url=session_url
    )
