"""Issue 18 item 1: once a participant's note is signed, their attendance changes only
through an addendum that re-states the minutes; the row, the weekly ledger and the note
then agree. The plain edits (action, runner POST, API) are refused, naming the field."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest

from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.groupwork import actions as gw
from openiop.groupwork.actions.corrections import attendance_correct
from openiop.groupwork.ledger import iso_week_start, weekly_ledger
from openiop.groupwork.models import Attendance, Note, NoteAddendum, NoteStatus
from openiop.testing import World, make_group_session, today

pytestmark = pytest.mark.django_db

REFUSAL = "This note is signed: correct attendance with an addendum"


def _signed_and_closed(world: World):
    """A 90-minute group two days ago at 10:00: arrived 10:20 (70 minutes), note drafted,
    completed, signed, then the session closed, as in the issue."""
    start = clock.at_local(today(world.program_a) - timedelta(days=2), time(10, 0), world.program_a)
    session, _, rows = make_group_session(world, members=1, starts_at=start, minutes=90)
    row = rows[0]
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=start + timedelta(minutes=20))
    assert row.minutes == 70
    note = gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={k: v or "Engaged and practised the skill." for k, v in note.sections.items()},
    )
    gw.note_sign(actor=world.clinician_a, note=note)
    gw.session_close(actor=world.clinician_a, session=session)
    row.refresh_from_db()
    assert row.minutes == 70
    return session, row, Note.objects.get(pk=note.pk)


def _week_minutes(world: World, session) -> int:
    day = clock.local_date(session.starts_at, world.program_a)
    ledger = weekly_ledger(
        program=world.program_a,
        week_start=iso_week_start(day),
        participant_ids=[world.participant_a.pk],
    )
    # No row when the week holds no minutes and lies before the admission (two days ago can be
    # last week, e.g. on a Tuesday such as 29 February 2028): that is 0 minutes.
    row = ledger.get(world.participant_a.pk)
    return row.total if row is not None else 0


def test_plain_attendance_edits_are_refused_once_the_note_is_signed(world: World):
    session, row, note = _signed_and_closed(world)
    week_before = _week_minutes(world, session)
    attempts = [
        ("arrived_at", lambda: gw.attendance_arrive(
            actor=world.clinician_a, attendance=row, at=session.starts_at + timedelta(minutes=60)
        )),
        ("departed_at", lambda: gw.attendance_depart(
            actor=world.clinician_a, attendance=row, at=session.starts_at + timedelta(minutes=50)
        )),
        ("status", lambda: gw.attendance_absent(actor=world.clinician_a, attendance=row)),
        ("participant", lambda: gw.attendance_remove(actor=world.clinician_a, attendance=row)),
    ]  # fmt: skip
    for field, attempt in attempts:
        with pytest.raises(ConflictError) as caught:
            attempt()
        assert list(caught.value.errors) == [field]
        assert REFUSAL in caught.value.errors[field][0]
    fresh = Attendance.objects.get(pk=row.pk)
    assert (fresh.minutes, fresh.status, fresh.removed) == (70, "present", False)
    assert _week_minutes(world, session) == week_before
    assert not NoteAddendum.objects.filter(note=note).exists()


def test_a_draft_note_does_not_lock_attendance(world: World):
    session, _, rows = make_group_session(world, members=1)
    row = rows[0]
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
    late = session.starts_at + timedelta(minutes=30)
    assert gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=late).minutes == 150


def test_correction_updates_row_ledger_and_note_addendum_together(world: World):
    session, row, note = _signed_and_closed(world)
    other = _week_minutes(world, session) - 70  # the world's own group may share the week
    addendum = attendance_correct(
        actor=world.clinician_a,
        attendance=row,
        reason="Arrival was keyed wrongly; sign-in sheet says 11:00.",
        status="present",
        arrived_at=session.starts_at + timedelta(minutes=60),
    )
    row.refresh_from_db()
    assert row.minutes == 30
    assert _week_minutes(world, session) == other + 30
    assert addendum.note == note and addendum.minutes == 30
    assert "Attended 30 of 90 minutes (was 70)." in addendum.text
    assert "Arrived 11:00 (was 10:20)." in addendum.text
    assert addendum.attendance_change["before"]["minutes"] == 70
    assert addendum.attendance_change["after"]["minutes"] == 30
    # The signed note itself is untouched and still verifies.
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and gw.note_verify_hash(note)
    events = AuditEvent.objects.filter(
        object_id__in=[str(row.external_id), str(addendum.external_id)]
    )
    assert events.filter(action="update", detail__corrected=True).count() == 1
    assert events.filter(action="create", detail__attendance_corrected=True).count() == 1


def test_correction_to_absent_takes_the_minutes_out_of_the_week(world: World):
    session, row, _ = _signed_and_closed(world)
    other = _week_minutes(world, session) - 70
    addendum = attendance_correct(
        actor=world.clinician_a,
        attendance=row,
        reason="Recorded against the wrong person.",
        status="absent",
    )
    row.refresh_from_db()
    assert (row.status, row.minutes, row.arrived_at) == ("absent", 0, None)
    assert _week_minutes(world, session) == other
    assert "Attended 0 of 90 minutes (was 70)." in addendum.text


def test_correction_needs_a_reason_and_valid_times_and_saves_nothing_otherwise(world: World):
    session, row, note = _signed_and_closed(world)
    bad = [
        ({"reason": " ", "status": "present", "arrived_at": session.starts_at}, "reason"),
        ({"reason": "Sheet says so.", "status": "present"}, "arrived_at"),
        (
            {
                "reason": "Sheet says so.",
                "status": "present",
                "arrived_at": session.starts_at + timedelta(minutes=40),
                "departed_at": session.starts_at + timedelta(minutes=30),
            },
            "departed_at",
        ),
        ({"reason": "Sheet says so.", "status": "expected"}, "status"),
        (
            {
                "reason": "Sheet says so.",
                "status": "present",
                "arrived_at": row.arrived_at,
                "departed_at": row.departed_at,
            },
            "arrived_at",
        ),
    ]
    for kwargs, field in bad:
        with pytest.raises(ActionError) as caught:
            attendance_correct(actor=world.clinician_a, attendance=row, **kwargs)
        assert field in caught.value.errors, (kwargs, caught.value.errors)
    assert Attendance.objects.get(pk=row.pk).minutes == 70
    assert not NoteAddendum.objects.filter(note=note).exists()


def test_correction_is_refused_while_the_note_is_a_draft(world: World):
    row = world.session_a.attendance.get()
    with pytest.raises(ActionError) as caught:
        attendance_correct(
            actor=world.clinician_a,
            attendance=row,
            reason="Sheet says so.",
            status="present",
            arrived_at=world.session_a.starts_at + timedelta(minutes=5),
        )
    assert "note" in caught.value.errors


# --- the runner (page POSTs) ----------------------------------------------------------


def _row_url(world: World, session, row, verb: str) -> str:
    return (
        f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"
        f"attendance/{row.external_id}/{verb}/"
    )


def _local(session, minutes: int) -> str:
    moment = session.starts_at + timedelta(minutes=minutes)
    return clock.local_time(moment, session.program).strftime("%H:%M")


def test_runner_refuses_the_plain_edit_and_offers_the_addendum(world: World, client_for):
    session, row, note = _signed_and_closed(world)
    other = _week_minutes(world, session) - 70
    client = client_for(world.clinician_a)
    refused = client.post(_row_url(world, session, row, "arrive"), {"at": _local(session, 60)})
    assert refused.status_code == 422
    text = refused.content.decode()
    assert REFUSAL in text and "arrival time" in text
    assert "Correct attendance" in text  # the addendum path is offered on the row
    row.refresh_from_db()
    assert row.minutes == 70

    runner = client.get(f"/p/{world.program_a.external_id}/sessions/{session.external_id}/")
    page = runner.content.decode()
    assert "Correct and add addendum" in page
    assert f"Arrival time for {world.participant_a.display_name}" not in page

    done = client.post(
        _row_url(world, session, row, "correct"),
        {"status": "present", "arrived": _local(session, 60), "departed": "", "reason": "x"},
    )
    assert done.status_code == 422 and "Say why" in done.content.decode()  # reason too short
    done = client.post(
        _row_url(world, session, row, "correct"),
        {
            "status": "present",
            "arrived": _local(session, 60),
            "departed": "",
            "reason": "Sign-in sheet says 11:00.",
        },
    )
    assert done.status_code == 200, done.content.decode()
    assert "30 min" in done.content.decode()
    row.refresh_from_db()
    assert row.minutes == 30 and _week_minutes(world, session) == other + 30
    addendum = NoteAddendum.objects.get(note=note)
    assert addendum.minutes == 30 and "Attended 30 of 90 minutes (was 70)." in addendum.text
    # The note's printable page carries the addendum beside the signed text.
    printed = client.get(
        f"/p/{world.program_a.external_id}/sessions/{session.external_id}/notes/"
        f"{note.external_id}/print/"
    ).content.decode()
    assert "Attended 30 of 90 minutes (was 70)." in printed
    # And the runner shows it under the signed note: the note and the row agree on the page.
    runner = client.get(f"/p/{world.program_a.external_id}/sessions/{session.external_id}/")
    assert "Attended 30 of 90 minutes (was 70)." in runner.content.decode()


def test_runner_correction_twins(world: World, client_for):
    session, row, _ = _signed_and_closed(world)
    body = {"status": "absent", "reason": "Recorded against the wrong person."}
    url = _row_url(world, session, row, "correct")
    assert client_for(world.intake_a).post(url, body).status_code == 403
    assert client_for(world.billing_a).post(url, body).status_code == 403
    assert client_for(world.clinician_b).post(url, body).status_code == 404
    assert Attendance.objects.get(pk=row.pk).minutes == 70


# --- the API ---------------------------------------------------------------------------


def _send(client, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_api_refuses_the_plain_edit_and_corrects_through_the_addendum(world: World, client_for):
    session, row, note = _signed_and_closed(world)
    other = _week_minutes(world, session) - 70
    base = (
        f"/api/v1/programs/{world.program_a.external_id}/sessions/{session.external_id}"
        f"/attendance/{row.external_id}"
    )
    client = client_for(world.clinician_a)
    later = (session.starts_at + timedelta(minutes=60)).isoformat()
    refused = _send(client, f"{base}/arrive", {"at": later})
    assert refused.status_code == 409
    assert REFUSAL in json.dumps(refused.json()) and "arrived_at" in json.dumps(refused.json())
    assert _send(client, f"{base}/absent", {}).status_code == 409
    assert Attendance.objects.get(pk=row.pk).minutes == 70

    missing = _send(client, f"{base}/correct", {"status": "present", "arrived_at": later})
    assert missing.status_code == 422 and "reason" in json.dumps(missing.json())
    done = _send(
        client,
        f"{base}/correct",
        {"status": "present", "arrived_at": later, "reason": "Sign-in sheet says 11:00."},
    )
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["attendance"]["minutes"] == 30
    assert body["addendum"]["minutes"] == 30
    assert body["addendum"]["note"] == str(note.external_id)
    assert "Attended 30 of 90 minutes (was 70)." in body["addendum"]["text"]
    assert _week_minutes(world, session) == other + 30
    # The session's notes in the API carry the addendum with the signed note.
    notes = client.get(
        f"/api/v1/programs/{world.program_a.external_id}/sessions/{session.external_id}/notes"
    ).json()
    (listed,) = [n for n in notes if n["id"] == str(note.external_id)]
    assert [a["minutes"] for a in listed["addenda"]] == [30]


def test_api_correction_twins(world: World, client_for):
    session, row, _ = _signed_and_closed(world)
    path = (
        f"/api/v1/programs/{world.program_a.external_id}/sessions/{session.external_id}"
        f"/attendance/{row.external_id}/correct"
    )
    body = {"status": "absent", "reason": "Recorded against the wrong person."}
    assert _send(client_for(world.intake_a), path, body).status_code == 403
    assert _send(client_for(world.clinician_b), path, body).status_code == 404
    assert Attendance.objects.get(pk=row.pk).minutes == 70


def test_a_draft_whose_minutes_went_stale_is_not_signed(world: World):
    """Drafted at 70 minutes; the arrival is then corrected (before signing) to 10:50, 40
    minutes. Signing the draft as it stands would lock "Attended 70 of 90 minutes" against a
    ledger of 40: refused, naming the section and what to do, and readiness says so."""
    start = clock.at_local(today(world.program_a) - timedelta(days=2), time(10, 0), world.program_a)
    session, _, rows = make_group_session(world, members=1, starts_at=start, minutes=90)
    row = rows[0]
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=start + timedelta(minutes=20))
    note = gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={k: v or "Engaged and practised the skill." for k, v in note.sections.items()},
    )
    assert "Attended 70 of 90 minutes" in note.sections["data"]
    assert gw.notes.note_readiness(note) == []
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=start + timedelta(minutes=50))
    assert gw.notes.note_readiness(note) == ["minutes in the data to update"]
    with pytest.raises(ActionError) as refused:
        gw.note_sign(actor=world.clinician_a, note=note)
    assert "attendance now records 40" in refused.value.errors["data"][0]
    assert Note.objects.get(pk=note.pk).status == NoteStatus.DRAFT

    sections = dict(note.sections)
    sections["data"] = sections["data"].replace("Attended 70 of 90", "Attended 40 of 90")
    note = gw.note_update(
        actor=world.clinician_a, note=note, expected_version=note.version, sections=sections
    )
    assert gw.note_sign(actor=world.clinician_a, note=note).status == NoteStatus.SIGNED
