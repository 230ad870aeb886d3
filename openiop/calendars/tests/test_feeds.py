"""The public .ics feeds: content, privacy, revocation, audit and query counts."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.accounts.models import Membership
from openiop.audit.models import AuditEvent
from openiop.calendars.actions import (
    feed_create_for_clinician,
    feed_create_for_participant,
    feed_revoke,
)
from openiop.calendars.models import FeedToken
from openiop.calendars.tests.helpers import events, fetch, session, uids
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Attendance, Session, SessionStatus
from openiop.participants.models import Participant
from openiop.testing import World, admit, make_group_session

pytestmark = pytest.mark.django_db


def _participant_secret(world: World) -> str:
    _, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    return secret


def _clinician_secret(world: World, user=None) -> str:
    user = user or world.clinician_a
    _, secret = feed_create_for_clinician(actor=user, user=user, program=world.program_a)
    return secret


def _identifiers(person: Participant) -> list[str]:
    values = [person.legal_first_name, person.legal_last_name, person.record_number]
    return [v for v in [*values, person.preferred_name] if v]


def _give_preferred_names(people: list[Participant]) -> None:
    for n, person in enumerate(people):
        Participant.objects.filter(pk=person.pk).update(preferred_name=f"Nicknamo{n}")
        person.refresh_from_db()


# --- Participant feed ---------------------------------------------------------------------


def test_participant_feed_lists_only_their_sessions_with_times_and_uids(world: World):
    now = timezone.now()
    group, _, _ = make_group_session(world, members=2, starts_at=now + timedelta(days=2))
    video = session(
        world,
        starts_at=now + timedelta(days=3),
        room="",
        video_link="https://video.example.org/r/42",
        participants=[world.participant_a],
    )
    removed = session(world, starts_at=now + timedelta(days=4), participants=[world.participant_a])
    gw.attendance_remove(
        actor=world.clinician_a, attendance=Attendance.objects.get(session=removed)
    )
    other, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Oth", last="Er")
    session(world, starts_at=now + timedelta(days=5), participants=[other])
    session(world, starts_at=now + timedelta(days=91), participants=[world.participant_a])

    response = fetch(_participant_secret(world))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    expected = {world.session_a, group, video}
    assert uids(response.content) == {f"{s.external_id}@openiop" for s in expected}
    by_uid = {str(e["UID"]): e for e in events(response.content)}
    for s in expected:
        event = by_uid[f"{s.external_id}@openiop"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == s.starts_at and end == s.ends_at
        assert start.utcoffset() == timedelta(0) and start.tzinfo is not None
        assert str(event["SUMMARY"]) == s.title
        assert str(event["STATUS"]) == "CONFIRMED"
        assert "URL" not in event  # the OpenIOP link is for clinicians only
    assert "LOCATION" not in by_uid[f"{group.external_id}@openiop"]  # no room, no video
    assert str(by_uid[f"{video.external_id}@openiop"]["LOCATION"]) == video.video_link
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content  # UTC form
    cal_headers = response.content.split(b"BEGIN:VEVENT")[0]
    assert b"X-WR-CALNAME:Program A: my sessions" in cal_headers
    assert b"PRODID:-//OpenIOP//Calendar feeds//EN" in cal_headers


def test_participant_feed_names_no_other_participant(world: World):
    group, people, _ = make_group_session(
        world, members=3, starts_at=timezone.now() + timedelta(days=1)
    )
    others = people[1:]
    _give_preferred_names(others)
    # The session really is in the feed, so the absence below is meaningful.
    content = fetch(_participant_secret(world)).content
    assert f"{group.external_id}@openiop".encode() in content
    assert b"Skills group" in content
    for person in others:
        for value in _identifiers(person):
            assert value.lower().encode() not in content.lower(), value


def test_cancelled_session_is_marked_cancelled(world: World):
    Session.objects.filter(pk=world.session_a.pk).update(status=SessionStatus.CANCELLED)
    (event,) = events(fetch(_participant_secret(world)).content)
    assert str(event["STATUS"]) == "CANCELLED"


# --- Clinician feed -----------------------------------------------------------------------


def test_clinician_feed_shows_roster_size_and_link_but_no_names(world: World):
    now = timezone.now()
    group, people, rows = make_group_session(world, members=3, starts_at=now + timedelta(days=1))
    gw.attendance_remove(actor=world.clinician_a, attendance=rows[2])
    _give_preferred_names(people)
    one_to_one = session(
        world,
        starts_at=now + timedelta(days=2),
        title=f"1:1 {world.participant_a.legal_first_name} {world.participant_a.legal_last_name}",
        participants=[world.participant_a],
    )
    Session.objects.filter(pk=one_to_one.pk).update(status=SessionStatus.CANCELLED)

    response = fetch(_clinician_secret(world))

    assert response.status_code == 200
    content = response.content
    by_uid = {str(e["UID"]): e for e in events(content)}
    assert set(by_uid) == {f"{s.external_id}@openiop" for s in (world.session_a, group, one_to_one)}
    group_event = by_uid[f"{group.external_id}@openiop"]
    assert str(group_event["SUMMARY"]) == "Skills group"
    assert "LOCATION" not in group_event  # make_group_session sets no room
    assert "2 on the roster" in str(group_event["DESCRIPTION"])
    assert "Group" in str(group_event["DESCRIPTION"])
    url = str(group_event["URL"])
    assert url.endswith(f"/p/{world.program_a.external_id}/sessions/{group.external_id}/")
    individual = by_uid[f"{one_to_one.external_id}@openiop"]
    assert str(individual["SUMMARY"]) == "Individual session"
    assert str(individual["STATUS"]) == "CANCELLED"
    assert str(individual["LOCATION"]) == "Room 2"
    assert b"X-WR-CALNAME:Program A: sessions I run" in content
    for person in Participant.objects.filter(program=world.program_a):
        for value in _identifiers(person):
            assert value.lower().encode() not in content.lower(), value


def test_co_facilitator_sees_the_session_and_others_do_not(world: World):
    shared = session(
        world,
        kind="group",
        title="Evening group",
        starts_at=timezone.now() + timedelta(days=1),
        co_facilitator=world.supervisor_a,
    )
    assert uids(fetch(_clinician_secret(world, world.supervisor_a)).content) == {
        f"{shared.external_id}@openiop"
    }
    assert uids(fetch(_clinician_secret(world, world.director_a)).content) == set()


def test_feed_window_is_14_days_back_to_90_days_ahead(world: World):
    now = timezone.now()
    made = {
        offset: session(world, starts_at=now + timedelta(days=offset), title=f"d{offset}")
        for offset in (-15, -13, 89, 91)
    }
    got = uids(fetch(_clinician_secret(world)).content)
    assert f"{made[-13].external_id}@openiop" in got
    assert f"{made[89].external_id}@openiop" in got
    assert f"{made[-15].external_id}@openiop" not in got
    assert f"{made[91].external_id}@openiop" not in got


def test_feed_queries_do_not_grow_with_events(world: World):
    secret = _clinician_secret(world)
    participant_secret = _participant_secret(world)

    def count(key: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert fetch(key).status_code == 200
        return len(ctx.captured_queries)

    few, few_p = count(secret), count(participant_secret)
    for day in range(1, 6):
        make_group_session(world, members=2, starts_at=timezone.now() + timedelta(days=day))
    assert len(events(fetch(secret).content)) == 6
    assert count(secret) == few
    assert count(participant_secret) == few_p


def test_clinician_feed_stops_when_they_leave_the_program(world: World):
    secret = _clinician_secret(world)
    Membership.objects.filter(user=world.clinician_a).update(is_active=False)
    assert fetch(secret).status_code == 404


# --- Tokens: revocation, storage, audit ---------------------------------------------------


def test_revoked_and_unknown_tokens_get_identical_404s(world: World):
    token, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    assert fetch(secret).status_code == 200
    feed_revoke(actor=world.clinician_a, token=token)
    revoked = fetch(secret)
    unknown = fetch("not-a-real-token-" + "x" * 30)
    too_long = fetch("y" * 500)
    assert revoked.status_code == unknown.status_code == too_long.status_code == 404
    assert revoked.content == unknown.content == too_long.content
    for header in ("Content-Type", "Cache-Control"):
        assert revoked[header] == unknown[header] == too_long[header]


def test_recreating_revokes_the_previous_feed(world: World):
    old_token, old = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    new_token, new = feed_create_for_participant(
        actor=world.intake_a, participant=world.participant_a
    )
    old_token.refresh_from_db()
    assert old_token.revoked_at is not None and new_token.revoked_at is None
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    live = FeedToken.objects.filter(participant=world.participant_a, revoked_at__isnull=True)
    assert list(live) == [new_token]
    _, mine_old = feed_create_for_clinician(
        actor=world.clinician_a, user=world.clinician_a, program=world.program_a
    )
    _clinician_secret(world)
    assert fetch(mine_old).status_code == 404


def test_secret_is_never_stored_in_clear(world: World):
    token, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    fetch(secret)
    row = FeedToken.objects.filter(pk=token.pk).values_list().get()
    assert secret not in repr(row)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(list(AuditEvent.objects.values_list()))
    assert secret not in str(token) and secret not in repr(token)


def test_fetch_writes_an_export_event_without_the_secret(world: World, caplog):
    caplog.set_level(logging.DEBUG)
    token, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    created = AuditEvent.objects.get(action="create", object_id=str(token.external_id))
    assert created.actor_id == world.clinician_a.pk
    assert created.participant_external_id == world.participant_a.external_id
    fetch(secret)
    event = AuditEvent.objects.get(action="export", object_id=str(token.external_id))
    assert event.actor_id is None
    assert event.object_type == "calendars.feedtoken"
    assert event.participant_external_id == world.participant_a.external_id
    assert event.program_external_id == world.program_a.external_id
    assert event.detail == {"feed": "participant"}
    token.refresh_from_db()
    assert token.last_used_at == timezone.now()

    clinician_secret = _clinician_secret(world)
    fetch(clinician_secret)
    clinician_event = AuditEvent.objects.filter(action="export").order_by("-seq").first()
    assert clinician_event is not None
    assert clinician_event.participant_external_id is None
    assert clinician_event.detail == {"feed": "clinician"}

    feed_revoke(actor=world.clinician_a, token=token)
    before = AuditEvent.objects.count()
    assert fetch(secret).status_code == 404
    assert AuditEvent.objects.count() == before  # nothing was exported
    for value in (secret, clinician_secret):
        assert value not in repr(list(AuditEvent.objects.values_list()))
        assert value not in caplog.text
        assert all(value not in repr(r.args) for r in caplog.records)


def test_a_token_has_exactly_one_owner(world: World):
    for owners in ({}, {"participant": world.participant_a, "user": world.clinician_a}):
        with pytest.raises(IntegrityError), transaction.atomic():
            FeedToken.objects.create(program=world.program_a, token_hash="0" * 64, **owners)


def test_feed_times_are_utc_whatever_the_program_zone(world: World):
    content = fetch(_participant_secret(world)).content
    (event,) = events(content)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    start = world.session_a.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}".encode() in content
