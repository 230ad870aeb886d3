"""Staff pages for safety events (htmx, server-rendered).

Every view is guarded by `@requires` (404 for outsiders, 403 without the permission);
events and participants are looked up through the program. Pages that show participants
record a read of each one shown (AU-01).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants import selectors as participant_selectors
from openiop.safety import actions, selectors
from openiop.safety.forms import CloseForm, RaiseForm, StepForm
from openiop.safety.models import SafetyEvent, Source


def _event(request: ProgramRequest, event_id: UUID) -> tuple[ProgramAccess, SafetyEvent]:
    access = request.access
    return access, selectors.event_get(program=access.program, event_id=event_id)


def _detail_url(program_id: UUID, event: SafetyEvent) -> str:
    return reverse(
        "safety:detail", kwargs={"program_id": program_id, "event_id": event.external_id}
    )


@require_http_methods(["GET"])
@requires(Perm.SAFETY_VIEW)
def event_list(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    events = list(selectors.open_events(program=access.program))
    notifications = selectors.notifications_for(user=request_user(request), program=access.program)
    shown = {e.participant_id: e.participant for e in events}
    shown.update({n.event.participant_id: n.event.participant for n in notifications})
    audit_record_reads(
        actor=request_user(request),
        objects=list(shown.values()),
        program=access.program,
        view="safety",
    )
    return render(
        request,
        "safety/list.html",
        {
            "program": access.program,
            "events": events,
            "notifications": notifications,
            "unread": sum(1 for n in notifications if n.read_at is None),
            "can_ack": access.can(Perm.SAFETY_ACK),
        },
    )


def _detail_context(
    access: ProgramAccess, event: SafetyEvent, **forms_: forms.Form
) -> dict[str, Any]:
    return {
        "program": access.program,
        "event": event,
        "participant": event.participant,
        "steps": list(event.steps.all()),
        "can_ack": access.can(Perm.SAFETY_ACK),
        "escalates_at": actions.escalation_due_at(event) if event.is_open else None,
        "step_form": forms_.get("step_form") or StepForm(auto_id="id_step_%s"),
        "close_form": forms_.get("close_form") or CloseForm(auto_id="id_close_%s"),
    }


@require_http_methods(["GET"])
@requires(Perm.SAFETY_VIEW)
def event_detail(request: ProgramRequest, program_id: UUID, event_id: UUID) -> HttpResponse:
    access, event = _event(request, event_id)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=event.participant,
        detail={"view": "safety_event", "event": str(event.external_id)},
    )
    return render(request, "safety/detail.html", _detail_context(access, event))


@require_http_methods(["POST"])
@requires(Perm.SAFETY_ACK)
def event_acknowledge(request: ProgramRequest, program_id: UUID, event_id: UUID) -> HttpResponse:
    access, event = _event(request, event_id)
    try:
        actions.safety_event_acknowledge(actor=request_user(request), event=event)
    except ActionError as error:
        messages.error(request, " ".join(m for msgs in error.errors.values() for m in msgs))
    if getattr(request, "htmx", False):
        return render(
            request,
            "safety/_row.html",
            {"program": access.program, "event": event, "can_ack": True},
        )
    if request.POST.get("next") == "list":
        return redirect(_list_url(program_id))
    return redirect(_detail_url(program_id, event))


def _list_url(program_id: UUID) -> str:
    return reverse("safety:list", kwargs={"program_id": program_id})


@require_http_methods(["POST"])
@requires(Perm.SAFETY_ACK)
def event_step(request: ProgramRequest, program_id: UUID, event_id: UUID) -> HttpResponse:
    access, event = _event(request, event_id)
    form = StepForm(request.POST, auto_id="id_step_%s")
    if form.is_valid():
        try:
            actions.safety_event_record_step(
                actor=request_user(request),
                event=event,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            )
            return redirect(_detail_url(program_id, event))
        except ActionError as error:
            apply_action_errors(form, error)
    return render(
        request, "safety/detail.html", _detail_context(access, event, step_form=form), status=422
    )


@require_http_methods(["POST"])
@requires(Perm.SAFETY_ACK)
def event_close(request: ProgramRequest, program_id: UUID, event_id: UUID) -> HttpResponse:
    access, event = _event(request, event_id)
    form = CloseForm(request.POST, auto_id="id_close_%s")
    if form.is_valid():
        try:
            actions.safety_event_close(
                actor=request_user(request), event=event, **form.cleaned_data
            )
            messages.success(request, "Safety event closed.")
            return redirect(_detail_url(program_id, event))
        except ActionError as error:
            apply_action_errors(form, error)
    return render(
        request, "safety/detail.html", _detail_context(access, event, close_form=form), status=422
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.SAFETY_ACK)
def event_raise(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "safety_raise"}
    )
    form = RaiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = actions.safety_event_raise(
                actor=request_user(request),
                participant=participant,
                source=Source.STAFF,
                severity=form.cleaned_data["severity"],
                detail=form.cleaned_data["detail"],
            )
            messages.success(request, "Safety event raised; the care team has been alerted.")
            return redirect(_detail_url(program_id, event))
        except ActionError as error:
            apply_action_errors(form, error)
    status = 422 if form.errors else 200
    return render(
        request,
        "safety/raise.html",
        {"program": access.program, "participant": participant, "form": form},
        status=status,
    )
