from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.groupwork import actions as gw
from openiop.groupwork.models import Note, NoteStatus
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


def _base(world: World, session) -> str:
    return f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"


def _history(world: World, weeks: int) -> None:
    """Past documented sessions for participant A: history the runner must not re-read."""
    for week in range(weeks):
        start = world.session_a.starts_at - timedelta(hours=4 * (week + 1))
        session, _, rows = make_group_session(world, members=1, starts_at=start)
        gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=start)
        gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[0])


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_runner_queries_do_not_grow_with_history(world: World, client_for):
    session, _, rows = make_group_session(world, members=12)
    for row in rows:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
        gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
    client = client_for(world.clinician_a)
    before = _queries(client, _base(world, session))
    _history(world, weeks=6)
    after = _queries(client, _base(world, session))
    assert before == after, f"{before} queries before the history, {after} after"
    # 42: the not-on-track flags read the stored growth fit (history stamp, fit row and, while
    # none is stored, the thin-history counts) instead of fitting in the request (issue 12).
    assert after <= 42


def test_runner_and_twins(world: World, client_for):
    path = _base(world, world.session_a)
    assert client_for(world.clinician_a).get(path).status_code == 200
    assert client_for(world.supervisor_a).get(path).status_code == 200
    assert client_for(world.intake_a).get(path).status_code == 403  # GRP-02: no rosters
    assert client_for(world.billing_a).get(path).status_code == 403
    assert client_for(world.clinician_b).get(path).status_code == 404


def test_GRP_02_roster_actions_need_a_facilitator(world: World, client_for):
    row = world.session_a.attendance.get()
    path = _base(world, world.session_a) + f"attendance/{row.external_id}/absent/"
    assert client_for(world.intake_a).post(path).status_code == 403
    assert client_for(world.clinician_b).post(path).status_code == 404


def test_bad_time_names_the_field_in_place(world: World, client_for):
    row = world.session_a.attendance.get()
    response = client_for(world.clinician_a).post(
        _base(world, world.session_a) + f"attendance/{row.external_id}/arrive/", {"at": "25:99"}
    )
    assert response.status_code == 422 and b"Enter a time" in response.content


def test_sign_all_needs_step_up(world: World, client_for):
    path = _base(world, world.session_a) + "notes/sign-all/"
    note = world.note_a
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"assessment": "Engaged."},
    )
    stale = client_for(world.clinician_a).post(path)
    assert stale.status_code == 403 and b"reauth_required" in stale.content
    assert client_for(world.clinician_a, stepped_up=True).post(path).status_code == 302
    assert Note.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_autosave_refuses_a_stale_version(world: World, client_for):
    note = world.note_a
    path = _base(world, world.session_a) + f"notes/{note.external_id}/"
    client = client_for(world.clinician_a)
    assert client.post(path, {"version": 1, "assessment": "First."}).status_code == 200
    stale = client.post(path, {"version": 1, "assessment": "Second."})
    assert stale.status_code == 409 and b"changed since you opened it" in stale.content


def test_roster_edit_after_drafting_keeps_every_typed_word(world: World, client_for):
    session, people, rows = make_group_session(world, members=3)
    client = client_for(world.clinician_a)
    base = _base(world, session)
    client.post(base + "start/")
    client.post(base + "notes/draft/")
    note = Note.objects.get(session=session, participant=people[0])
    typed = "Every word typed here must survive roster changes."
    assert (
        client.post(
            base + f"notes/{note.external_id}/", {"version": note.version, "assessment": typed}
        ).status_code
        == 200
    )
    client.post(base + f"attendance/{rows[2].external_id}/remove/", {"confirm": "yes"})
    from openiop.testing import admit

    walk_in, _ = admit(
        world.program_a, world.track_a, world.clinician_a, first="Late", last="Walkerby"
    )
    client.post(base + "walk-in/", {"participant": str(walk_in.external_id)})
    page = client.get(base)
    assert typed.encode() in page.content
    assert Note.objects.get(pk=note.pk).sections["assessment"] == typed


def test_walk_in_search_is_audited_and_scoped(world: World, client_for):
    from openiop.audit.models import AuditEvent

    before = AuditEvent.objects.filter(action="read").count()
    response = client_for(world.clinician_a).get(
        _base(world, world.session_a) + "walk-in/search/", {"q": "Mossfen"}
    )
    assert response.status_code == 200 and b"Add Blair" not in response.content  # program B's
    assert AuditEvent.objects.filter(action="read").count() == before


def test_ledger_page_and_twins(world: World, client_for):
    path = f"/p/{world.program_a.external_id}/ledger/"
    page = client_for(world.billing_a).get(path)
    assert page.status_code == 200 and b"Weekly hours" in page.content
    assert client_for(world.clinician_b).get(path).status_code == 404


def test_print_and_note_detail(world: World, client_for):
    client = client_for(world.clinician_a)
    assert client.get(_base(world, world.session_a) + "print/").status_code == 200
    program, participant = world.program_a.external_id, world.participant_a.external_id
    detail = f"/p/{program}/participants/{participant}/notes/{world.note_a.external_id}/"
    assert client.get(detail).status_code == 200
    assert client_for(world.billing_a).get(detail).status_code == 403  # AC-03: no note bodies
    assert client_for(world.intake_a).get(detail).status_code == 403


def test_rolling_membership_shows_who_still_needs_the_module(world: World, client_for):
    from openiop.groupwork.selectors import curriculum_progress, roster

    session, people, rows = make_group_session(world, members=2, plan_code="cbt-02")
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    gw.attendance_absent(actor=world.clinician_a, attendance=rows[1], reason="Sick")
    progress = curriculum_progress(participant_ids=[p.pk for p in people], program=world.program_a)
    assert "cbt-02" in progress[people[0].pk][0] and "cbt-02" in progress[people[1].pk][1]
    later, _, _ = make_group_session(
        world, members=1, plan_code="cbt-03", starts_at=session.ends_at
    )
    gw.attendance_add(actor=world.clinician_a, session=later, participant=people[1])
    entries = {e.participant.pk: e for e in roster(session=later)}
    assert entries[people[1].pk].module_missed == ["cbt-02"]
    assert "cbt-02" not in entries[people[0].pk].module_needed
    page = client_for(world.clinician_a).get(_base(world, later)).content.decode()
    # The runner names the missed session by its title, never by its internal code.
    assert "missed The thought record, part 1" in page
    assert "cbt-02" not in page


def test_sign_one_and_cosign(world: World, client_for):
    note = world.note_a
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"assessment": "Engaged."},
    )
    sign = _base(world, world.session_a) + f"notes/{note.external_id}/sign/"
    assert client_for(world.clinician_a).post(sign).status_code == 403  # step-up first
    assert client_for(world.clinician_a, stepped_up=True).post(sign).status_code == 302
    assert Note.objects.get(pk=note.pk).status == NoteStatus.SIGNED
    program, participant = world.program_a.external_id, world.participant_a.external_id
    cosign = f"/p/{program}/participants/{participant}/notes/{note.external_id}/cosign/"
    assert client_for(world.clinician_a, stepped_up=True).post(cosign).status_code == 403
    assert client_for(world.supervisor_a, stepped_up=True).post(cosign).status_code == 302
    assert Note.objects.get(pk=note.pk).cosignature.supervisor == world.supervisor_a


def test_a_group_that_crosses_local_midnight_takes_times_after_midnight(world: World, client_for):
    from datetime import time

    from openiop.core import clock
    from openiop.testing import today

    start = clock.at_local(today() - timedelta(days=2), time(22, 30), world.program_a)
    session, _, rows = make_group_session(world, members=1, starts_at=start)
    base = _base(world, session) + f"attendance/{rows[0].external_id}/"
    client = client_for(world.clinician_a)
    assert client.post(base + "arrive/", {"at": "22:40"}).status_code in (200, 302)
    response = client.post(base + "depart/", {"at": "00:50"})
    assert response.status_code in (200, 302), response.content[:300]
    rows[0].refresh_from_db()
    assert rows[0].departed_at - rows[0].arrived_at == timedelta(hours=2, minutes=10)
    assert clock.local_date(rows[0].departed_at, world.program_a) == today() - timedelta(days=1)
