"""Staff pages for participants and episodes of care (htmx, server-rendered).

Every view is guarded by `@requires` (404 for outsiders, 403 for members whose role does not
allow the action); the view reads the resolved access from `request.access`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import clinicians_for_program
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.calendars.chart import chart_calendar
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.groupwork.chart import chart_groupwork
from openiop.measures.alerts import chart_outcome_alerts
from openiop.measures.chart import chart_measures
from openiop.medical.selectors import chart_medical_risk
from openiop.participants import actions, selectors
from openiop.participants.forms import (
    AdmitForm,
    DischargeForm,
    EditForm,
    EpisodeForm,
    FilterForm,
    PhaseChangeForm,
    discharge_initial,
    phase_change_initial,
)
from openiop.participants.models import Participant, Phase
from openiop.portal.chart import chart_portal
from openiop.safety.selectors import chart_alerts
from openiop.treatment.selectors import chart_plan


@require_http_methods(["GET"])
@requires(Perm.PROGRAM_VIEW)
def program_home(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    program = access.program
    census = selectors.program_census(program=program)
    context = {
        "access": access,
        "program": program,
        "census": census,
        "phases": list(Phase),
        "census_total": sum(row.total for row in census),
        "census_chart": selectors.census_chart(census),
        "can_list": access.can(Perm.PARTICIPANT_LIST),
        "can_admit": access.can(Perm.PARTICIPANT_ADMIT),
        "can_audit": access.can(Perm.AUDIT_VIEW),
        "can_run_groups": access.can(Perm.ROSTER_VIEW),
        "can_manage_staff": access.can(Perm.STAFF_MANAGE),
        "can_change_settings": access.can(Perm.PROGRAM_SETTINGS),
        "can_plan": access.can(Perm.SCHEDULE_MANAGE),
        "can_outcomes": access.can(Perm.ASSESSMENT_VIEW),
        "rules": program.rules,
    }
    return render(request, "participants/program_home.html", context)


def _filters_from(form: FilterForm) -> selectors.ParticipantFilters:
    data = form.cleaned_data
    return selectors.ParticipantFilters(
        q=data.get("q") or "",
        track=data["track"].external_id if data.get("track") else None,
        phase=data.get("phase") or "",
        clinician=data["clinician"].external_id if data.get("clinician") else None,
        status=data.get("status") or selectors.Status.ACTIVE,
    )


@require_http_methods(["GET"])
@requires(Perm.PARTICIPANT_LIST)
def participant_list(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    program = access.program
    tracks = selectors.tracks_for_program(program=program)
    clinicians = clinicians_for_program(program=program)
    form = FilterForm(request.GET or None, tracks=tracks, clinicians=clinicians)
    page = None
    rows: list[dict[str, Any]] = []
    if not request.GET or form.is_valid():
        filters = _filters_from(form) if request.GET else selectors.ParticipantFilters()
        paginator = Paginator(selectors.participant_list(program=program, filters=filters), 50)
        page = paginator.get_page(request.GET.get("page"))
        shown: list[Participant] = list(page.object_list)
        rows = [{"p": p, "episode": selectors.latest_episode(p)} for p in shown]
        # AU-01: a list view records each participant it shows.
        audit_record_reads(
            actor=request_user(request), objects=shown, program=program, view="participant_list"
        )
    context = {
        "access": access,
        "program": program,
        "form": form,
        "page": page,
        "rows": rows,
        "can_admit": access.can(Perm.PARTICIPANT_ADMIT),
    }
    template = (
        "participants/_list_results.html"
        if getattr(request, "htmx", False)
        else "participants/list.html"
    )
    return render(request, template, context)


@require_http_methods(["GET"])
@requires(Perm.PARTICIPANT_VIEW_CHART)
def participant_chart(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access = request.access
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "chart"}
    )
    episode = selectors.current_episode(participant)
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "episode": episode,
        "episodes": selectors.episodes_of(participant),
        "phase_history": selectors.phase_history(participant=participant),
        "alerts": [
            *chart_alerts(participant=participant),
            *chart_outcome_alerts(participant=participant),
        ],
        "age": participant.age_on(clock.program_today(access.program)),
        "can_edit": access.can(Perm.PARTICIPANT_EDIT),
        "can_change_phase": access.can(Perm.ENROLLMENT_CHANGE_PHASE) and episode is not None,
        "can_discharge": access.can(Perm.ENROLLMENT_DISCHARGE) and episode is not None,
        "can_readmit": access.can(Perm.PARTICIPANT_ADMIT) and episode is None,
        "treatment_plan": chart_plan(access=access, participant=participant),
        **chart_groupwork(access=access, participant=participant),
        **chart_measures(access=access, participant=participant),
        **chart_calendar(access=access, participant=participant),
        **chart_portal(access=access, participant=participant),
        **chart_medical_risk(access=access, participant=participant),
    }
    return render(request, "participants/chart.html", context)


def _chart_url(program_id: UUID, participant: Participant) -> str:
    return reverse(
        "participants:chart",
        kwargs={"program_id": program_id, "participant_id": participant.external_id},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.PARTICIPANT_ADMIT)
def participant_admit(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    program = access.program
    tracks = selectors.tracks_for_program(program=program)
    clinicians = clinicians_for_program(program=program)
    today = clock.program_today(program)
    form = AdmitForm(
        request.POST or None,
        tracks=tracks,
        clinicians=clinicians,
        initial={"admitted_on": today, "phase": Phase.ENGAGEMENT},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant, _ = actions.participant_admit(
                actor=request_user(request),
                program=program,
                demographics=actions.Demographics(
                    **{name: data[name] for name in actions.DEMOGRAPHIC_FIELDS}
                ),
                track=data["track"],
                admitted_on=data["admitted_on"],
                primary_clinician=data["primary_clinician"],
                phase=data["phase"],
                part2_notice_given=data["part2_notice_given"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(
                request, f"Admitted {participant.display_name} ({participant.record_number})."
            )
            return redirect(_chart_url(program_id, participant))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "participants/admit.html",
        {"access": access, "program": program, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.PARTICIPANT_EDIT)
def participant_edit(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access = request.access
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    initial = {name: getattr(participant, name) for name in actions.DEMOGRAPHIC_FIELDS}
    initial["version"] = participant.version
    form = EditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.participant_update(
                actor=request_user(request),
                participant=participant,
                expected_version=data["version"],
                changes={name: data[name] for name in actions.DEMOGRAPHIC_FIELDS},
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Details saved.")
            return redirect(_chart_url(program_id, participant))
    elif request.method == "GET":
        audit_record(
            actor=request_user(request), action="read", obj=participant, detail={"view": "edit"}
        )
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "participants/edit.html",
        {"access": access, "program": access.program, "participant": participant, "form": form},
        status=status,
    )


def _episode_page(
    request: ProgramRequest, participant_id: UUID, enrollment_id: UUID
) -> tuple[ProgramAccess, Participant, Any]:
    access = request.access
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    enrollment = selectors.enrollment_get(
        program=access.program, participant=participant, enrollment_id=enrollment_id
    )
    _audit_form_read(request, participant)
    return access, participant, enrollment


def _audit_form_read(request: HttpRequest, participant: Participant) -> None:
    """Form pages show the participant's name: opening one is a read (AU-01)."""
    if request.method == "GET":
        audit_record(
            actor=request_user(request), action="read", obj=participant, detail={"view": "form"}
        )


@require_http_methods(["GET", "POST"])
@requires(Perm.ENROLLMENT_CHANGE_PHASE)
def enrollment_change_phase(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, enrollment_id: UUID
) -> HttpResponse:
    access, participant, enrollment = _episode_page(request, participant_id, enrollment_id)
    form = PhaseChangeForm(
        request.POST or None,
        initial=phase_change_initial(enrollment.phase, clock.program_today(access.program)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.enrollment_change_phase(
                actor=request_user(request), enrollment=enrollment, **form.cleaned_data
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, f"Phase changed to {enrollment.get_phase_display()}.")
            return redirect(_chart_url(program_id, participant))
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "enrollment": enrollment,
        "form": form,
    }
    return render(
        request, "participants/phase.html", context, status=422 if request.method == "POST" else 200
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.ENROLLMENT_DISCHARGE)
def enrollment_discharge(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, enrollment_id: UUID
) -> HttpResponse:
    access, participant, enrollment = _episode_page(request, participant_id, enrollment_id)
    form = DischargeForm(
        request.POST or None,
        initial=discharge_initial(enrollment.phase, clock.program_today(access.program)),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.enrollment_discharge(
                actor=request_user(request),
                enrollment=enrollment,
                discharged_on=data["discharged_on"],
                reason=data["reason"],
                step_down_destination=data["step_down_destination"],
                note=data["note"],
                keep_alumni=data["keep_alumni"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, f"Discharged {participant.display_name}.")
            return redirect(_chart_url(program_id, participant))
    context = {
        "access": access,
        "program": access.program,
        "participant": participant,
        "enrollment": enrollment,
        "form": form,
    }
    return render(
        request,
        "participants/discharge.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.PARTICIPANT_ADMIT)
def enrollment_readmit(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access = request.access
    program = access.program
    participant = selectors.participant_get(program=program, participant_id=participant_id)
    _audit_form_read(request, participant)
    form = EpisodeForm(
        request.POST or None,
        tracks=selectors.tracks_for_program(program=program),
        clinicians=clinicians_for_program(program=program),
        initial={"admitted_on": clock.program_today(program), "phase": Phase.ENGAGEMENT},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.enrollment_readmit(
                actor=request_user(request), participant=participant, **form.cleaned_data
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "New episode of care opened.")
            return redirect(_chart_url(program_id, participant))
    context = {"access": access, "program": program, "participant": participant, "form": form}
    return render(
        request,
        "participants/readmit.html",
        context,
        status=422 if request.method == "POST" else 200,
    )
