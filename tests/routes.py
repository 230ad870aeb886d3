"""Enumerate every web route and API operation with its path filled for a given world, so
authorisation tests are generated from the URL configuration rather than listed by hand."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from openiop.core import clock
from openiop.testing import World
from openiop.testing import today as program_date

# Routes that anyone may open without logging in (AC-01 allowlist).
PUBLIC_ROUTES = {
    "accounts:login",
    "accounts:logout",
    "accounts:locked",
    "home:healthz",
    "home:readyz",
    "calendar_feed:ics",
    "accounts:invite",
    "accounts:invite_accept",
    "accounts:password_forgot",
    "accounts:password_reset",
    # The SMS provider's webhook: no log-in, but refused (403) unless signed with the
    # provider's auth token (openiop/notifications/tests/test_views.py).
    "sms_inbound",
}
# The API's schema and docs describe the interface, not data; the docs page is behind login.
PUBLIC_API_PATHS = {"/api/v1/openapi.json"}


@dataclass(frozen=True)
class Route:
    name: str
    path: str


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin",) or "api" in (entry.namespace or ""):
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def _fill(template: str, values: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        return values[match.group(2)]

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, template)


def _consent_id(world: World) -> str:
    """Program A's first consent, or a random id when the test made none (still a 404)."""
    from openiop.consent.models import Consent

    consent = Consent.objects.filter(participant=world.participant_a).first()
    return str(consent.external_id if consent else uuid.uuid4())


def _plan_ids(world: World) -> dict[str, str]:
    """Program A's first treatment plan and its first problem, goal and objective, or random
    ids when the test made none (still a 404)."""
    from openiop.treatment.models import Goal, Objective, Problem, TreatmentPlan

    plans = TreatmentPlan.objects.filter(participant=world.participant_a)
    rows = {
        "plan_id": plans.order_by("id").first(),
        "problem_id": Problem.objects.filter(plan__in=plans).order_by("id").first(),
        "goal_id": Goal.objects.filter(problem__plan__in=plans).order_by("id").first(),
        "objective_id": Objective.objects.filter(goal__problem__plan__in=plans)
        .order_by("id")
        .first(),
    }
    return {k: str(row.external_id if row else uuid.uuid4()) for k, row in rows.items()}


def _session_ids(world: World) -> dict[str, str]:
    """Program A's first session with a roster row and a note, or random ids (a 404)."""
    from openiop.groupwork.models import Attendance, Note, Session

    session = Session.objects.filter(program=world.program_a).order_by("id").first()
    attendance = Attendance.objects.filter(session=session).order_by("id").first()
    note = Note.objects.filter(session=session).order_by("id").first()
    rows = {"session_id": session, "attendance_id": attendance, "note_id": note}
    ids = {k: str(row.external_id if row else uuid.uuid4()) for k, row in rows.items()}
    return {**ids, "block": "0"}


def _feed_secret(world: World) -> str:
    """A live calendar feed secret for participant A. Only a hash is stored, so the walker
    makes a fresh feed (revoking any earlier one) to have a public route that answers 200."""
    from openiop.calendars.actions import feed_create_for_participant

    _, secret = feed_create_for_participant(actor=world.director_a, participant=world.participant_a)
    return secret


def _invitation_ids(world: World) -> dict[str, str]:
    """A pending portal invitation for a newly admitted participant of program A and a
    pending staff invitation (the walker makes them: only hashes are stored, so the raw token
    exists only now), and a live password-reset link for the participant account."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from openiop.accounts.invitations import (
        invitation_create_participant,
        invitation_create_staff,
    )
    from openiop.testing import admit

    newcomer, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Walker")
    portal = invitation_create_participant(
        actor=world.director_a, participant=newcomer, channel="printed"
    )
    staff = invitation_create_staff(
        actor=world.director_a,
        program=world.program_a,
        role="clinician",
        email="walker@example.org",
        channel="email",
    )
    user = world.participant_user
    return {
        "invitation_id": str(portal.invitation.external_id),
        "staff_invitation_id": str(staff.invitation.external_id),
        "invite_token": portal.token,
        "uidb64": urlsafe_base64_encode(force_bytes(str(user.external_id))),
        "token": default_token_generator.make_token(user),
    }


def _run_id(world: World) -> dict[str, str]:
    """Program A's latest planner run, or a random id (a 404)."""
    from openiop.scheduling.models import PlanRun

    run = PlanRun.objects.filter(program=world.program_a).order_by("-id").first()
    return {"run_id": str(run.external_id if run else uuid.uuid4())}


def _event_id(world: World) -> dict[str, str]:
    """Participant A's first safety event. The walker raises one when the test made none, so
    the event routes resolve (as the feed secret does): each role then meets a real event."""
    from openiop.safety.actions import safety_event_raise
    from openiop.safety.models import SafetyEvent

    event = SafetyEvent.objects.filter(participant=world.participant_a).order_by("id").first()
    if event is None:
        event = safety_event_raise(
            actor=world.clinician_a,
            participant=world.participant_a,
            source="staff",
            severity="urgent",
            detail="Route walker",
        )
    return {"event_id": str(event.external_id)}


def _assessment_ids(world: World) -> dict[str, str]:
    """Participant A's first assessment, recorded by the walker when the test made none (no
    critical item), so assessment routes resolve for every role; and an instrument code."""
    from datetime import timedelta

    from django.utils import timezone

    from openiop.measures.actions import assessment_record
    from openiop.measures.models import Assessment

    row = Assessment.objects.filter(participant=world.participant_a).order_by("id").first()
    if row is None:
        row = assessment_record(
            actor=world.clinician_a,
            participant=world.participant_a,
            instrument="phq9",
            answers=[0] * 9,
            administered_at=timezone.now() - timedelta(minutes=1),
        )
    return {"assessment_id": str(row.external_id), "instrument": "phq9"}


def _medical_prompt_id(world: World) -> dict[str, str]:
    """Participant A's first medical-risk prompt; the walker records a DAST-10 with the
    withdrawal item endorsed when the test made none, so the prompt routes resolve."""
    from datetime import timedelta

    from django.utils import timezone

    from openiop.measures.actions import assessment_record
    from openiop.medical.models import MedicalRiskPrompt

    row = MedicalRiskPrompt.objects.filter(participant=world.participant_a).order_by("id").first()
    if row is None:
        assessment_record(
            actor=world.clinician_a,
            participant=world.participant_a,
            instrument="dast10",
            answers=[0] * 8 + [1, 0],
            administered_at=timezone.now() - timedelta(minutes=1),
        )
        row = MedicalRiskPrompt.objects.get(participant=world.participant_a)
    return {"prompt_id": str(row.external_id)}


def _portal_ids(world: World) -> dict[str, str]:
    """Participant A's first weekly goal and worksheet, or random ids (a 404), and today
    (a diary day)."""
    from openiop.portal.models import HomeworkSubmission, WeeklyGoal
    from openiop.portal.selectors import today_for

    rows = {
        "weekly_goal_id": WeeklyGoal.objects.filter(participant=world.participant_a).first(),
        "submission_id": HomeworkSubmission.objects.filter(participant=world.participant_a).first(),
    }
    ids = {k: str(row.external_id if row else uuid.uuid4()) for k, row in rows.items()}
    return {**ids, "day": today_for(world.participant_a).isoformat()}


def web_routes(world: World, *, program_scoped_only: bool = False) -> list[Route]:
    values = {
        "program_id": str(world.program_a.external_id),
        "participant_id": str(world.participant_a.external_id),
        "enrollment_id": str(world.enrollment_a.external_id),
        "membership_id": str(world.clinician_a.memberships.get().external_id),
        "consent_id": _consent_id(world),
        **_plan_ids(world),
        **_session_ids(world),
        **_assessment_ids(world),
        **_run_id(world),
        **_event_id(world),
        **_medical_prompt_id(world),
        **_portal_ids(world),
        # The feed route is not program-scoped: make a feed only when it will be walked.
        "secret": "" if program_scoped_only else _feed_secret(world),
        **_invitation_ids(world),
    }
    routes = []
    for name, template in _walk(get_resolver().url_patterns):
        if program_scoped_only and "<uuid:program_id>" not in template:
            continue
        routes.append(Route(name=name, path=_fill(template, values)))
    return routes


def web_route_names() -> list[str]:
    return [name for name, _ in _walk(get_resolver().url_patterns)]


def api_operations(world: World) -> list[tuple[str, str]]:
    """(method, path) for every API operation, with program A's ids filled in."""
    from openiop.api.root import api

    values = {
        "program_id": str(world.program_a.external_id),
        "participant_id": str(world.participant_a.external_id),
        "enrollment_id": str(world.enrollment_a.external_id),
        "consent_id": _consent_id(world),
        **_plan_ids(world),
        **_session_ids(world),
        **_assessment_ids(world),
        **_event_id(world),
        **_portal_ids(world),
        "secret": secrets.token_urlsafe(32),  # no API path takes one; an unknown feed
    }
    schema = api.get_openapi_schema()
    ops = []
    for path, methods in schema["paths"].items():
        filled = re.sub(r"\{(\w+)\}", lambda m: values[str(m.group(1))], str(path))
        for method in methods:
            ops.append((method.upper(), filled))
    return ops


def api_operation_templates() -> list[tuple[str, str]]:
    """(method, path template) for every API operation, in `api_operations` order."""
    from openiop.api.root import api

    schema = api.get_openapi_schema()
    return [(m.upper(), str(path)) for path, methods in schema["paths"].items() for m in methods]


def valid_body(method: str, path: str, world: World) -> dict[str, object]:
    """A payload that passes schema validation for each write operation, so an outsider's
    request reaches the access check instead of stopping at validation."""
    if method == "GET":
        return {}
    today = program_date(world.program_a).isoformat()
    if path.startswith("/api/v1/me"):
        return _portal_body(path, world)
    episode: dict[str, object] = {
        "track": str(world.track_a.external_id),
        "admitted_on": today,
        "primary_clinician": str(world.clinician_a.external_id),
    }
    if path.endswith("/safety-events"):
        return {"severity": "urgent", "detail": "Staff concern"}
    if path.endswith("/acknowledge"):
        return {}
    if path.endswith("/assessments"):
        return {"instrument": "phq9", "answers": [0] * 9}
    if path.endswith("/consents"):
        return _consent_body(world)
    if path.endswith("/revoke"):
        return {"revoked_on": today, "reason": "patient asked"}
    if path.endswith("/phase"):
        return {"to_phase": "early_recovery", "effective_on": today, "reason": "progress"}
    if path.endswith("/discharge"):
        return {
            "discharged_on": today,
            "reason": "completed",
            "step_down_destination": "outpatient",
        }
    if path.endswith("/enrollments"):
        return episode
    if "/sessions" in path:
        return _session_body(method, path, world)
    if method == "PATCH":
        return {"version": 1, "pronouns": "they/them"}
    if path.endswith("/participants"):
        return {
            "legal_first_name": "New",
            "legal_last_name": "Person",
            "date_of_birth": "1990-01-01",
            **episode,
        }
    if "/plans" in path:
        return _plan_body(path, world)
    raise AssertionError(f"no sample body for {method} {path}; add one")


def _consent_body(world: World) -> dict[str, object]:
    """Every 42 CFR 2.31(a) element, signed yesterday (the program's calendar)."""
    on = program_date(world.program_a)
    return {
        "discloser_name": "Program A",
        "information": ["attendance"],
        "recipient_name": "Dr Lee",
        "recipient_type": "individual",
        "purposes": ["treatment"],
        "revocation_acknowledged": True,
        "expires_on": (on + timedelta(days=90)).isoformat(),
        "signed_by": "Avery Quillby",
        "signer_relation": "patient",
        "signed_on": (on - timedelta(days=1)).isoformat(),
    }


def _portal_body(path: str, world: World) -> dict[str, object]:
    """Participant portal writes (the Idempotency-Key header is checked after the body)."""
    bodies: dict[str, dict[str, object]] = {
        "/check-ins": {
            "kind": "daily",
            "mood": 5,
            "craving": 2,
            "used_since_last": False,
            "sleep_hours": 7,
            "medication": "taken",
            "safety_concern": False,
        },
        "/goals": {"text": "Walk daily"},
        "/updates": {"status": "partial"},
        "/homework": {"session": str(world.session_a.external_id), "answers": {"situation": "x"}},
        "/safety-plan": {"version": _safety_plan_version(world), "warning_signs": "x"},
        "/help": {},
        "/measures/phq9": {"answers": [0] * 9},
    }
    for suffix, body in bodies.items():
        if path.endswith(suffix):
            return body
    if "/diary/" in path:
        from openiop.portal.models import DIARY_EMOTIONS

        emotions = {name: 0 for name, _ in DIARY_EMOTIONS}
        return {"emotions": emotions, "urge_use": 0, "urge_self_harm": 0, "suicidal_ideation": 0}
    raise AssertionError(f"no sample body for {path}; add one")


def _safety_plan_version(world: World) -> int:
    from openiop.portal.models import SafetyPlan

    plan = SafetyPlan.objects.filter(participant=world.participant_a).first()
    return plan.version if plan else 0


def _plan_version(path: str) -> int:
    """The current version of the plan the path names (1 when it names none): every edit
    carries the version it was based on, so a body with a stale one is refused (409)."""
    from openiop.treatment.models import TreatmentPlan

    found = re.search(r"/plans/([0-9a-f-]{36})", path)
    plan = TreatmentPlan.objects.filter(external_id=found.group(1)).first() if found else None
    return plan.version if plan else 1


def _plan_body(path: str, world: World) -> dict[str, object]:
    """Treatment-plan writes, dated from the program's today: reviews and targets ahead."""
    on = program_date(world.program_a)
    today, later = on.isoformat(), (on + timedelta(days=30)).isoformat()
    v = _plan_version(path)
    bodies: dict[str, dict[str, object]] = {
        "/plans": {"effective_on": today, "review_on": later},
        "/activate": {"version": v},
        "/reviews": {"version": v, "reviewed_on": today, "next_review_on": later, "note": "ok"},
        "/problems": {"version": v, "statement": "Low mood"},
        "/goals": {"version": v, "statement": "Sleep", "measure": "diary", "target_date": later},
        "/objectives": {"version": v, "statement": "Use a coping skill", "target_date": later},
        "/interventions": {"version": v, "description": "CBT group", "frequency": "weekly"},
        "/status": {"version": v, "status": "achieved", "reason": "done"},
    }
    for suffix, body in bodies.items():
        if path.endswith(suffix):
            return body
    raise AssertionError(f"no sample body for {path}; add one")


def web_write_route_names() -> list[str]:
    """Web routes whose view takes a POST, PUT, PATCH or DELETE (its
    `require_http_methods` list); a view without one counts as taking them all."""
    names = []
    for name, view in web_route_views().items():
        allowed = _allowed_methods(view)
        if allowed is None or {"POST", "PUT", "PATCH", "DELETE"} & set(allowed):
            names.append(name)
    return names


def _allowed_methods(view: Any) -> list[str] | None:
    """The method list `require_http_methods` closed over, looked for down the wrappers."""
    found = None
    while view is not None:
        for cell in getattr(view, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if (
                isinstance(value, list | tuple)
                and value
                and all(isinstance(v, str) and v.isupper() for v in value)
            ):
                found = list(value)
        view = getattr(view, "__wrapped__", None)
    return found


def web_route_views() -> dict[str, Any]:
    """Route name -> view callable, for checking each route's declared access."""
    views: dict[str, Any] = {}

    def walk(patterns, namespace: str = "") -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin",) or "api" in (entry.namespace or ""):
                    continue
                walk(
                    entry.url_patterns,
                    f"{namespace}{entry.namespace}:" if entry.namespace else namespace,
                )
            elif isinstance(entry, URLPattern):
                views[f"{namespace}{entry.name}"] = entry.callback

    walk(get_resolver().url_patterns)
    return views


def _not_on_roster(world: World) -> str | None:
    """A participant of program A who is not on session A's roster, if there is one."""
    from openiop.participants.models import Participant

    person = (
        Participant.objects.filter(program=world.program_a)
        .exclude(attendance__session=world.session_a)
        .order_by("id")
        .first()
    )
    return str(person.external_id) if person else None


def _session_body(method: str, path: str, world: World) -> dict[str, object]:
    """Group-work writes (sessions, roster, attendance, practice, notes)."""
    participant = str(world.participant_a.external_id)
    session = world.session_a
    if path.endswith("/sessions"):
        # An hour's 1:1 tomorrow at 14:30, on the program's calendar.
        start = clock.at_local(
            program_date(world.program_a) + timedelta(days=1), time(14, 30), world.program_a
        )
        return {
            "kind": "individual",
            "title": "1:1",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "facilitator": str(world.clinician_a.external_id),
        }
    if path.endswith("/roster"):
        return {"participant": _not_on_roster(world) or participant}
    if path.endswith("/arrive"):
        return {"at": (session.starts_at + timedelta(minutes=5)).isoformat()}
    if path.endswith("/depart"):
        return {"at": (session.ends_at - timedelta(minutes=5)).isoformat()}
    if path.endswith("/correct"):
        return {
            "status": "present",
            "arrived_at": (session.starts_at + timedelta(minutes=15)).isoformat(),
            "reason": "Sign-in sheet time.",
        }
    if path.endswith("/practice"):
        return {"participant": participant, "skill": "DEAR MAN"}
    if method == "PATCH":
        return {"version": 1, "sections": {"assessment": "Engaged."}}
    return {}
