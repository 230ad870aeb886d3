"""Printing group notes: one participant per page; roster prints are marked internal
(clinical.md section 7: no co-member's name or record number in a participant's record)."""

from __future__ import annotations

import pytest

from openiop.audit.models import AuditEvent
from openiop.groupwork import actions as gw
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db

INTERNAL = "Internal — contains several participants' identities; not for release"


def _session_with_notes(world: World):
    """Three present members, each with a draft note whose text is their own."""
    session, people, rows = make_group_session(world, members=3)
    notes = []
    for person, row in zip(people, rows, strict=True):
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
        note = gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
        note = gw.note_update(
            actor=world.clinician_a,
            note=note,
            expected_version=note.version,
            sections={"data": f"Own words of {person.record_number} about the skill."},
        )
        notes.append(note)
    return session, people, notes


def _print_url(world: World, session, note) -> str:
    return (
        f"/p/{world.program_a.external_id}/sessions/{session.external_id}"
        f"/notes/{note.external_id}/print/"
    )


def test_per_participant_print_shows_no_other_participant(world: World, client_for):
    session, people, notes = _session_with_notes(world)
    response = client_for(world.clinician_a).get(_print_url(world, session, notes[0]))
    assert response.status_code == 200
    body = response.content.decode()
    me = people[0]
    assert me.legal_last_name in body and me.record_number in body
    assert f"Own words of {me.record_number}" in body
    assert "Group section" in body and "Participants present: 3" in body
    for other in people[1:]:
        assert other.legal_last_name not in body
        assert other.legal_first_name not in body
        assert other.record_number not in body
        assert f"Own words of {other.record_number}" not in body


def test_per_participant_print_audits_only_that_participant(world: World, client_for):
    session, people, notes = _session_with_notes(world)
    before = AuditEvent.objects.count()
    client_for(world.clinician_a).get(_print_url(world, session, notes[1]))
    events = list(AuditEvent.objects.order_by("id")[before:])
    reads = [e for e in events if e.action == "read"]
    assert [e.participant_external_id for e in reads] == [people[1].external_id]
    assert reads[0].detail == {"view": "note_print"}


def test_per_participant_print_twins(world: World, client_for):
    session, _, notes = _session_with_notes(world)
    url = _print_url(world, session, notes[0])
    assert client_for(world.clinician_b).get(url).status_code == 404  # other program
    assert client_for(world.billing_a).get(url).status_code == 403  # no note bodies
    # A note of another session under this session's address is not found.
    other, _, _ = make_group_session(world, members=1)
    wrong = _print_url(world, other, notes[0])
    assert client_for(world.clinician_a).get(wrong).status_code == 404


def test_roster_print_is_internal_and_carries_no_note_bodies(world: World, client_for):
    session, people, notes = _session_with_notes(world)
    url = f"/p/{world.program_a.external_id}/sessions/{session.external_id}/print/"
    body = client_for(world.clinician_a).get(url).content.decode()
    assert INTERNAL in body
    for person, note in zip(people, notes, strict=True):
        assert person.record_number in body  # a sign-in sheet: everyone, so internal
        assert f"Own words of {person.record_number}" not in body
        assert _print_url(world, session, note) in body
    assert client_for(world.clinician_b).get(url).status_code == 404


def test_runner_links_each_note_to_its_own_print(world: World, client_for):
    session, _, notes = _session_with_notes(world)
    url = f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    body = client_for(world.clinician_a).get(url).content.decode()
    for note in notes:
        assert _print_url(world, session, note) in body
    assert "Sign-in sheet (internal)" in body
