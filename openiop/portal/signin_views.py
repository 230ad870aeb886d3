"""Signing in to a group from the portal: the room's code, or the video join of a virtual or
hybrid group. Both record arrival and departure candidates for the facilitator to confirm
(docs/self-sign-in.md). Nothing is recorded on a GET: the QR code only opens the page with
the code filled in, and the participant presses the button."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import participant_self
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.groupwork import actions as gw
from openiop.groupwork import roomcode
from openiop.groupwork.actions.selfsign import open_rows
from openiop.portal.requests import audit_portal_read, participant_request


class RoomCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code shown in the room"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _hhmm(moment: datetime) -> str:
    return clock.in_active_zone(moment).strftime("%H:%M")


@require_http_methods(["GET", "POST"])
@participant_self
def sign_in(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    clock.use_program_zone(me.program)
    if request.method == "POST":
        form = RoomCodeForm(request.POST)
        if form.is_valid():
            try:
                result = gw.attendance_self_sign(
                    actor=user, participant=me, code=form.cleaned_data["code"]
                )
            except ActionError as error:
                apply_action_errors(form, error)
            else:
                done = (
                    gettext("Signed in to %(group)s at %(time)s. The facilitator will confirm it.")
                    if result.verb == "arrived"
                    else gettext(
                        "Signed out of %(group)s at %(time)s. The facilitator will confirm it."
                    )
                )
                place = {"group": result.attendance.session.title, "time": _hhmm(result.at)}
                messages.success(request, done % place)
                return redirect("portal:sign_in")
    else:
        form = RoomCodeForm(initial={"code": roomcode.normalise(request.GET.get("code", ""))})
        audit_portal_read(user, me, "portal.sign_in")
    rows = open_rows(me, clock.now())
    signed_in = any(r.self_arrived_at and not r.self_left_at for r in rows)
    context = {
        "me": me,
        "form": form,
        "rows": [(r, roomcode.has_video(r.session)) for r in rows],
        "button": gettext("Sign out") if signed_in else gettext("Sign in"),
    }
    return render(request, "portal/sign_in.html", context, status=422 if form.errors else 200)


@require_http_methods(["POST"])
@participant_self
def video_join(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """Record the join, then go on to the provider's room (no video is built here)."""
    user, me = participant_request(request)
    try:
        row = gw.attendance_video_join(actor=user, participant=me, session_id=session_id)
    except ActionError as error:
        messages.error(request, " ".join(m for ms in error.errors.values() for m in ms))
        return redirect("portal:sign_in")
    url = roomcode.video_url(row.session)
    if not url:
        messages.error(request, gettext("This group has no video link yet. Ask your facilitator."))
        return redirect("portal:sign_in")
    return redirect(url)


@require_http_methods(["POST"])
@participant_self
def video_left(request: HttpRequest, session_id: UUID) -> HttpResponse:
    user, me = participant_request(request)
    clock.use_program_zone(me.program)
    try:
        result = gw.attendance_video_leave(actor=user, participant=me, session_id=session_id)
    except ActionError as error:
        messages.error(request, " ".join(m for ms in error.errors.values() for m in ms))
    else:
        messages.success(
            request, gettext("Noted: you left at %(time)s. Thank you.") % {"time": _hhmm(result.at)}
        )
    return redirect("portal:sign_in")
