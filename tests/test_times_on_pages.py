"""Every time on a page is on the program's clock, labelled with its zone (issue 18 item 4).

A check-in made on Thursday at 23:09 in New York showed in the chart as "Fri 4 Dec 04:09"
(UTC), the autosave status showed UTC while signatures showed local time, and some pages put
"UTC" after a time that was in fact local. Each page now goes through `program_time`.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone

from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.portal import actions as portal_actions
from openiop.testing import build_world, make_group_session

pytestmark = pytest.mark.django_db

# Thursday 3 December 2026, 23:09 in New York (EST) is Friday 04:09 UTC.
INSTANT = "2026-12-04T04:09:00+00:00"
SHORT, ISO = "Thu 3 Dec 23:09 EST", "2026-12-03 23:09 EST"


def _text(response) -> str:
    return response.content.decode()


def test_chart_autosave_and_signature_show_program_time_with_its_zone(client_for):
    moment = datetime.fromisoformat(INSTANT)
    with time_machine.travel(moment, tick=False):
        world = build_world()
        program, participant = world.program_a, world.participant_a
        assert program.time_zone == "America/New_York"
        portal_actions.checkin_submit(
            actor=world.participant_user,
            participant=participant,
            data=portal_actions.CheckInInput(
                kind="daily",
                mood=6,
                craving=3,
                used_since_last=False,
                sleep_hours=7,
                medication="taken",
                safety_concern=False,
            ),
        )
        session, people, rows = make_group_session(world, members=1, starts_at=moment)
        gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
        gw.practice_record_save(
            actor=world.clinician_a,
            session=session,
            participant=people[0],
            skill="Thought record",
            role_taken="person practising",
            rating=4,
            feedback_themes=["clear request"],
        )
        note = gw.note_draft(
            actor=world.clinician_a,
            session=session,
            attendance=rows[0].__class__.objects.get(pk=rows[0].pk),
        )
        note = gw.note_sign(actor=world.clinician_a, note=note)
        clinician = client_for(world.clinician_a)
        p = f"/p/{program.external_id}/"
        autosave = clinician.post(
            f"{p}sessions/{session.external_id}/shared/", {"shared_topic": "Coping with cues"}
        )
        chart = clinician.get(f"{p}participants/{participant.external_id}/")
        detail = clinician.get(
            f"{p}participants/{participant.external_id}/notes/{note.external_id}/"
        )
        runner = clinician.get(f"{p}sessions/{session.external_id}/")
        checkins = clinician.get(f"{p}participants/{participant.external_id}/between-sessions/")

    assert autosave.status_code == 200
    assert "Saved 23:09:00 EST" in _text(autosave)
    assert f"Last check-in {SHORT}" in _text(chart)
    assert f"at {ISO}" in _text(detail)  # the signature
    assert " UTC" not in _text(detail)
    assert f"Signed {ISO}" in _text(runner)
    assert f'<th scope="row">{SHORT}</th>' in _text(checkins)


def test_the_filter_labels_times_and_follows_the_active_zone():
    moment = datetime.fromisoformat("2026-12-04T04:09:41+00:00")
    template = Template(
        "{% load program_time %}{{ m|program_time }}|{{ m|program_time:'seconds' }}|"
        "{{ m|program_time:'date' }}|{{ none|program_time }}"
    )
    with timezone.override(clock.zone_named("America/New_York")):
        assert template.render(Context({"m": moment, "none": None})) == (
            "Thu 3 Dec 23:09 EST|23:09:41 EST|2026-12-03|"
        )
        summer = datetime.fromisoformat("2027-06-10T03:09:00+00:00")
        assert template.render(Context({"m": summer})).startswith("Wed 9 Jun 23:09 EDT|")
    # With no program's zone active the label says UTC, so the time cannot be mistaken.
    assert template.render(Context({"m": moment})).startswith("Fri 4 Dec 04:09 UTC|")


def test_the_repeated_hour_of_a_fall_back_night_is_labelled():
    """01:31 happens twice on 7 November 2027 in New York; the label tells them apart (Django's
    own `T` is empty for an ambiguous time)."""
    template = Template("{% load program_time %}{{ m|program_time:'time' }}")
    with timezone.override(clock.zone_named("America/New_York")):
        first = datetime.fromisoformat("2027-11-07T05:31:00+00:00")
        second = datetime.fromisoformat("2027-11-07T06:31:00+00:00")
        assert template.render(Context({"m": first})) == "01:31 EDT"
        assert template.render(Context({"m": second})) == "01:31 EST"
