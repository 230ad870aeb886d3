"""Issue 18 items 2, 5 and 9: replace-with-'a peer' shows its result before saving, "Sign
all" says why each note was refused and resumes after re-authentication, and drafts use what
the participant's own record already says."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from openiop.accounts.stepup import SESSION_KEY
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import iso_week_start
from openiop.groupwork.models import Attendance, Note, NoteStatus
from openiop.groupwork.views import PENDING_KEY
from openiop.portal.actions import help_request
from openiop.portal.models import CheckIn, DiaryCard, WeeklyGoal
from openiop.testing import World, admit, make_group_session

pytestmark = pytest.mark.django_db


def _base(world: World, session) -> str:
    return f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"


@pytest.fixture
def elderhurst_group(world: World):
    """Participant A (Avery Quillby) with two more: Avery Elderhurst, known as Blake, and
    Sam Tarn. A's draft names Avery Elderhurst by full and preferred name."""
    session, people, rows = make_group_session(world, members=1)
    for first, last, preferred in [("Avery", "Elderhurst", "Blake"), ("Sam", "Tarn", "")]:
        person, _ = admit(
            world.program_a,
            world.track_a,
            world.clinician_a,
            first=first,
            last=last,
            preferred_name=preferred,
        )
        people.append(person)
        rows.append(gw.attendance_add(actor=world.clinician_a, session=session, participant=person))
    for row in rows:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    rows = [Attendance.objects.get(pk=r.pk) for r in rows]
    note = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[0])
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"data": "Practised with Avery Elderhurst and Blake."},
    )
    return session, people, rows, note


# --- item 2: one replacement per person, previewed before saving -------------------------


def test_replace_preview_shows_the_result_and_saves_nothing(
    world: World, client_for, elderhurst_group
):
    session, _, _, note = elderhurst_group
    path = _base(world, session) + f"notes/{note.external_id}/replace-peers/preview/"
    response = client_for(world.clinician_a).get(path, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Practised with a peer and a peer." in body
    assert "a peer a peer" not in body
    assert Note.objects.get(pk=note.pk).sections["data"] == (
        "Practised with Avery Elderhurst and Blake."
    )


def test_replace_confirm_saves_the_previewed_text(world: World, client_for, elderhurst_group):
    session, _, _, note = elderhurst_group
    path = _base(world, session) + f"notes/{note.external_id}/replace-peers/"
    response = client_for(world.clinician_a).post(
        path, {"version": note.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    saved = Note.objects.get(pk=note.pk)
    assert saved.sections["data"] == "Practised with a peer and a peer."
    assert "Practised with a peer and a peer." in response.content.decode()


def test_replace_confirm_refuses_a_note_changed_since_the_preview(
    world: World, client_for, elderhurst_group
):
    session, _, _, note = elderhurst_group
    previewed = note.version
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"data": "Practised with Avery Elderhurst; Sam Tarn watched."},
    )
    path = _base(world, session) + f"notes/{note.external_id}/replace-peers/"
    response = client_for(world.clinician_a).post(
        path, {"version": previewed}, HTTP_HX_REQUEST="true"
    )
    assert b"changed since you opened it" in response.content
    assert "Sam Tarn" in Note.objects.get(pk=note.pk).sections["data"]  # nothing replaced


def test_replace_preview_twins(world: World, client_for, elderhurst_group):
    session, _, _, note = elderhurst_group
    path = _base(world, session) + f"notes/{note.external_id}/replace-peers/preview/"
    assert client_for(world.intake_a).get(path).status_code == 403
    assert client_for(world.clinician_b).get(path).status_code == 404


# --- item 5: readiness inline, result in view, resume after re-authentication -----------


def test_runner_shows_each_notes_readiness_and_reason(world: World, client_for, elderhurst_group):
    session, _, rows, _ = elderhurst_group
    gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[2])
    body = client_for(world.clinician_a).get(_base(world, session)).content.decode()
    # A's note names a member and has no assessment; Sam's draft has no assessment either.
    assert "Note needs: assessment; a group member&#x27;s name out of data" in body
    assert body.count("Note needs: assessment") == 2 * 2  # roster row and note, twice


def test_sign_all_result_lists_what_each_refused_note_needs(
    world: World, client_for, elderhurst_group
):
    session, _, rows, note = elderhurst_group
    ready = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[2])
    gw.note_update(
        actor=world.clinician_a,
        note=ready,
        expected_version=ready.version,
        sections={"assessment": "Engaged; practised the skill twice."},
    )
    response = client_for(world.clinician_a, stepped_up=True).post(
        _base(world, session) + "notes/sign-all/", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="sign-all-result"' in body and 'aria-live="polite"' in body
    assert "Signed 1 note; 1 needs attention:" in body
    assert "needs assessment; a group member&#x27;s name out of data" in body
    assert body.index("Signed 1 note") < body.index("Draft notes for everyone present")
    assert Note.objects.get(pk=ready.pk).status == NoteStatus.SIGNED
    assert Note.objects.get(pk=note.pk).status == NoteStatus.DRAFT


def _reauthenticate(client) -> None:
    session = client.session
    session[SESSION_KEY] = clock.now().timestamp()
    session.save()


def test_sign_all_resumes_after_reauthentication(world: World, client_for):
    note = world.note_a
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"assessment": "Engaged."},
    )
    client = client_for(world.clinician_a)
    runner = _base(world, world.session_a)
    stale = client.post(runner + "notes/sign-all/", HTTP_HX_REQUEST="true")
    assert stale.status_code == 403 and b"reauth_required" in stale.content
    assert stale["HX-Redirect"].startswith("/accounts/reauth/?next=")
    assert client.session[PENDING_KEY]["action"] == "sign_all"
    before_reauth = client.get(runner).content.decode()
    assert 'hx-trigger="load"' not in before_reauth  # not resumed without re-authenticating
    _reauthenticate(client)
    resumed = client.get(runner).content.decode()
    assert 'hx-trigger="load"' in resumed and "signing all ready notes" in resumed
    assert PENDING_KEY not in client.session
    assert 'hx-trigger="load"' not in client.get(runner).content.decode()  # once only
    assert Note.objects.get(pk=note.pk).status == NoteStatus.DRAFT  # the GET signs nothing


def test_one_note_signing_resumes_after_reauthentication(world: World, client_for):
    """The single note's Sign behaves as "Sign all": after re-authentication the runner signs
    that note by itself, once, and only that session's draft note."""
    note = world.note_a
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"assessment": "Engaged."},
    )
    client = client_for(world.clinician_a)
    runner = _base(world, world.session_a)
    sign = f"{runner}notes/{note.external_id}/sign/"
    stale = client.post(sign)
    assert stale.status_code == 403 and b"reauth_required" in stale.content
    assert client.session[PENDING_KEY]["note"] == str(note.external_id)
    assert Note.objects.get(pk=note.pk).status == NoteStatus.DRAFT
    _reauthenticate(client)
    resumed = client.get(runner).content.decode()
    assert f'hx-post="{sign}" hx-trigger="load"' in resumed
    assert f"signing the note for {note.participant.display_name}" in resumed
    assert 'hx-trigger="load"' not in client.get(runner).content.decode()  # once only
    done = client.post(sign, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Redirect"].endswith(f"#note-{note.external_id}")
    assert Note.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_a_resumed_note_must_still_be_a_draft_of_this_session(world: World, client_for):
    client = client_for(world.clinician_a, stepped_up=True)
    session = client.session
    for note_id in [str(uuid.uuid4()), "not-a-uuid", ""]:
        session[PENDING_KEY] = {
            "action": "sign_note",
            "session": str(world.session_a.external_id),
            "note": note_id,
            "at": clock.now().timestamp(),
        }
        session.save()
        body = client.get(_base(world, world.session_a)).content.decode()
        assert 'hx-trigger="load"' not in body


@pytest.mark.parametrize(
    "pending",
    [
        {"action": "delete_everything", "session": "SESSION", "at": "NOW"},
        {"action": "sign_all", "session": "https://evil.example/", "at": "NOW"},
        {"action": "sign_all", "session": "SESSION", "at": "OLD"},
        "https://evil.example/",
    ],
    ids=["unknown-action", "not-this-session", "stale", "not-a-record"],
)
def test_only_a_known_fresh_action_for_this_session_resumes(world: World, client_for, pending):
    client = client_for(world.clinician_a, stepped_up=True)
    if isinstance(pending, dict):
        now = clock.now().timestamp()
        pending = {
            **pending,
            "session": str(world.session_a.external_id)
            if pending["session"] == "SESSION"
            else pending["session"],
            "at": now if pending["at"] == "NOW" else now - 3600,
        }
    session = client.session
    session[PENDING_KEY] = pending
    session.save()
    body = client.get(_base(world, world.session_a)).content.decode()
    assert 'hx-trigger="load"' not in body


# --- item 9: drafts from the record, participation and affect per row --------------------


@pytest.fixture
def recorded(world: World):
    """Participant A came late, checked in with a high craving and use, used on a diary day,
    marked a goal (that names a co-member) as a setback and has an open safety event."""
    session, people, rows = make_group_session(world, members=2)
    a, b = rows
    gw.attendance_arrive(
        actor=world.clinician_a, attendance=a, at=session.starts_at + timedelta(minutes=20)
    )
    gw.attendance_arrive(actor=world.clinician_a, attendance=b, at=session.starts_at)
    participant = world.participant_a
    CheckIn.objects.create(
        program=world.program_a,
        participant=participant,
        kind="session",
        mood=3,
        craving=8,
        used_since_last=True,
        use_what="alcohol",
        use_when=session.starts_at - timedelta(hours=12),
        sleep_hours=Decimal("5.0"),
        medication="taken",
        safety_concern=False,
    )
    day = clock.local_date(session.starts_at, world.program_a) - timedelta(days=1)
    DiaryCard.objects.create(
        program=world.program_a,
        participant=participant,
        day=day,
        urge_use=4,
        urge_self_harm=0,
        used_substance=True,
    )
    WeeklyGoal.objects.create(
        program=world.program_a,
        participant=participant,
        week_start=iso_week_start(day),
        text="Walk with Bailey Brindlecombe after group",
        status="setback",
    )
    help_request(actor=world.participant_user, participant=participant)
    return session, people, [Attendance.objects.get(pk=r.pk) for r in (a, b)]


def test_draft_pulls_in_the_participants_own_record(world: World, recorded):
    session, _, (a, b) = recorded
    gw.attendance_observe(
        actor=world.clinician_a, attendance=a, participation="prompted", affect="anxious"
    )
    drafts = {
        n.participant_id: n for n in gw.note_draft_all(actor=world.clinician_a, session=session)
    }
    mine, theirs = drafts[a.participant_id].sections, drafts[b.participant_id].sections
    assert "arrived 20 minutes late" in mine["data"]
    assert "Observed: participated when prompted; affect anxious." in mine["data"]
    assert re.search(r"Check-in \(\w{3} \d\d:\d\d\): mood 3/10, craving 8/10", mine["data"])
    assert "reported use since the last check-in (alcohol)" in mine["data"]
    assert "urge to use up to 4/5; used on" in mine["data"]
    assert "Weekly goal marked as a setback: Walk with a peer after group." in mine["data"]
    assert "An open safety event is on record." in mine["data"]
    assert mine["assessment"].startswith("Participated when prompted, with an anxious affect.")
    assert "Relapse-risk indicators to address: craving 8/10 at check-in" in mine["assessment"]
    assert "review risk and the safety plan" in mine["assessment"]
    # B's draft says nothing of A's record, and no draft names another member.
    assert "craving" not in theirs["data"] and "safety" not in theirs["data"]
    for text in [*mine.values(), *theirs.values()]:
        for name in ("Bailey", "Brindlecombe", "Avery", "Quillby"):
            assert name not in text


def test_choice_rebuilds_an_untouched_draft_but_never_typed_text(world: World, recorded):
    session, _, (a, b) = recorded
    note_a = gw.note_draft(actor=world.clinician_a, session=session, attendance=a)
    note_b = gw.note_draft(actor=world.clinician_a, session=session, attendance=b)
    note_b = gw.note_update(
        actor=world.clinician_a,
        note=note_b,
        expected_version=note_b.version,
        sections={"assessment": "My own words."},
    )
    _, rebuilt = gw.attendance_observe(
        actor=world.clinician_a, attendance=a, participation="engaged", affect="euthymic"
    )
    assert rebuilt is not None and "Observed: actively engaged" in rebuilt.sections["data"]
    assert Note.objects.get(pk=note_a.pk).version == note_a.version + 1
    _, kept = gw.attendance_observe(
        actor=world.clinician_a, attendance=b, participation="withdrawn", affect="flat"
    )
    assert kept is None
    assert Note.objects.get(pk=note_b.pk).sections["assessment"] == "My own words."
    assert Attendance.objects.get(pk=b.pk).participation == "withdrawn"


def test_observe_view_and_twins(world: World, client_for, recorded):
    session, _, (a, _) = recorded
    path = _base(world, session) + f"attendance/{a.external_id}/observe/"
    form = {"participation": "listened", "affect": "flat"}
    response = client_for(world.clinician_a).post(path, form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'value="listened" selected' in response.content
    bad = client_for(world.clinician_a).post(path, {"participation": "asleep"})
    assert bad.status_code == 422 and b"participation options" in bad.content
    assert client_for(world.intake_a).post(path, form).status_code == 403
    assert client_for(world.clinician_b).post(path, form).status_code == 404
    assert Attendance.objects.get(pk=a.pk).participation == "listened"
