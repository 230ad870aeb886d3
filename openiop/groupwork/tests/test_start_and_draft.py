"""`session_start` and `note_draft_all`: the runner's "Start" and "Draft notes for everyone
present" buttons and the API call the same actions, which validate, audit and commit whole."""

from __future__ import annotations

import json

import pytest

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.groupwork import actions as gw
from openiop.groupwork.models import AttendanceStatus, Note, SessionStatus
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _fail_audit(monkeypatch, module: str, *, after: int = 0) -> None:
    """The audit store fails on the (after+1)-th event written through `module`."""
    from openiop.audit import actions as audit_actions

    real = audit_actions.audit_record
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise RuntimeError("audit store unavailable")
        return real(**kwargs)

    monkeypatch.setattr(f"openiop.groupwork.actions.{module}.audit_record", flaky)


def _statuses(session) -> list[str]:
    return sorted(session.attendance.values_list("status", flat=True))


# --- session_start ----------------------------------------------------------------------


def test_session_start_marks_everyone_expected_present_and_audits(world: World):
    session, _, rows = make_group_session(world, members=3)
    gw.attendance_absent(actor=world.clinician_a, attendance=rows[2], reason="Sick")
    since = _last_seq()
    gw.session_start(actor=world.clinician_a, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    arrived = session.attendance.filter(status=AttendanceStatus.PRESENT)
    assert {a.pk for a in arrived} == {rows[0].pk, rows[1].pk}
    assert all(a.arrived_at == session.starts_at for a in arrived)
    assert session.attendance.get(pk=rows[2].pk).status == AttendanceStatus.ABSENT
    events = AuditEvent.objects.filter(seq__gt=since, action="update")
    audited = set(events.values_list("object_id", flat=True))
    assert {str(rows[0].external_id), str(rows[1].external_id)} <= audited
    assert str(session.external_id) in audited
    assert all(e.actor_id == world.clinician_a.pk for e in events)


def test_session_start_keeps_an_in_progress_status(world: World):
    session, _, _ = make_group_session(world, members=1)
    gw.session_set_status(actor=world.clinician_a, session=session, status="in_progress")
    gw.session_start(actor=world.clinician_a, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert _statuses(session) == [AttendanceStatus.PRESENT]


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_session_start_refuses_an_ended_session(world: World, status: str):
    session, _, _ = make_group_session(world, members=2)
    gw.session_set_status(actor=world.clinician_a, session=session, status=status)
    since = _last_seq()
    with pytest.raises(ActionError) as refused:
        gw.session_start(actor=world.clinician_a, session=session)
    assert "session" in refused.value.errors
    assert _statuses(session) == [AttendanceStatus.EXPECTED] * 2
    assert _last_seq() == since


def test_session_start_saves_nothing_when_the_status_change_fails(world: World, monkeypatch):
    session, _, _ = make_group_session(world, members=3)
    since = _last_seq()
    # Every arrival is written and audited; then the audit of the status change fails.
    _fail_audit(monkeypatch, "sessions")
    with pytest.raises(RuntimeError):
        gw.session_start(actor=world.clinician_a, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert _statuses(session) == [AttendanceStatus.EXPECTED] * 3
    assert _last_seq() == since


# --- note_draft_all ---------------------------------------------------------------------


def test_note_draft_all_drafts_for_everyone_present_only(world: World):
    session, people, rows = make_group_session(world, members=3)
    for row in rows[:2]:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    gw.attendance_absent(actor=world.clinician_a, attendance=rows[2])
    since = _last_seq()
    notes = gw.note_draft_all(actor=world.clinician_a, session=session)
    assert {n.participant_id for n in notes} == {people[0].pk, people[1].pk}
    created = AuditEvent.objects.filter(seq__gt=since, action="create")
    assert set(created.values_list("object_id", flat=True)) == {str(n.external_id) for n in notes}


def test_note_draft_all_keeps_existing_drafts(world: World):
    session, _, rows = make_group_session(world, members=2)
    for row in rows:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    first = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[0])
    notes = gw.note_draft_all(actor=world.clinician_a, session=session)
    assert first.pk in {n.pk for n in notes} and len(notes) == 2
    assert Note.objects.filter(session=session).count() == 2


def test_note_draft_all_refuses_a_cancelled_session(world: World):
    session, _, rows = make_group_session(world, members=1)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    gw.session_set_status(actor=world.clinician_a, session=session, status="cancelled")
    with pytest.raises(ActionError) as refused:
        gw.note_draft_all(actor=world.clinician_a, session=session)
    assert "session" in refused.value.errors
    assert not Note.objects.filter(session=session).exists()


def test_note_draft_all_saves_no_draft_when_one_fails(world: World, monkeypatch):
    session, _, rows = make_group_session(world, members=3)
    for row in rows:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    since = _last_seq()
    _fail_audit(monkeypatch, "notes", after=1)  # the second draft's audit fails
    with pytest.raises(RuntimeError):
        gw.note_draft_all(actor=world.clinician_a, session=session)
    assert not Note.objects.filter(session=session).exists()
    assert _last_seq() == since


# --- the page and the API call them -----------------------------------------------------


def _page(world: World, session) -> str:
    return f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"


def _api(world: World, session) -> str:
    return f"/api/v1/programs/{world.program_a.external_id}/sessions/{session.external_id}"


def test_start_page_on_an_ended_session_shows_the_refusal(world: World, client_for):
    session, _, _ = make_group_session(world, members=1)
    gw.session_set_status(actor=world.clinician_a, session=session, status="cancelled")
    response = client_for(world.clinician_a).post(_page(world, session) + "start/")
    assert response.status_code == 422
    assert "cannot be started" in response.content.decode()
    assert _statuses(session) == [AttendanceStatus.EXPECTED]


def test_draft_page_on_a_cancelled_session_shows_the_refusal(world: World, client_for):
    session, _, rows = make_group_session(world, members=1)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    gw.session_set_status(actor=world.clinician_a, session=session, status="cancelled")
    response = client_for(world.clinician_a).post(_page(world, session) + "notes/draft/")
    assert response.status_code == 422
    assert "cancelled" in response.content.decode()
    assert not Note.objects.filter(session=session).exists()


def test_start_over_the_api_does_what_the_page_does(world: World, client_for):
    by_page, _, _ = make_group_session(world, members=2)
    by_api, _, _ = make_group_session(world, members=2)
    client = client_for(world.clinician_a)
    assert client.post(_page(world, by_page) + "start/").status_code == 200
    response = client.post(_api(world, by_api) + "/start", content_type="application/json")
    assert response.status_code == 200, response.content
    assert {r["status"] for r in response.json()} == {"present"}
    for session in (by_page, by_api):
        session.refresh_from_db()
        assert session.status == SessionStatus.IN_PROGRESS
        assert _statuses(session) == [AttendanceStatus.PRESENT] * 2


def test_start_over_the_api_refusal_and_twins(world: World, client_for):
    session, _, _ = make_group_session(world, members=1)
    path = _api(world, session) + "/start"
    assert client_for(world.intake_a).post(path).status_code == 403
    assert client_for(world.billing_a).post(path).status_code == 403
    assert client_for(world.clinician_b).post(path).status_code == 404
    assert _statuses(session) == [AttendanceStatus.EXPECTED]
    gw.session_set_status(actor=world.clinician_a, session=session, status="completed")
    refused = client_for(world.clinician_a).post(path)
    assert refused.status_code == 422
    assert "session" in json.loads(refused.content)["error"]["fields"]
