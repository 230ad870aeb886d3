"""The runner's "Correct attendance" form for a participant whose note is signed (issue 18
item 1): the plain arrival/departure/absent edits are refused once the note is signed, and
this form corrects the row and adds the addendum re-stating the minutes in one action."""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

from django import forms
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.groupwork import selectors
from openiop.groupwork.actions.corrections import attendance_correct
from openiop.groupwork.models import AttendanceStatus, Session
from openiop.groupwork.views import _errors_text, _row_response


class AttendanceCorrectForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (AttendanceStatus.PRESENT, "Present"),
            (AttendanceStatus.ABSENT, "Absent"),
            (AttendanceStatus.EXCUSED, "Excused"),
        ],
        label="Attendance",
    )
    arrived = forms.TimeField(required=False, label="Arrived")
    departed = forms.TimeField(required=False, label="Left")
    reason = forms.CharField(max_length=300, label="Reason for the correction")


def _wall(session: Session, value: time | None) -> datetime | None:
    # A group that crosses local midnight takes "00:40" as after midnight, not before start.
    if value is None:
        return None
    return clock.wall_time_near(value, session.starts_at, session.ends_at, session.program)


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_correct_view(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    """Correct the attendance behind a signed note; answers with the roster row."""
    access = request.access
    access.require(Perm.NOTE_WRITE)  # the correction is an addendum to the note
    session = selectors.session_get(program=access.program, session_id=session_id)
    attendance = selectors.attendance_get(session=session, attendance_id=attendance_id)
    form = AttendanceCorrectForm(request.POST)
    if not form.is_valid():
        name = next(iter(form.errors))
        label = form.fields[name].label or name
        return _row_response(
            request, session, attendance.external_id, f"{label}: {form.errors[name][0]}"
        )
    data = form.cleaned_data
    try:
        attendance_correct(
            actor=request_user(request),
            attendance=attendance,
            reason=data["reason"],
            status=data["status"],
            arrived_at=_wall(session, data.get("arrived")),
            departed_at=_wall(session, data.get("departed")),
        )
    except ActionError as error:
        return _row_response(request, session, attendance.external_id, _errors_text(error))
    return _row_response(request, session, attendance.external_id)
