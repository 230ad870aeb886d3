"""Staff pages for what a participant recorded between sessions: check-ins, the diary
card week, weekly goals, homework worksheets and the safety plan, which clinician and
participant write together."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record
from openiop.core.confirm import confirm_page, confirmed
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant
from openiop.portal import actions, selectors
from openiop.portal.alumni import alumni_end as end_alumni
from openiop.portal.alumni import current_membership
from openiop.portal.forms import SafetyPlanForm
from openiop.portal.models import DIARY_EMOTIONS, SAFETY_PLAN_STEPS, AlumniEndReason
from openiop.portal.views import answer_rows


def _participant(
    request: ProgramRequest, participant_id: UUID
) -> tuple[ProgramAccess, Participant]:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _week(request: HttpRequest) -> date | None:
    raw = request.GET.get("week")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise Http404("bad week") from None


@require_http_methods(["GET"])
@requires(Perm.SELFREPORT_VIEW)
def between_sessions(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant(request, participant_id)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "between_sessions"},
    )
    data = selectors.between_sessions(participant, _week(request))
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "data": data,
        "emotions": DIARY_EMOTIONS,
        "homework": [(item, answer_rows(item)) for item in data.homework],
        "tz": access.program.time_zone,
    }
    return render(request, "portal/staff/between_sessions.html", context)


def _steps(plan: Any) -> list[tuple[str, str, str]]:
    return [
        (heading, prompt, getattr(plan, name, "") if plan else "")
        for name, heading, prompt in SAFETY_PLAN_STEPS
    ]


@require_http_methods(["GET"])
@requires(Perm.SELFREPORT_VIEW)
def safety_plan(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access, participant = _participant(request, participant_id)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "safety_plan"}
    )
    plan = selectors.safety_plan(participant)
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "plan": plan,
        "steps": _steps(plan),
        "can_edit": access.can(Perm.PLAN_EDIT),
        "tz": access.program.time_zone,
    }
    return render(request, "portal/staff/safety_plan.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.PLAN_EDIT)
def safety_plan_edit(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant(request, participant_id)
    plan = selectors.safety_plan(participant)
    initial: dict[str, Any] = {"version": plan.version if plan else 0}
    if plan:
        initial.update({name: getattr(plan, name) for name, _, _ in SAFETY_PLAN_STEPS})
    form = SafetyPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.safety_plan_save(
                actor=request_user(request),
                participant=participant,
                version=form.cleaned_data["version"],
                steps=form.steps(),
            )
        except ActionError as exc:
            apply_action_errors(form, exc)
        else:
            messages.success(request, "Safety plan saved.")
            return redirect(
                "portal_staff:safety_plan",
                program_id=program_id,
                participant_id=participant.external_id,
            )
    if request.method == "GET":
        audit_record(
            actor=request_user(request),
            action="read",
            obj=participant,
            detail={"view": "safety_plan_edit"},
        )
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "form": form,
    }
    return render(
        request, "portal/staff/safety_plan_edit.html", context, status=422 if form.errors else 200
    )


@require_http_methods(["POST"])
@requires(Perm.PLAN_EDIT)
def safety_plan_reviewed(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    _, participant = _participant(request, participant_id)
    try:
        actions.safety_plan_mark_reviewed(actor=request_user(request), participant=participant)
    except ActionError as exc:
        messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
    else:
        messages.success(request, "Review recorded, including on any open safety event.")
    return redirect(
        "portal_staff:safety_plan", program_id=program_id, participant_id=participant.external_id
    )


@require_http_methods(["POST"])
@requires(Perm.PORTAL_INVITE)
def alumni_end(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    """Staff end a participant's alumni account (issue 15 §4), after a confirm step: the
    account is deactivated unless the participant is back in care."""
    _, participant = _participant(request, participant_id)
    chart = reverse(
        "participants:chart", kwargs={"program_id": program_id, "participant_id": participant_id}
    )
    membership = current_membership(participant, selectors.today_for(participant))
    if membership is None:
        messages.error(request, "This participant has no alumni account open.")
        return redirect(chart)
    if not confirmed(request):
        return confirm_page(
            request,
            title="End alumni account",
            question="End this participant's alumni account now?",
            details=[
                "They will no longer be able to log in to check in, see their safety plan or "
                "press 'Get help now'.",
                "Nothing they recorded is deleted.",
            ],
            button="End alumni account",
            cancel_url=chart,
        )
    try:
        end_alumni(actor=request_user(request), membership=membership, reason=AlumniEndReason.STAFF)
    except ActionError as exc:
        messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
    else:
        messages.success(request, "Alumni account ended.")
    return redirect(chart)
