"""AU-01 for the pages: every web route that takes a POST is sent a valid form, in a state
that lets it succeed, and must write its create/update audit event in the same transaction
(and keep nothing when the audit store fails). The POST routes are read from the URL
configuration (each view's `require_http_methods`), so a new form route fails
`test_AU_01_the_page_write_list_is_complete` until a form for it is added below.

A route that cannot write in this test world is named in NOT_A_CLINICAL_WRITE or
CANNOT_WRITE with its reason; the test fails if one of those starts writing clinical data,
or if any other route is refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from openiop.audit import actions as audit_actions
from openiop.audit.models import AppendOnlyQuerySet, AuditEvent
from openiop.consent.models import Consent
from openiop.consent.tests.helpers import RECIPIENT
from openiop.testing import World, today
from tests.routes import web_routes, web_write_route_names
from tests.test_audit_contract import (
    WRITE_ACTIONS,
    InjectedFault,
    _director,
    _fingerprint,
    _last_seq,
    _Rollback,
    _write_world,
)

pytestmark = pytest.mark.django_db

Form = Callable[[World], dict[str, Any]]

# Sign-in, second factor, re-authentication, password, break-glass and role grants: account
# security, audited by the accounts app as sign-in events, not clinical records. They are
# covered by tests/test_security_identity.py and the accounts tests.
NOT_A_CLINICAL_WRITE: dict[str, str] = {
    "accounts:login": "account security (sign-in events), tests/test_security_identity.py",
    "accounts:logout": "account security (sign-in events), tests/test_security_identity.py",
    "accounts:mfa_setup": "account security (second factor), accounts tests",
    "accounts:mfa_verify": "account security (second factor), accounts tests",
    "accounts:mfa_reset": "account security (second factor), accounts tests",
    "accounts:reauth": "account security (step-up), accounts tests",
    "accounts:password_change": "account security (password), accounts tests",
    "accounts:break_glass": "account security (break-glass), accounts tests",
    # Invitations and password reset: account administration; their audit events (create,
    # revoke, accept, reset) are asserted in openiop/accounts/tests/test_invitations.py and
    # test_invitation_views.py.
    "accounts:invite": "account set-up (invitation code), accounts invitation tests",
    # The SMS provider's signed webhook (STOP/START): audited by the system user; its signature
    # check and audit are asserted in openiop/notifications/tests.
    "sms_inbound": "SMS opt-out from the provider's signed webhook, notifications tests",
    "accounts:invite_accept": "account set-up (invitation link), accounts invitation tests",
    "accounts:password_forgot": "account security (reset request), accounts invitation tests",
    "accounts:password_reset": "account security (password), accounts invitation tests",
    "staff:invitations": "staff invitation (account administration), accounts invitation tests",
    "staff:invitation_revoke": "staff invitation (account administration), accounts tests",
    "staff:portal_invite": "portal invitation (account administration), accounts tests",
    "staff:portal_invite_revoke": "portal invitation (account administration), accounts tests",
}
# Page writes this world cannot make succeed, with the reason.
CANNOT_WRITE: dict[str, str] = {}
# Pages whose write ends the signed-in participant's own session (ending an alumni account).
ENDS_OWN_SESSION = {"portal:alumni"}


def _today() -> str:
    return today().isoformat()


def _later(days: int = 30) -> str:
    return (today() + timedelta(days=days)).isoformat()


def _key() -> str:
    return uuid.uuid4().hex


def _plan_version(world: World) -> int:
    from openiop.treatment.models import TreatmentPlan

    return TreatmentPlan.objects.get(participant=world.participant_a).version


def _demographics(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "legal_first_name": "New",
        "legal_last_name": "Person",
        "date_of_birth": "1990-01-01",
        "sex_for_scoring": "female",
        **extra,
    }


def _episode(world: World) -> dict[str, Any]:
    return {
        "track": str(world.track_a.external_id),
        "admitted_on": _today(),
        "primary_clinician": str(world.clinician_a.external_id),
        "phase": "engagement",
    }


def _consent(world: World) -> dict[str, Any]:
    return {
        "discloser_name": "Program A",
        "information": ["attendance"],
        "recipient_name": "Dr Lee",
        "recipient_type": "individual",
        "purposes": ["treatment"],
        "revocation_acknowledged": "on",
        "expires_on": _later(90),
        "signed_by": "Avery Quillby",
        "signer_relation": "patient",
        "signed_on": (today() - timedelta(days=1)).isoformat(),
    }


FORMS: dict[str, Form] = {
    "participants:admit": lambda w: {
        **_demographics(w),
        **_episode(w),
        "part2_notice_given": "on",
    },
    "participants:edit": lambda w: _demographics(
        w,
        legal_first_name=w.participant_a.legal_first_name,
        legal_last_name=w.participant_a.legal_last_name,
        pronouns="they/them",
        version=w.participant_a.version,
    ),
    "participants:readmit": _episode,
    "participants:change_phase": lambda w: {
        "to_phase": "early_recovery",
        "effective_on": _today(),
        "reason": "progress",
    },
    "participants:discharge": lambda w: {
        "discharged_on": _today(),
        "reason": "completed",
        "step_down_destination": "outpatient",
    },
    "staff:roles": lambda w: {"username": w.supervisor_a.username, "role": "clinician"},
    "programs:settings": lambda w: {
        "not_on_track_improvement_percent": "14",
        "safety_high_escalate_minutes": "5",
    },
    "staff:role_revoke": lambda w: {"confirm": "yes"},  # destructive: confirmed
    "groupwork:start": lambda w: {},
    "groupwork:walk_in": lambda w: {"participant": _walk_in(w)},
    "groupwork:close": lambda w: {"confirm": "yes"},  # destructive: confirmed
    "groupwork:agenda_toggle": lambda w: {},
    "groupwork:shared_save": lambda w: {"text": "Practised DEAR MAN in pairs."},
    "groupwork:arrive_now": lambda w: {},
    "groupwork:arrive": lambda w: {"at": "10:05"},
    "groupwork:depart": lambda w: {"at": "11:30"},
    "groupwork:absent": lambda w: {"reason": "ill", "excused": "on"},
    "groupwork:remove": lambda w: {"confirm": "yes"},  # destructive: confirmed
    "groupwork:attendance_correct": lambda w: {
        "status": "present",
        "arrived": "10:15",
        "reason": "Sign-in sheet time.",
    },
    "groupwork:practice": lambda w: {"skill": _skill(w), "rating": "4"},
    "groupwork:observe": lambda w: {"participation": "engaged", "affect": "anxious"},
    "groupwork:notes_draft": lambda w: {},
    "groupwork:notes_sign_all": lambda w: {},
    "groupwork:note_save": lambda w: {"version": _note(w).version, "assessment": "Engaged."},
    "groupwork:note_replace_peers": lambda w: {"version": _note(w).version},
    "groupwork:note_override": lambda w: {"reason": "The name is a park, not a person."},
    "groupwork:note_sign": lambda w: {},
    "groupwork:note_detail": lambda w: {"text": "Arrived late.", "reason": "Time corrected"},
    "groupwork:note_cosign": lambda w: {},
    "scheduling:run_planner": lambda w: {},
    "scheduling:run_apply": lambda w: {"confirm": "yes"},  # destructive: confirmed
    "scheduling:availability": lambda w: {},
    "consent:create": _consent,
    "consent:release": lambda w: {
        "basis": "consent",
        "consent": str(Consent.objects.get(participant=w.participant_a).external_id),
        "recipient": RECIPIENT,
        "purpose": "treatment",
    },
    "consent:revoke": lambda w: {"revoked_on": _today(), "reason": "patient asked"},
    "treatment:plan_create": lambda w: {"effective_on": _today(), "review_on": _later()},
    "treatment:plan_activate": lambda w: {"version": _plan_version(w)},
    "treatment:plan_review": lambda w: {
        "version": _plan_version(w),
        "reviewed_on": _today(),
        "next_review_on": _later(),
        "note": "ok",
    },
    "treatment:problem_add": lambda w: {"version": _plan_version(w), "statement": "Low mood"},
    "treatment:goal_add": lambda w: {
        "version": _plan_version(w),
        "statement": "Sleep",
        "measure": "diary",
        "target_date": _later(),
    },
    "treatment:problem_status": lambda w: _status(w),
    "treatment:objective_add": lambda w: {
        "version": _plan_version(w),
        "statement": "Use a coping skill",
        "target_date": _later(),
    },
    "treatment:goal_status": lambda w: _status(w),
    "treatment:intervention_add": lambda w: {
        "version": _plan_version(w),
        "description": "CBT group",
        "frequency": "weekly",
    },
    "treatment:objective_status": lambda w: _status(w),
    "calendars:participant_create": lambda w: {},
    "calendars:participant_revoke": lambda w: {},
    "calendars:mine_create": lambda w: {},
    "calendars:mine_revoke": lambda w: {},
    "measures:schedules": lambda w: {"instrument": "gad7", "cadences": ["weekly"]},
    "measures:enter": lambda w: {
        **{f"item_{n}": "0" for n in range(1, 10)},
        "administered_at": (today() - timedelta(days=1)).isoformat() + "T10:00",
    },
    "measures:entered_in_error": lambda w: {"reason": "Entered for the wrong person."},
    "safety:acknowledge": lambda w: {},
    "safety:step": lambda w: {"kind": "note", "text": "Called and made a plan."},
    "safety:close": lambda w: {
        "outcome": "Safe; plan reviewed.",
        "cssrs_not_done_reason": "Screened by phone.",
        "safety_plan_not_reviewed_reason": "Reviewed by phone.",
    },
    "safety:raise": lambda w: {"severity": "urgent", "detail": "Staff concern"},
    "medical:review": lambda w: {"note": "Reviewed with the prescriber."},
    "medical:naloxone": lambda w: {"outcome": "offered", "note": "Kit given."},
    "portal_staff:safety_plan_edit": lambda w: {"version": 0, "warning_signs": "Not sleeping"},
    "portal_staff:safety_plan_reviewed": lambda w: {},
    "portal_staff:alumni_end": lambda w: {"confirm": "yes"},
    "portal:calendar_link": lambda w: {},
    "portal:alumni": lambda w: {"confirm": "on"},
    "portal:reminders": lambda w: {
        "day_before_at": "18:00",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
    },
    "portal:language": lambda w: {"language": "es"},
    "portal:checkin": lambda w: {
        "idempotency_key": _key(),
        "kind": "daily",
        "mood": "5",
        "craving": "2",
        "used_since_last": "no",
        "sleep_hours": "7",
        "medication": "taken",
        "safety_concern": "no",
    },
    "portal:help": lambda w: {"idempotency_key": _key()},
    "portal:goals": lambda w: {
        "idempotency_key": _key(),
        "text": "Walk daily",
        "share_in_group": "no",
    },
    "portal:goal_update": lambda w: {
        "idempotency_key": _key(),
        "status": "partial",
        "share_in_group": "no",
    },
    "portal:diary_day": lambda w: {
        "idempotency_key": _key(),
        "urge_use": "0",
        "urge_self_harm": "0",
        "suicidal_ideation": "0",
        "used_substance": "no",
        "self_harm_action": "no",
        **{f"emotion_{name}": "0" for name in _emotions()},
    },
    "portal:worksheet": lambda w: {"idempotency_key": _key(), "situation": "x"},
    "portal:safety_plan_edit": lambda w: {
        "idempotency_key": _key(),
        "version": 0,
        "warning_signs": "Not sleeping",
    },
    "portal:measure": lambda w: {
        "idempotency_key": _key(),
        **{f"item_{n}": "0" for n in range(1, 10)},
    },
    # The page's answers so far (a draft when the participant leaves the form unsent).
    "portal:measure_progress": lambda w: {"idempotency_key": _key(), "item_1": "1"},
    "portal:sign_in": lambda w: {"code": _room_code(w)},
    "portal:video_join": lambda w: {},
    "portal:video_left": lambda w: {},
}


def _room_code(world: World) -> str:
    from openiop.core import clock
    from openiop.groupwork import roomcode

    world.session_a.refresh_from_db()
    return roomcode.current_code(world.session_a, clock.now()).code


def _open_for_self_sign(world: World) -> None:
    """Session A under way now and virtual, so its code and video join work (rolled back)."""
    from django.utils import timezone

    from openiop.groupwork.models import Session

    now = timezone.now()
    Session.objects.filter(pk=world.session_a.pk).update(
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(minutes=60),
        modality="virtual",
        video_link="https://video.example.org/room",
    )


def _emotions() -> list[str]:
    from openiop.portal.models import DIARY_EMOTIONS

    return [name for name, _ in DIARY_EMOTIONS]


def _note(world: World) -> Any:
    """Session A's note as stored now (an earlier form's rolled-back edit left the
    in-memory copy ahead of it)."""
    from openiop.groupwork.models import Note

    return Note.objects.get(pk=world.note_a.pk)


def _skill(world: World) -> str:
    from openiop.groupwork import selectors

    plan = selectors.plan_of(world.session_a)
    return next(iter(plan.skills)) if plan else "Group participation"


def _status(world: World) -> dict[str, Any]:
    return {"version": _plan_version(world), "status": "achieved", "reason": "done"}


def _walk_in(world: World) -> str:
    from openiop.participants.models import Participant

    person = (
        Participant.objects.filter(program=world.program_a)
        .exclude(attendance__session=world.session_a)
        .order_by("id")
        .first()
    )
    return str(person.external_id) if person else ""


def test_AU_01_the_page_write_list_is_complete():
    routes = set(web_write_route_names())
    listed = set(FORMS) | set(NOT_A_CLINICAL_WRITE)
    assert sorted(routes - listed) == [], "new page writes: give them a form here"
    assert sorted(listed - routes) == [], "gone: take them out"
    assert not set(FORMS) & set(NOT_A_CLINICAL_WRITE)
    assert set(CANNOT_WRITE) <= set(FORMS)


def _post(client, path: str, form: dict[str, Any]):
    return client.post(path, form, HTTP_HX_REQUEST="true")


def _prepare_page(name: str, world: World) -> None:
    """The state each form needs to succeed (inside the rolled-back transaction)."""
    from openiop.groupwork import actions as gw
    from openiop.participants import actions as participant_actions
    from openiop.testing import admit

    if name in ("groupwork:walk_in", "groupwork:notes_draft"):
        person, _ = admit(
            world.program_a, world.track_a, world.clinician_a, first="Walker", last="Inwood"
        )
        if name == "groupwork:notes_draft":
            row = gw.attendance_add(
                actor=world.director_a, session=world.session_a, participant=person
            )
            gw.attendance_arrive(
                actor=world.director_a, attendance=row, at=world.session_a.starts_at
            )
    if name in ("groupwork:notes_sign_all", "groupwork:note_sign"):
        note = _note(world)
        gw.note_update(
            actor=world.director_a,
            note=note,
            expected_version=note.version,
            sections={"assessment": "Engaged and practised the skill."},
        )
    if name in ("groupwork:note_cosign", "groupwork:note_detail", "groupwork:attendance_correct"):
        note = _note(world)
        gw.note_update(
            actor=world.clinician_a,
            note=note,
            expected_version=note.version,
            sections={"assessment": "Engaged and practised the skill."},
        )
        gw.note_sign(actor=world.clinician_a, note=_note(world))
    if name in ("portal:sign_in", "portal:video_join", "portal:video_left"):
        _open_for_self_sign(world)
        if name == "portal:video_left":
            gw.attendance_video_join(
                actor=world.participant_user,
                participant=world.participant_a,
                session_id=world.session_a.external_id,
            )
    if name == "safety:close":
        from openiop.safety.actions import safety_event_acknowledge
        from openiop.safety.models import SafetyEvent

        event = SafetyEvent.objects.filter(participant=world.participant_a).order_by("id")[0]
        safety_event_acknowledge(actor=world.director_a, event=event)
    if name == "calendars:mine_revoke":
        from openiop.calendars.actions import feed_create_for_clinician

        feed_create_for_clinician(
            actor=world.director_a, user=world.director_a, program=world.program_a
        )
    if name == "portal_staff:safety_plan_reviewed":
        from openiop.portal.actions import safety_plan_save

        safety_plan_save(
            actor=world.clinician_a,
            participant=world.participant_a,
            version=0,
            steps={"warning_signs": "Not sleeping"},
        )
    if name == "treatment:plan_review":
        from openiop.treatment import actions as plans
        from openiop.treatment.models import TreatmentPlan

        plan = TreatmentPlan.objects.get(participant=world.participant_a)
        plans.plan_activate(actor=world.director_a, plan=plan, expected_version=plan.version)
    if name in ("portal:alumni", "portal_staff:alumni_end"):
        participant_actions.enrollment_discharge(
            actor=world.director_a,
            enrollment=world.enrollment_a,
            discharged_on=today(),
            reason="completed",
            step_down_destination="outpatient",
            keep_alumni=True,
        )
    if name == "participants:readmit":
        participant_actions.enrollment_discharge(
            actor=world.director_a,
            enrollment=world.enrollment_a,
            discharged_on=today() - timedelta(days=1),
            reason="completed",
            step_down_destination="outpatient",
        )


def _errors(response: Any) -> list[str]:
    """The error messages a refused form shows, for the failure message."""
    body = response.content.decode("utf-8", "replace")
    return re.findall(r'(?:errorlist|role="alert")[^>]*>(?:<li>)?([^<]{1,200})', body)[:4]


def _check_page_write(client, name: str, path: str, actor, world: World) -> str:
    """Post the form; return "" when it wrote with its audit, else what happened."""
    found = ""
    try:
        with transaction.atomic():
            _prepare_page(name, world)
            since = _last_seq()
            response = _post(client, path, FORMS[name](world))
            written = list(AuditEvent.objects.filter(seq__gt=since, action__in=WRITE_ACTIONS))
            if not written:
                found = f"{name}: {response.status_code}, nothing written {_errors(response)}"
            elif not all(e.actor_id == actor.pk for e in written):
                found = f"{name}: audit events name another actor"
            elif str(world.participant_a.external_id) in path and not any(
                e.participant_external_id == world.participant_a.external_id for e in written
            ):
                found = f"{name}: no write event names the participant of the route"
            raise _Rollback
    except _Rollback:
        pass
    return found


def _page_world(world: World) -> None:
    """The API writes' rows, and a planner run of this week for `run_apply`."""
    from openiop.scheduling.actions import plan_run_create

    _write_world(world)
    monday = today() - timedelta(days=today().weekday())
    plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=monday,
        kind="week",
        time_limit=2,
    )


def _check_page_fault(client, name: str, path: str, world: World, monkeypatch) -> str:
    """The same form with the audit store failing: nothing of it may remain (REL-02)."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise InjectedFault("audit store unavailable")

    found = ""
    try:
        with transaction.atomic():
            _prepare_page(name, world)
            form = FORMS[name](world)
            before = _fingerprint()
            with monkeypatch.context() as patch:
                patch.setattr(audit_actions, "audit_append", fail)
                patch.setattr(AppendOnlyQuerySet, "bulk_create", fail)
                try:
                    response = _post(client, path, form)
                except InjectedFault:
                    pass
                else:
                    if response.status_code < 500:
                        found = f"{name}: answered {response.status_code} without its audit"
            if _fingerprint() != before:
                found = f"{name}: write kept without its audit"
            raise _Rollback
    except _Rollback:
        pass
    return found


def test_AU_01_every_page_write_is_audited_in_the_same_transaction(
    world: World, client_for, monkeypatch
):
    _page_world(world)
    staff = _director(world, client_for)
    me = client_for(world.participant_user)
    routes = {r.name: r.path for r in web_routes(world)}
    problems, checked = [], []
    for name in sorted(FORMS):
        portal = name.startswith("portal:")
        client, actor = (me, world.participant_user) if portal else (staff, world.director_a)
        found = _check_page_write(client, name, routes[name], actor, world)
        if name in ENDS_OWN_SESSION:
            # The write logged this client out; the rolled-back session row does not log the
            # client back in, so the next checks start from a fresh log-in.
            client = me = client_for(world.participant_user)
        if not found and name not in CANNOT_WRITE:
            found = _check_page_fault(client, name, routes[name], world, monkeypatch)
            if name in ENDS_OWN_SESSION:
                me = client_for(world.participant_user)
        if found and name not in CANNOT_WRITE:
            problems.append(found)
        elif not found and name in CANNOT_WRITE:
            problems.append(f"{name}: writes now, take it out of CANNOT_WRITE")
        elif not found:
            checked.append(name)
    assert not problems, "\n".join(problems)
    assert set(checked) == set(FORMS) - set(CANNOT_WRITE)
