"""Planner reasons on a page name a group as people know it (day, time, track) and a clinician
by name; the stored run keeps the planner's ids (the `openiop plan-week` contract)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest

from openiop.core import clock
from openiop.core.clock import program_today
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import iso_week_start
from openiop.scheduling import actions
from openiop.scheduling.models import PlanRunKind
from openiop.scheduling.selectors import compare, group_label, readable, run_names
from openiop.testing import World, admit

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _visible_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_group_label_reads_like_a_timetable():
    assert group_label(1, "09:00", "AM") == "Tue 9:00 AM-track group"
    assert group_label(3, "18:30", "PM") == "Thu 18:30 PM-track group"
    assert readable("x 0f8fad5b-d9cb-469f-a165-70867728950e y", {}) == "x another session y"


def test_full_group_is_named_by_day_time_and_track(world: World, client_for):
    """Monday to Wednesday groups with a single place each, and two people who need them: the
    one left out is told they are full, naming each as e.g. "Tue 9:00 AM-track group"."""
    week = iso_week_start(program_today(world.program_a)) + timedelta(weeks=1)
    groups = []
    for day in range(3):
        starts = datetime.combine(
            week + timedelta(days=day), time(9, 0), tzinfo=clock.zone(world.program_a)
        )
        groups.append(
            gw.session_create(
                actor=world.director_a,
                program=world.program_a,
                kind="group",
                title="Morning group",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                facilitator=world.clinician_a,
                track=world.track_a,
                plan_code="cbt-01",
                capacity=1,
            )
        )
    group = groups[1]
    other, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Ola", last="Fullby")
    for person in (world.participant_a, other):
        actions.availability_set(
            actor=world.director_a,
            participant=person,
            windows=[(day, time(8, 30), time(13, 0), "") for day in range(3)],
        )
    run = actions.plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=week,
        kind=PlanRunKind.WEEK,
        time_limit=5,
    )
    stored = [r for p in run.output_doc["participants"] for r in p["reasons"]]
    assert any(str(group.external_id) in r for r in stored), stored  # machine output keeps ids
    assert run_names(run)[str(group.external_id)] == "Tue 9:00 AM-track group"
    shown = [r for c in compare(run) for r in c.reasons]
    assert any(
        "are full (Mon 9:00 AM-track group, Tue 9:00 AM-track group, Wed 9:00 AM-track group)" in r
        for r in shown
    ), shown
    assert not any(UUID.search(r) for r in shown)
    page = client_for(world.director_a).get(
        f"/p/{world.program_a.external_id}/planner/runs/{run.external_id}/"
    )
    text = _visible_text(page.content.decode())
    assert "Tue 9:00 AM-track group" in text and not UUID.search(text)
