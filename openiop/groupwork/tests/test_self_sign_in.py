"""Self sign-in by room code and the video join (issue 15 sections 2 and 3): rotation and
expiry of codes, roster-only codes, the guess limit, candidates kept apart from confirmed
times, place of service by modality, audit of each write and authorisation twins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from openiop.accounts.models import UserKind
from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.groupwork import actions as gw
from openiop.groupwork import roomcode
from openiop.groupwork.models import Attendance, AttendanceStatus, Modality
from openiop.testing import World, admit, make_group_session, make_user

pytestmark = pytest.mark.django_db


def _session(world: World, *, modality: str = Modality.IN_PERSON, members: int = 1):
    session, _, rows = make_group_session(world, members=members)
    if modality != Modality.IN_PERSON:
        session.modality = modality
        session.save(update_fields=["modality"])
    return session, rows


def _code(session) -> str:
    return roomcode.current_code(session, clock.now()).code


def _events(obj) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(obj.external_id)).order_by("seq"))


# --- the code ------------------------------------------------------------------------------


def test_code_is_short_unambiguous_and_rotates(world: World, settings):
    settings.OPENIOP_ROOM_CODE_MINUTES = 2
    session, _ = _session(world)
    now = clock.now()
    code = roomcode.current_code(session, now)
    assert len(code.code) == roomcode.LENGTH
    assert set(code.code) <= set(roomcode.ALPHABET)
    assert not set("0O1IL25S6G8BZ") & set(roomcode.ALPHABET)
    assert now < code.expires_at <= now + timedelta(minutes=2)
    later = roomcode.current_code(session, code.expires_at)
    assert later.code != code.code
    other, _, _ = make_group_session(world, members=1)
    assert roomcode.current_code(other, now).code != code.code


def test_previous_window_still_works_then_expires(world: World, settings):
    settings.OPENIOP_ROOM_CODE_MINUTES = 2
    session, _ = _session(world)
    code = roomcode.current_code(session, clock.now())
    assert roomcode.matches(session, code.code.lower(), clock.now())  # case does not matter
    assert roomcode.matches(session, code.code, code.expires_at + timedelta(seconds=30))
    assert not roomcode.matches(session, code.code, code.expires_at + timedelta(minutes=2))


def test_code_opens_shortly_before_start_and_closes_at_end(world: World, settings):
    settings.OPENIOP_ROOM_CODE_EARLY_MINUTES = 30
    session, _ = _session(world)
    assert not roomcode.is_open(session, session.starts_at - timedelta(minutes=31))
    assert roomcode.is_open(session, session.starts_at - timedelta(minutes=29))
    assert roomcode.is_open(session, session.ends_at)
    assert not roomcode.is_open(session, session.ends_at + timedelta(seconds=1))


# --- signing in and out --------------------------------------------------------------------


def test_first_code_signs_in_second_signs_out_as_candidates(world: World):
    session, rows = _session(world)
    me = world.participant_a
    first = gw.attendance_self_sign(
        actor=world.participant_user, participant=me, code=_code(session)
    )
    assert first.verb == "arrived"
    with time_machine.travel(clock.now() + timedelta(minutes=50), tick=False):
        second = gw.attendance_self_sign(
            actor=world.participant_user, participant=me, code=_code(session)
        )
    assert second.verb == "left"
    row = Attendance.objects.get(pk=rows[0].pk)
    assert row.self_arrived_at is not None and row.self_left_at is not None
    # Candidates only: the confirmed times, status and minutes are the facilitator's.
    assert row.arrived_at is None and row.minutes == 0
    assert row.status == AttendanceStatus.EXPECTED
    assert [e.detail.get("self_sign") for e in _events(row)][-2:] == ["arrived", "left"]
    with pytest.raises(ActionError) as refused:
        gw.attendance_self_sign(actor=world.participant_user, participant=me, code=_code(session))
    assert "code" in refused.value.errors


def test_confirming_a_candidate_goes_through_the_attendance_action(world: World):
    session, rows = _session(world)
    gw.attendance_self_sign(
        actor=world.participant_user, participant=world.participant_a, code=_code(session)
    )
    row = Attendance.objects.get(pk=rows[0].pk)
    assert row.arrival_to_confirm == row.self_arrived_at
    at = row.self_arrived_at.replace(second=0, microsecond=0)
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=at)
    row.refresh_from_db()
    assert row.arrival_to_confirm is None and row.status == AttendanceStatus.PRESENT
    assert row.minutes > 0


def test_a_confirmed_time_is_never_overwritten(world: World):
    session, rows = _session(world)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    gw.attendance_self_sign(
        actor=world.participant_user, participant=world.participant_a, code=_code(session)
    )
    row = Attendance.objects.get(pk=rows[0].pk)
    assert row.arrived_at == session.starts_at
    assert row.arrival_to_confirm == row.self_arrived_at  # shown, differs, not applied


def test_code_works_only_for_that_sessions_roster(world: World):
    session, _ = _session(world)
    outsider, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Rowan")
    with pytest.raises(ActionError) as refused:
        gw.attendance_self_sign(actor=world.clinician_a, participant=outsider, code=_code(session))
    assert "code" in refused.value.errors
    assert not Attendance.objects.filter(participant=outsider).exists()


def test_code_refused_before_it_opens(world: World, settings):
    settings.OPENIOP_ROOM_CODE_EARLY_MINUTES = 30
    start = clock.now().replace(second=0, microsecond=0) + timedelta(hours=2)
    session, _, rows = make_group_session(world, members=1, starts_at=start, minutes=60)
    with pytest.raises(ActionError):
        gw.attendance_self_sign(
            actor=world.participant_user, participant=world.participant_a, code=_code(session)
        )
    assert Attendance.objects.get(pk=rows[0].pk).self_arrived_at is None


def test_wrong_codes_are_audited_and_limited(world: World, settings):
    settings.OPENIOP_ROOM_CODE_MAX_WRONG = 3
    session, rows = _session(world)
    me = world.participant_a
    for _ in range(3):
        with pytest.raises(ActionError):
            gw.attendance_self_sign(actor=world.participant_user, participant=me, code="AAAAAA")
    refused = AuditEvent.objects.filter(participant_external_id=me.external_id, outcome="refused")
    assert refused.count() == 3
    # Now even the right code waits...
    with pytest.raises(ActionError) as waiting:
        gw.attendance_self_sign(actor=world.participant_user, participant=me, code=_code(session))
    assert "Too many" in waiting.value.errors["code"][0]
    # ...for ten minutes.
    with time_machine.travel(clock.now() + timedelta(minutes=11), tick=False):
        gw.attendance_self_sign(actor=world.participant_user, participant=me, code=_code(session))
    assert Attendance.objects.get(pk=rows[0].pk).self_arrived_at is not None


# --- video and place of service ------------------------------------------------------------


def test_video_join_records_a_candidate_and_leave(world: World):
    session, _ = _session(world, modality=Modality.VIRTUAL)
    me = world.participant_a
    row = gw.attendance_video_join(
        actor=world.participant_user, participant=me, session_id=session.external_id
    )
    assert row.self_arrived_at is not None and row.joined_by_video
    left = gw.attendance_video_leave(
        actor=world.participant_user, participant=me, session_id=session.external_id
    )
    assert left.verb == "left"
    assert [e.detail.get("self_sign") for e in _events(row)][-2:] == ["joined", "left"]


def test_video_join_refused_for_in_person_and_others(world: World):
    session, _ = _session(world)
    with pytest.raises(ActionError):
        gw.attendance_video_join(
            actor=world.participant_user,
            participant=world.participant_a,
            session_id=session.external_id,
        )
    virtual, _ = _session(world, modality=Modality.VIRTUAL)
    with pytest.raises(ActionError):
        gw.attendance_video_join(
            actor=world.clinician_b,
            participant=world.participant_b,
            session_id=virtual.external_id,
        )


def test_place_of_service_follows_modality(world: World):
    session, rows = _session(world, modality=Modality.HYBRID)
    row = rows[0]
    assert roomcode.place_of_service(session, row) == "11"
    row.joined_by_video = True
    assert roomcode.place_of_service(session, row) == "10"
    session.modality = Modality.VIRTUAL
    assert roomcode.place_of_service(session) == "10"
    session.modality = Modality.IN_PERSON
    world.program_a.in_person_place_of_service = "22"
    assert roomcode.place_of_service(session) == "22"


def test_video_url_from_template_carries_no_phi(world: World):
    session, _ = _session(world, modality=Modality.VIRTUAL)
    session.program.video_link_template = "https://video.example.org/{room}"
    url = roomcode.video_url(session)
    assert url.startswith("https://video.example.org/")
    assert str(session.external_id) not in url
    assert world.participant_a.legal_last_name not in url


def test_modality_validated_on_create(world: World):
    with pytest.raises(ActionError) as refused:
        gw.session_create(
            actor=world.clinician_a,
            program=world.program_a,
            kind="individual",
            title="One to one",
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(hours=1),
            facilitator=world.clinician_a,
            modality="phone",
        )
    assert "modality" in refused.value.errors


# --- pages: twins --------------------------------------------------------------------------


def _room(world: World, session) -> str:
    return f"/p/{world.program_a.external_id}/sessions/{session.external_id}/room/"


def test_room_screen_shows_code_and_qr_and_twins(world: World, client_for):
    session, _ = _session(world)
    response = client_for(world.clinician_a).get(_room(world, session))
    assert response.status_code == 200
    body = response.content.decode()
    assert _code(session) in body and "data:image/svg+xml" in body
    assert world.participant_a.legal_last_name not in body  # no roster on the room's screen
    assert _events(session)[-1].detail == {"view": "room_screen"}
    assert client_for(world.intake_a).get(_room(world, session)).status_code == 403
    assert client_for(world.billing_a).get(_room(world, session)).status_code == 403
    assert client_for(world.clinician_b).get(_room(world, session)).status_code == 404
    assert client_for(world.participant_user).get(_room(world, session)).status_code in (403, 404)


def test_portal_sign_in_page_never_signs_in_on_get(world: World, client_for):
    session, rows = _session(world)
    client = client_for(world.participant_user)
    response = client.get(f"/me/sign-in/?code={_code(session)}")
    assert response.status_code == 200
    assert _code(session) in response.content.decode()
    assert Attendance.objects.get(pk=rows[0].pk).self_arrived_at is None
    response = client.post("/me/sign-in/", {"code": _code(session)})
    assert response.status_code == 302
    assert Attendance.objects.get(pk=rows[0].pk).self_arrived_at is not None


def test_portal_sign_in_wrong_code_names_the_field(world: World, client_for):
    _session(world)
    response = client_for(world.participant_user).post("/me/sign-in/", {"code": "AAAAAA"})
    assert response.status_code == 422
    assert "code is not right" in response.content.decode()


def test_portal_sign_in_twins(world: World, client_for):
    session, _ = _session(world)
    for user in (world.clinician_a, world.clinician_b):
        response = client_for(user).post("/me/sign-in/", {"code": _code(session)})
        assert response.status_code in (403, 404)
    other_user = make_user(kind=UserKind.PARTICIPANT, first="Rowan")
    outsider, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Rowan")
    outsider.user = other_user
    outsider.save(update_fields=["user"])
    response = client_for(other_user).post("/me/sign-in/", {"code": _code(session)})
    assert response.status_code == 422  # not on the roster: the code is not theirs


def test_portal_video_join_redirects_and_twins(world: World, client_for):
    session, rows = _session(world, modality=Modality.VIRTUAL)
    session.video_link = "https://video.example.org/room-1"
    session.save(update_fields=["video_link"])
    path = f"/me/sessions/{session.external_id}/join-video/"
    assert client_for(world.participant_user).get(path).status_code == 405
    response = client_for(world.participant_user).post(path)
    assert response.status_code == 302 and response["Location"] == session.video_link
    assert Attendance.objects.get(pk=rows[0].pk).joined_by_video
    left = client_for(world.participant_user).post(
        f"/me/sessions/{session.external_id}/left-video/"
    )
    assert left.status_code == 302
    assert Attendance.objects.get(pk=rows[0].pk).self_left_at is not None
    assert client_for(world.clinician_a).post(path).status_code in (403, 404)
    other_user = make_user(kind=UserKind.PARTICIPANT, first="Rowan")
    outsider, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Rowan")
    outsider.user = other_user
    outsider.save(update_fields=["user"])
    response = client_for(other_user).post(path)
    assert response.status_code == 302 and response["Location"] == "/me/sign-in/"
    assert not Attendance.objects.filter(participant=outsider).exists()


def test_runner_prefills_the_self_reported_arrival(world: World, client_for):
    session, rows = _session(world)
    gw.attendance_self_sign(
        actor=world.participant_user, participant=world.participant_a, code=_code(session)
    )
    row = Attendance.objects.get(pk=rows[0].pk)
    assert row.self_arrived_at is not None
    hhmm = clock.local_time(row.self_arrived_at, world.program_a).strftime("%H:%M")
    body = (
        client_for(world.clinician_a)
        .get(f"/p/{world.program_a.external_id}/sessions/{session.external_id}/")
        .content.decode()
    )
    assert f"self sign-in {hhmm}, confirm" in body
    assert f'value="{hhmm}"' in body


def test_runner_confirms_the_stored_instant_not_its_wall_time(world: World, client_for):
    """ "Confirm arrival" sends no time: the stored instant is used, so the repeated hour of a
    fall-back night (two 01:30s) cannot shift it; the usual attendance action records it."""
    session, rows = _session(world)
    gw.attendance_self_sign(
        actor=world.participant_user, participant=world.participant_a, code=_code(session)
    )
    base = f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    path = f"{base}attendance/{rows[0].external_id}/arrive/"
    assert client_for(world.clinician_b).post(path, {"confirm_self": "1"}).status_code == 404
    assert client_for(world.intake_a).post(path, {"confirm_self": "1"}).status_code == 403
    response = client_for(world.clinician_a).post(path, {"confirm_self": "1"})
    assert response.status_code == 200
    row = Attendance.objects.get(pk=rows[0].pk)
    assert row.self_arrived_at is not None
    assert row.arrived_at == row.self_arrived_at.replace(second=0, microsecond=0)
    assert row.status == AttendanceStatus.PRESENT
    assert _events(row)[-1].detail.get("arrived") is True
    leave = client_for(world.clinician_a).post(
        f"{base}attendance/{rows[0].external_id}/depart/", {"confirm_self": "1"}
    )
    assert leave.status_code == 422  # nothing self-reported yet: says so on the row
    assert "no self sign-in time" in leave.content.decode()


def test_a_double_tap_does_not_sign_out(world: World):
    session, rows = _session(world)
    me, who = world.participant_a, world.participant_user
    first = gw.attendance_self_sign(actor=who, participant=me, code=_code(session))
    again = gw.attendance_self_sign(actor=who, participant=me, code=_code(session))
    assert again.verb == "arrived" and again.at == first.at
    assert Attendance.objects.get(pk=rows[0].pk).self_left_at is None


# --- the API -------------------------------------------------------------------------------


def _api_session(world: World, modality: str) -> dict[str, object]:
    start = clock.now().replace(second=0, microsecond=0) + timedelta(days=1)
    return {
        "kind": "individual",
        "title": "One to one",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "facilitator": str(world.clinician_a.external_id),
        "modality": modality,
    }


def test_api_creates_a_virtual_session_with_its_place_of_service(world: World, client_for):
    from openiop.groupwork.tests.test_api import send

    base = f"/api/v1/programs/{world.program_a.external_id}/sessions"
    made = send(client_for(world.clinician_a), "POST", base, _api_session(world, "virtual"))
    assert made.status_code == 201, made.content
    assert made.json()["modality"] == "virtual" and made.json()["place_of_service"] == "10"
    bad = send(client_for(world.clinician_a), "POST", base, _api_session(world, "phone"))
    assert bad.status_code == 422 and "modality" in bad.json()["error"]["fields"]
    other = send(client_for(world.clinician_b), "POST", base, _api_session(world, "virtual"))
    assert other.status_code == 404
