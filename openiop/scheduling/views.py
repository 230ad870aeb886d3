"""The weekly board, planner runs, and each participant's availability."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core.clock import program_today
from openiop.core.confirm import confirm_page, confirmed
from openiop.core.errors import ActionError
from openiop.groupwork.ledger import iso_week_start
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant
from openiop.programs.models import Track
from openiop.scheduling import actions, selectors
from openiop.scheduling.models import AvailabilityWindow, PlanningProfile, PlanRunKind

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _week(request: HttpRequest, access: ProgramAccess) -> date:
    this_week = iso_week_start(program_today(access.program))
    raw = request.GET.get("week") or request.POST.get("week")
    if not raw:
        return this_week + timedelta(weeks=1)  # planning is usually for next week
    try:
        return iso_week_start(date.fromisoformat(raw))
    except ValueError:
        return this_week


@require_http_methods(["GET"])
@requires(Perm.SCHEDULE_MANAGE)
def board(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    week = _week(request, access)
    this_week = iso_week_start(program_today(access.program))
    data = selectors.weekly_board(program=access.program, week_start=week)
    audit_record_reads(
        actor=request_user(request),
        objects=[p for p, _ in data.under],
        program=access.program,
        view="planner_board",
    )
    context = {
        "program": access.program,
        "access": access,
        "board": data,
        "week": week,
        "previous": week - timedelta(weeks=1),
        "next": week + timedelta(weeks=1),
        "is_current": week == this_week,
        "is_future": week > this_week,
        "required": access.program.rules.min_weekly_minutes(access.program.population),
    }
    return render(request, "scheduling/board.html", context)


@require_http_methods(["POST"])
@requires(Perm.SCHEDULE_MANAGE)
def run_planner(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    week = _week(request, access)
    kind = (
        PlanRunKind.MAKEUP if request.POST.get("kind") == PlanRunKind.MAKEUP else PlanRunKind.WEEK
    )
    try:
        actions.week_sessions_prepare(
            actor=request_user(request), program=access.program, week_start=week
        )
        run = actions.plan_run_create(
            actor=request_user(request), program=access.program, week_start=week, kind=kind
        )
    except ActionError as error:
        messages.error(request, " ".join(m for msgs in error.errors.values() for m in msgs))
        return redirect(f"{request.path.rsplit('run/', 1)[0]}?week={week.isoformat()}")
    return redirect("scheduling:run", program_id=program_id, run_id=run.external_id)


@require_http_methods(["GET"])
@requires(Perm.SCHEDULE_MANAGE)
def run_detail(request: ProgramRequest, program_id: UUID, run_id: UUID) -> HttpResponse:
    access = request.access
    run = selectors.plan_run_get(program=access.program, run_id=run_id)
    rows = selectors.compare(run)
    audit_record_reads(
        actor=request_user(request),
        objects=[r.participant for r in rows],
        program=access.program,
        view="plan_run",
    )
    sessions = selectors.session_labels(run)
    people = {str(r.participant.external_id): r.participant for r in rows}
    assignments = [
        (people.get(a["participant"]), sessions.get(a["group"]))
        for a in run.output_doc["assignments"]
    ]
    chart = {
        "type": "bar",
        "horizontal": True,
        "xTitle": "Minutes this week",
        "labels": [r.participant.display_name for r in rows[:30]],
        "datasets": [
            {"label": "Now", "data": [r.current for r in rows[:30]], "color": "#57606a"},
            {"label": "With this plan", "data": [r.planned for r in rows[:30]], "color": "#0b5cad"},
        ],
    }
    context = {
        "program": access.program,
        "access": access,
        "run": run,
        "rows": rows,
        "chart": chart,
        "assignments": [a for a in assignments if a[0] and a[1]],
        "objective": run.output_doc["objective"],
        "proposed_sessions": [
            (people.get(s["participant"]), s, run.week_start + timedelta(days=s["day"]))
            for s in run.output_doc["sessions"]
            if s["participant"] in people
        ],
        "people": people,
    }
    return render(request, "scheduling/run.html", context)


@require_http_methods(["POST"])
@requires(Perm.SCHEDULE_MANAGE)
def run_apply(request: ProgramRequest, program_id: UUID, run_id: UUID) -> HttpResponse:
    access = request.access
    run = selectors.plan_run_get(program=access.program, run_id=run_id)
    if not confirmed(request):
        groups = len(run.output_doc.get("assignments", []))
        sessions = len(run.output_doc.get("sessions", []))
        return confirm_page(
            request,
            title="Apply this plan?",
            question=f"Apply the plan for the week of {run.week_start:%Y-%m-%d}?",
            details=[
                f"Up to {groups} group place{'s' if groups != 1 else ''} and {sessions} "
                f"individual or family session{'s' if sessions != 1 else ''} will be booked "
                "(places already booked are kept).",
                *(
                    [
                        "Participants expected at groups not yet held that the plan does not "
                        "place there come off those rosters."
                    ]
                    if run.kind == PlanRunKind.WEEK
                    else []
                ),
            ],
            button="Apply the plan",
            cancel_url=reverse(
                "scheduling:run", kwargs={"program_id": program_id, "run_id": run_id}
            ),
            context={"program": access.program},
        )
    try:
        counts = actions.plan_run_apply(actor=request_user(request), run=run)
    except ActionError as error:
        messages.error(request, " ".join(m for msgs in error.errors.values() for m in msgs))
    else:
        messages.success(
            request,
            f"Plan applied: {counts['added']} group places and {counts['booked']} "
            "individual or family sessions booked.",
        )
    return redirect(f"/p/{program_id}/planner/?week={run.week_start.isoformat()}")


@require_http_methods(["GET", "POST"])
@requires(Perm.PARTICIPANT_EDIT)
def availability(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    tracks = list(access.program.tracks.filter(is_active=True).order_by("name"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            # Both or neither: a refused availability never leaves the profile half-saved.
            with transaction.atomic():
                windows = _windows_from(request)
                chosen = [t for t in tracks if str(t.external_id) in request.POST.getlist("tracks")]
                actions.profile_set(
                    actor=request_user(request),
                    participant=participant,
                    tracks=chosen,
                    individual_minutes=_int(
                        request.POST.get("individual_minutes"), "individual_minutes"
                    ),
                    family_minutes=_int(request.POST.get("family_minutes"), "family_minutes"),
                    commitments=request.POST.get("commitments", ""),
                )
                actions.availability_set(
                    actor=request_user(request), participant=participant, windows=windows
                )
        except ActionError as error:
            errors = _availability_errors(error, request)
        else:
            messages.success(request, "Availability saved; the next planner run uses it.")
            return redirect(
                "participants:chart", program_id=program_id, participant_id=participant_id
            )
    else:
        audit_record(
            actor=request_user(request),
            action="read",
            obj=participant,
            detail={"view": "availability"},
        )
    context = {
        "program": access.program,
        "access": access,
        "participant": participant,
        "errors": errors,
        "tracks": tracks,
        **(_typed_availability(request, tracks) if errors else _stored_availability(participant)),
    }
    return render(request, "scheduling/availability.html", context, status=422 if errors else 200)


@dataclass(frozen=True)
class _DayRow:
    index: int
    name: str
    start: str
    end: str
    note: str


def _stored_availability(participant: Participant) -> dict[str, object]:
    current = {w.weekday: w for w in AvailabilityWindow.objects.filter(participant=participant)}
    profile = (
        PlanningProfile.objects.filter(participant=participant).prefetch_related("tracks").first()
    )
    days = []
    for i in range(7):
        w = current.get(i)
        days.append(
            _DayRow(
                i,
                DAY_NAMES[i],
                w.start_time.strftime("%H:%M") if w else "",
                w.end_time.strftime("%H:%M") if w else "",
                w.note if w else "",
            )
        )
    return {
        "days": days,
        "chosen": {t.pk for t in profile.tracks.all()} if profile else set(),
        "individual_minutes": profile.individual_minutes if profile else 60,
        "family_minutes": profile.family_minutes if profile else 0,
        "commitments": profile.commitments if profile else "",
    }


def _typed_availability(request: HttpRequest, tracks: list[Track]) -> dict[str, object]:
    """What was typed, shown again beside the errors (nothing typed is lost)."""
    post = request.POST
    picked = set(post.getlist("tracks"))
    return {
        "days": [
            _DayRow(
                i,
                DAY_NAMES[i],
                post.get(f"start_{i}", ""),
                post.get(f"end_{i}", ""),
                post.get(f"note_{i}", ""),
            )
            for i in range(7)
        ],
        "chosen": {t.pk for t in tracks if str(t.external_id) in picked},
        "individual_minutes": post.get("individual_minutes", ""),
        "family_minutes": post.get("family_minutes", ""),
        "commitments": post.get("commitments", ""),
    }


_FIELD_LABELS = {
    "tracks": "Tracks",
    "individual_minutes": "Individual session minutes",
    "family_minutes": "Family session minutes",
    "commitments": "Commitments",
}


def _availability_errors(error: ActionError, request: HttpRequest) -> dict[str, list[str]]:
    """The action's errors under labels people read: 'windows[1].end_time' is the day of the
    second window given (its name), never the internal key."""
    typed_days = [
        day
        for day in range(7)
        if request.POST.get(f"start_{day}", "") or request.POST.get(f"end_{day}", "")
    ]
    labelled: dict[str, list[str]] = {}
    for key, messages_ in error.errors.items():
        found = re.match(r"windows\[(\d+)\]", key)
        if found and int(found.group(1)) < len(typed_days):
            label = DAY_NAMES[typed_days[int(found.group(1))]]
        else:
            label = _FIELD_LABELS.get(key, key if key in DAY_NAMES else "Availability")
        labelled.setdefault(label, []).extend(messages_)
    return labelled


def _int(raw: str | None, field: str) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        raise ActionError({field: "Enter a number of minutes."}) from None


def _windows_from(request: HttpRequest) -> list[tuple[int, time, time, str]]:
    windows = []
    for day in range(7):
        start, end = request.POST.get(f"start_{day}", ""), request.POST.get(f"end_{day}", "")
        if not start and not end:
            continue
        try:
            windows.append(
                (
                    day,
                    time.fromisoformat(start),
                    time.fromisoformat(end),
                    request.POST.get(f"note_{day}", ""),
                )
            )
        except ValueError:
            raise ActionError(
                {f"{DAY_NAMES[day]}": "Give both a start and an end time (e.g. 09:00 and 13:00)."}
            ) from None
    return windows
