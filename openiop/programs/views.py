"""The program settings page (/p/<program>/settings/): the program director's clinical
settings, each saved through its audited action."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.programs import actions
from openiop.programs.forms import ProgramSettingsForm
from openiop.programs.tradeoff import tradeoff_chart, tradeoff_rows


@require_http_methods(["GET", "POST"])
@requires(Perm.PROGRAM_SETTINGS)
def program_settings(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    program = request.access.program
    initial = {
        "not_on_track_improvement_percent": program.not_on_track_improvement_percent,
        "portal_shows_severity": program.portal_shows_severity,
        "safety_high_escalate_minutes": program.safety_high_escalate_minutes,
        "video_link_template": program.video_link_template,
        "in_person_place_of_service": program.in_person_place_of_service,
    }
    form = ProgramSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.program_settings_update(
                actor=request_user(request),
                program=program,
                improvement_percent=data["not_on_track_improvement_percent"],
                shows_severity=data["portal_shows_severity"],
                high_escalate_minutes=data["safety_high_escalate_minutes"],
                # Absent from an older form: left as it is.
                video_link_template=data.get("video_link_template")
                if "video_link_template" in request.POST
                else None,
                in_person_place_of_service=data.get("in_person_place_of_service") or None,
            )
        except ActionError as error:
            program.refresh_from_db()  # nothing was saved
            apply_action_errors(form, error)
        else:
            messages.success(request, "Program settings saved.")
            return redirect("programs:settings", program_id=program_id)
    rows = tradeoff_rows()
    context = {
        "program": program,
        "access": request.access,
        "form": form,
        "tradeoff": rows,
        "tradeoff_chart": tradeoff_chart(rows),
        "current_percent": program.not_on_track_improvement_percent,
    }
    return render(request, "programs/settings.html", context, status=422 if form.errors else 200)
