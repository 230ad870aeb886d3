"""AU-01 contract: every page or API operation that shows a participant records a read of
that participant, and every write records its create/update event in the write's own
transaction. Generated from the URL configuration (tests/routes.py), so new routes are
covered as soon as they are added.

What counts as "showing a participant":
- the route is about one participant (its path holds that participant's id), or
- the response names a participant of the program (their legal last name appears). A
  list must therefore record one read per participant it shows.
Record numbers and opaque ids alone (the audit report, the CSV export) do not count: they
are identifiers, not clinical content, and the export writes its own "export" event.

Which responses are skipped, and why:
- 405 on GET: a POST-only endpoint answers before any lookup and shows nothing.
- 404 on a path holding an id this test world has no object for (e.g. a consent that was
  never recorded): the route cannot show anything, and other tests cover it.
- 302/403/404 on a route that is *not* about one participant: as the director of program A
  (every permission, step-up done) such a route is not a page that shows anyone (e.g. a
  redirect to a form, or a feature switched off); nothing was read, so nothing is owed.
  A participant's own route answering 302/403/404 is a failure: the contract could not
  be checked there.
- Writes: every API write is listed (EXPECTED_API_WRITES) and sent with a valid body below;
  every page form is sent in tests/test_audit_contract_pages.py. A refused write fails.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction

from openiop.audit import actions as audit_actions
from openiop.audit.models import AppendOnlyQuerySet, AuditEvent
from openiop.core import clock
from openiop.participants import actions as participant_actions
from openiop.participants.models import Participant
from openiop.testing import World, admit, today
from tests.routes import Route, api_operation_templates, api_operations, valid_body, web_routes

pytestmark = pytest.mark.django_db

WRITE_ACTIONS = {"create", "update", "disclose"}
# A page that shows a participant owes a "read"; an export or disclosure of the participant's
# record is recorded as such, which is the stronger record of the same access.
READ_ACTIONS = {"read", "export", "disclose"}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class InjectedFault(RuntimeError):
    pass


def _director(world: World, client_for):
    client = client_for(world.director_a)
    session = client.session
    session["openiop_reauth_at"] = time.time()
    session.save()
    return client


def _people(world: World) -> list[Participant]:
    # A second participant with a distinctive surname, so lists show more than one.
    admit(world.program_a, world.track_a, world.clinician_a, first="Rowan", last="Teelmoor")
    return list(Participant.objects.filter(program=world.program_a))


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _missing_reads(
    name: str, path: str, response: Any, since: int, world: World, people: list[Participant]
) -> list[str]:
    if response.status_code == 405:
        return []
    about = [p for p in people if str(p.external_id) in path]
    known = {str(world.program_a.external_id), str(world.enrollment_a.external_id)}
    known |= {str(p.external_id) for p in people}
    if response.status_code == 404 and not set(UUID_RE.findall(path)) <= known:
        return []
    if response.status_code != 200:
        return [f"{name}: GET answered {response.status_code}"] if about else []
    body = _body(response)
    shown = {p.pk: p for p in [*about, *(p for p in people if p.legal_last_name in body)]}
    reads = set(
        AuditEvent.objects.filter(seq__gt=since, action__in=READ_ACTIONS).values_list(
            "participant_external_id", flat=True
        )
    )
    return [
        f"{name}: shows {p.record_number} without a read event"
        for p in shown.values()
        if p.external_id not in reads
    ]


def _walk_reads(world: World, client_for) -> dict[str, list[str]]:
    people = _people(world)
    client = _director(world, client_for)
    problems: dict[str, list[str]] = {}
    routes = web_routes(world, program_scoped_only=True)
    api_gets = [Route(f"api {path}", path) for method, path in api_operations(world)]
    api_gets = [r for r, (m, _) in zip(api_gets, api_operations(world), strict=True) if m == "GET"]
    assert len(routes) >= 8 and len(api_gets) >= 4  # the walkers found the routes
    for route in [*routes, *api_gets]:
        since = _last_seq()
        response = client.get(route.path)
        found = _missing_reads(route.name, route.path, response, since, world, people)
        if found:
            problems[route.name] = found
    return problems


def test_AU_01_every_page_showing_a_participant_records_a_read(world: World, client_for):
    problems = _walk_reads(world, client_for)
    assert not problems, json.dumps(problems, indent=1)


def test_AU_01_list_records_one_read_per_participant_shown(world: World, client_for):
    people = _people(world)
    client = _director(world, client_for)
    for path in (
        f"/p/{world.program_a.external_id}/participants/",
        f"/api/v1/programs/{world.program_a.external_id}/participants",
    ):
        since = _last_seq()
        assert client.get(path).status_code == 200
        reads = list(
            AuditEvent.objects.filter(seq__gt=since, action="read").values_list(
                "participant_external_id", flat=True
            )
        )
        assert sorted(map(str, reads)) == sorted(str(p.external_id) for p in people), path


# Every write the API offers, by method and path template. The list is spelled out so that a
# write cannot drop out of the contract unnoticed: a new operation fails
# `test_AU_01_the_write_list_is_complete` until it is added here (with a sample body in
# tests/routes.py `valid_body`), and a removed one fails it until it is taken out.
PROGRAM = "/api/v1/programs/{program_id}"
PARTICIPANT = PROGRAM + "/participants/{participant_id}"
PLAN = PARTICIPANT + "/plans/{plan_id}"
SESSION = PROGRAM + "/sessions/{session_id}"
ATTENDANCE = SESSION + "/attendance/{attendance_id}"
EXPECTED_API_WRITES = {
    ("POST", PROGRAM + "/participants"),
    ("PATCH", PARTICIPANT),
    ("POST", PARTICIPANT + "/enrollments"),
    ("POST", PARTICIPANT + "/enrollments/{enrollment_id}/phase"),
    ("POST", PARTICIPANT + "/enrollments/{enrollment_id}/discharge"),
    ("POST", PARTICIPANT + "/consents"),
    ("POST", PARTICIPANT + "/consents/{consent_id}/revoke"),
    ("POST", PARTICIPANT + "/plans"),
    ("POST", PLAN + "/activate"),
    ("POST", PLAN + "/reviews"),
    ("POST", PLAN + "/problems"),
    ("POST", PLAN + "/problems/{problem_id}/goals"),
    ("POST", PLAN + "/goals/{goal_id}/objectives"),
    ("POST", PLAN + "/objectives/{objective_id}/interventions"),
    ("POST", PLAN + "/problems/{problem_id}/status"),
    ("POST", PLAN + "/goals/{goal_id}/status"),
    ("POST", PLAN + "/objectives/{objective_id}/status"),
    ("POST", PARTICIPANT + "/assessments"),
    ("POST", PARTICIPANT + "/safety-events"),
    ("POST", PROGRAM + "/safety/events/{event_id}/acknowledge"),
    ("POST", PROGRAM + "/sessions"),
    ("POST", SESSION + "/start"),
    ("POST", SESSION + "/roster"),
    ("POST", ATTENDANCE + "/arrive"),
    ("POST", ATTENDANCE + "/depart"),
    ("POST", ATTENDANCE + "/absent"),
    ("POST", ATTENDANCE + "/correct"),
    ("POST", SESSION + "/practice"),
    ("POST", SESSION + "/notes/draft"),
    ("POST", SESSION + "/notes/sign-all"),
    ("PATCH", SESSION + "/notes/{note_id}"),
    ("POST", "/api/v1/me/check-ins"),
    ("POST", "/api/v1/me/goals"),
    ("POST", "/api/v1/me/goals/{weekly_goal_id}/updates"),
    ("PUT", "/api/v1/me/diary/{day}"),
    ("POST", "/api/v1/me/homework"),
    ("PUT", "/api/v1/me/safety-plan"),
    ("POST", "/api/v1/me/help"),
    ("POST", "/api/v1/me/measures/{instrument}"),
}
# Writes this test world cannot make succeed, each with the reason. Empty means every write
# above is sent with a valid body and checked; an entry here that starts writing fails the
# test (take it out), and any write refused that is not here fails it too.
CANNOT_WRITE: dict[tuple[str, str], str] = {}


def _write_world(world: World) -> None:
    """Rows the writes act on, made with the real actions (style rule 18), before the paths
    are filled: a signed consent, a draft plan with a problem, goal, objective and
    intervention, a weekly goal of participant A's, and a PHQ-9 due weekly (the portal takes
    only a due measure; a GAD-7 gives the assessment routes their row, so the route walker
    does not record a PHQ-9 that would make it no longer due)."""
    from openiop.consent.tests.helpers import make_consent
    from openiop.measures.actions import assessment_record, schedule_set
    from openiop.portal.actions import weekly_goal_create
    from openiop.treatment.tests.helpers import draft, grow

    make_consent(world)
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="gad7",
        answers=[0] * 7,
        administered_at=clock.now() - timedelta(minutes=1),
    )
    grow(draft(world), world.clinician_a)
    weekly_goal_create(
        actor=world.participant_user,
        participant=world.participant_a,
        text="Walk every day",
        objective_id=None,
        share_in_group=False,
    )


def _write_ops(world: World) -> list[tuple[str, str, str]]:
    """(method, template, path) of every API write, paths filled for program A."""
    ops = zip(api_operation_templates(), api_operations(world), strict=True)
    return [(m, template, path) for (m, template), (_, path) in ops if m != "GET"]


def _is_portal(path: str) -> bool:
    return path.startswith("/api/v1/me/")


def _prepare(method: str, path: str, world: World) -> None:
    """State a valid body needs: a new episode needs the current one closed first, drafting
    notes needs someone present who has no note yet, a roster needs someone not on it, and a
    plan review needs the plan active."""
    from openiop.groupwork import actions as gw

    if method == "POST" and path.endswith(("/notes/draft", "/roster")):
        person, _ = admit(
            world.program_a, world.track_a, world.clinician_a, first="Drafty", last="Notewell"
        )
        if path.endswith("/notes/draft"):
            row = gw.attendance_add(
                actor=world.director_a, session=world.session_a, participant=person
            )
            gw.attendance_arrive(
                actor=world.director_a, attendance=row, at=world.session_a.starts_at
            )
    if method == "POST" and path.endswith("/correct"):
        # A correction is for the attendance behind a signed note.
        from openiop.groupwork.models import Note

        note = Note.objects.get(pk=world.note_a.pk)
        note = gw.note_update(
            actor=world.director_a,
            note=note,
            expected_version=note.version,
            sections={"assessment": "Engaged and practised the skill."},
        )
        gw.note_sign(actor=world.director_a, note=note)
    if method == "POST" and path.endswith("/notes/sign-all"):
        note = world.note_a
        gw.note_update(
            actor=world.director_a,
            note=note,
            expected_version=note.version,
            sections={"assessment": "Engaged and practised the skill."},
        )
    if method == "POST" and path.endswith("/reviews"):
        from openiop.treatment import actions as plans
        from openiop.treatment.models import TreatmentPlan

        plan = TreatmentPlan.objects.get(participant=world.participant_a)
        plans.plan_activate(actor=world.director_a, plan=plan, expected_version=plan.version)
    if method == "POST" and path.endswith("/enrollments"):
        participant_actions.enrollment_discharge(
            actor=world.director_a,
            enrollment=world.enrollment_a,
            discharged_on=today() - timedelta(days=1),
            reason="completed",
            step_down_destination="outpatient",
        )


def _fingerprint() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every OpenIOP table: a write that survived would change it."""
    rows = {}
    for model in apps.get_models():
        if model.__module__.startswith("openiop."):
            rows[model._meta.label] = list(model._base_manager.order_by("pk").values_list())
    return rows


def _send(client, method: str, path: str, world: World):
    body = json.dumps(valid_body(method, path, world))
    # The portal's writes need an Idempotency-Key (REL-01); a fresh one each time.
    key = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if _is_portal(path) else {}
    return client.generic(method, path, data=body, content_type="application/json", **key)


class _Rollback(Exception):
    pass


def _check_write(client, method: str, path: str, world: World) -> tuple[int, str]:
    """Send a valid write; check its audit events; undo it. Returns the status and body."""
    portal = _is_portal(path)
    actor = world.participant_user if portal else world.director_a
    with pytest.raises(_Rollback), transaction.atomic():
        _prepare(method, path, world)
        since = _last_seq()
        response = _send(client, method, path, world)
        status, body = response.status_code, _body(response)
        if 200 <= status < 300:
            written = list(AuditEvent.objects.filter(seq__gt=since))
            assert {e.action for e in written} & WRITE_ACTIONS, (method, path, written)
            if portal or str(world.participant_a.external_id) in path:
                assert any(
                    e.participant_external_id == world.participant_a.external_id
                    and e.action in WRITE_ACTIONS
                    for e in written
                ), (method, path)
            assert all(e.actor_id == actor.pk for e in written), (method, path)
        raise _Rollback
    return status, body


def _check_fault(client, method: str, path: str, world: World, monkeypatch) -> None:
    """The same write with the audit store failing: nothing of it may remain (REL-02)."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise InjectedFault("audit store unavailable")

    with pytest.raises(_Rollback), transaction.atomic():
        _prepare(method, path, world)
        before = _fingerprint()
        # Both the module function and the one INSERT path underneath it, so callers that
        # imported audit_append directly are covered too.
        with monkeypatch.context() as patch:
            patch.setattr(audit_actions, "audit_append", fail)
            patch.setattr(AppendOnlyQuerySet, "bulk_create", fail)
            try:
                response = _send(client, method, path, world)
            except InjectedFault:
                pass
            else:
                assert response.status_code >= 500, (method, path, response.status_code)
        assert _fingerprint() == before, f"{method} {path}: write kept without its audit"
        raise _Rollback


def test_AU_01_the_write_list_is_complete(world: World):
    """Every API write is in EXPECTED_API_WRITES, and nothing listed there has gone."""
    writes = {(m, template) for m, template in api_operation_templates() if m != "GET"}
    assert sorted(writes - EXPECTED_API_WRITES) == [], "new writes: list them"
    assert sorted(EXPECTED_API_WRITES - writes) == [], "gone: take them out"
    assert set(CANNOT_WRITE) <= EXPECTED_API_WRITES


def test_AU_01_every_write_is_audited_in_the_same_transaction(
    world: World, client_for, monkeypatch
):
    """Each API write (EXPECTED_API_WRITES) with a valid body (tests/routes.py `valid_body`)
    in a state that lets it succeed (`_write_world`, `_prepare`): every one must write, audit
    in its own transaction and leave nothing behind when the audit store fails. A refusal is
    a failure unless CANNOT_WRITE names the write and says why."""
    _write_world(world)
    staff = _director(world, client_for)
    me = client_for(world.participant_user)
    checked, problems = [], []
    for method, template, path in _write_ops(world):
        client = me if _is_portal(path) else staff
        status, body = _check_write(client, method, path, world)
        listed = (method, template) in CANNOT_WRITE
        if not 200 <= status < 300:
            if not listed:
                problems.append(f"{method} {template}: refused {status} {body[:300]}")
            continue
        if listed:
            problems.append(f"{method} {template}: writes now, take it out of CANNOT_WRITE")
        _check_fault(client, method, path, world, monkeypatch)
        checked.append((method, template))
    assert not problems, "\n".join(problems)
    assert set(checked) == EXPECTED_API_WRITES - set(CANNOT_WRITE)
