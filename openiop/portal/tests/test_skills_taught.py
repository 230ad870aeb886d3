"""Issue 18 item 11: 'Skills you used' (check-in and diary card) lists only the skills taught
so far in sessions the participant attended, can be searched, and never offers a thinking
error (cognitive distortions are taught to be noticed, not used)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from openiop.core import clock
from openiop.curriculum.library import THINKING_ERRORS, library
from openiop.groupwork import actions as gw
from openiop.portal.actions import all_skills, skills_taught
from openiop.portal.selectors import today_for
from openiop.testing import World, make_group_session, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(world: World, client_for):
    return client_for(world.participant_user)


def _attend(world: World, plan_code: str, hour: int) -> None:
    start = clock.at_local(
        today(world.program_a) - timedelta(days=1), time(hour, 0), world.program_a
    )
    _, _, rows = make_group_session(
        world, members=1, plan_code=plan_code, starts_at=start, minutes=60
    )
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=start)


def test_no_thinking_error_is_a_skill():
    skills = {s.lower() for s in all_skills()}
    assert not skills & THINKING_ERRORS
    assert "mental filter" in {s.lower() for s in library().plan("cbt-04").skills}
    assert library().practice_skills("cbt-04") == ()


def test_the_list_is_what_this_participant_was_taught(world: World, me):
    # The world's past group (participant A present) was on cbt-02.
    taught = skills_taught(world.participant_a)
    assert set(taught) == set(library().practice_skills(world.session_a.plan_code))
    _attend(world, "cbt-04", 14)  # thinking errors only
    _attend(world, "comm-02", 16)
    taught = skills_taught(world.participant_a)
    assert taught[0] == "refusal skills", "the latest session's skills first"
    assert not {s.lower() for s in taught} & THINKING_ERRORS
    page = me.get("/me/check-in/").content.decode()
    assert "refusal skills" in page and "seven-column thought record" in page
    assert "mental filter" not in page and "TIPP" not in page
    diary = me.get(f"/me/diary/{today_for(world.participant_a).isoformat()}/").content.decode()
    assert "refusal skills" in diary and "mental filter" not in diary


def test_a_participant_taught_nothing_yet_is_told_so(world: World, me):
    from openiop.groupwork.models import Attendance

    Attendance.objects.filter(participant=world.participant_a).update(status="absent")
    page = me.get("/me/check-in/").content.decode()
    assert "Skills appear here once they have been taught in a group you attended." in page


def test_a_long_list_is_searchable(world: World, me):
    for n, code in enumerate(["cbt-03", "cbt-07", "comm-01", "comm-03"]):
        _attend(world, code, 11 + 2 * n)
    page = me.get("/me/check-in/").content.decode()
    assert "data-filter-checks=" in page and "Find a skill" in page


def test_a_thinking_error_is_refused_as_a_skill(world: World, me):
    import uuid

    response = me.post(
        "/me/check-in/",
        {
            "idempotency_key": uuid.uuid4().hex,
            "kind": "daily",
            "mood": "6",
            "craving": "3",
            "used_since_last": "no",
            "sleep_hours": "7",
            "medication": "taken",
            "safety_concern": "no",
            "skills_used": ["mental filter"],
        },
    )
    assert response.status_code == 422
