"""Expected recovery and not-on-track for GAD-7 and CORE-10 as well as PHQ-9 (issue 16 item 3):
the same judgement per instrument, in the runner's flags, the chart header and the chart."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from openiop.measures import outcomes
from openiop.measures.actions import assessment_record
from openiop.measures.alerts import chart_outcome_alerts
from openiop.measures.growth import not_on_track_flags
from openiop.measures.instruments import DISABLE_NONCOMMERCIAL_ENV
from openiop.measures.tests.helpers import long_stay, on_day, phq9, store_fit
from openiop.measures.tests.test_outcomes import simulate
from openiop.testing import World

pytestmark = pytest.mark.django_db


def gad7(total: int) -> list[int]:
    answers = [min(3, max(0, total - 3 * i)) for i in range(7)]
    assert sum(answers) == total
    return answers


def core10(total: int) -> list[int]:
    """CORE-10 codes for `total`: items 2 and 3 are reverse-scored (4 scores 0) and item 6, the
    risk item, stays 0 so no safety event is raised."""
    free = [0, 3, 4, 6, 7, 8, 9]  # item indexes that count as given
    answers = [0, 4, 4, 0, 0, 0, 0, 0, 0, 0]
    remaining = total
    for index in free:
        answers[index] = min(4, remaining)
        remaining -= answers[index]
    assert remaining == 0
    return answers


ANSWERS = {"phq9": phq9, "gad7": gad7, "core10": core10}


def course(world: World, instrument: str, totals: Sequence[int], last: str):
    person = long_stay(world, weeks=len(totals), last=last)
    start = person.enrollments.get().admitted_on
    for week, total in enumerate(totals):
        assessment_record(
            actor=world.clinician_a,
            participant=person,
            instrument=instrument,
            answers=ANSWERS[instrument](total),
            administered_at=on_day(world, start + timedelta(weeks=week)),
        )
    return person


def test_gad7_and_core10_are_judged_like_phq9(world: World):
    stuck_gad = course(world, "gad7", [14, 14, 15, 14, 14], "Gadstuck")
    better_gad = course(world, "gad7", [14, 11, 8, 6, 5], "Gadbetter")
    stuck_core = course(world, "core10", [22, 23, 22, 24, 23], "Corestuck")
    flags = not_on_track_flags(
        program=world.program_a, participant_ids=[stuck_gad.pk, better_gad.pk, stuck_core.pk]
    )
    assert set(flags) == {stuck_gad.pk, stuck_core.pk}
    assert flags[stuck_gad.pk] == [
        "GAD-7 not on track (week 4: 14, on track ≤ 11; trend under 12% better than intake by "
        "week 4)"
    ]
    assert flags[stuck_core.pk][0].startswith("CORE-10 not on track (week 4: 23, on track ≤ ")
    # The chart header says the same.
    assert [a.text for a in chart_outcome_alerts(participant=stuck_gad)] == flags[stuck_gad.pk]


def test_one_person_can_be_off_track_on_two_instruments(world: World):
    person = course(world, "phq9", [16, 16, 17, 16, 17], "Twice")
    start = person.enrollments.get().admitted_on
    for week, total in enumerate([12, 13, 12, 12, 13]):
        assessment_record(
            actor=world.clinician_a,
            participant=person,
            instrument="gad7",
            answers=gad7(total),
            administered_at=on_day(world, start + timedelta(weeks=week, days=1)),
        )
    texts = not_on_track_flags(program=world.program_a, participant_ids=[person.pk])[person.pk]
    assert [t.split(" not on track")[0] for t in texts] == ["PHQ-9", "GAD-7"]
    assert len(chart_outcome_alerts(participant=person)) == 2


def test_core10_is_not_tracked_where_its_licence_is_switched_off(world: World, monkeypatch):
    stuck = course(world, "core10", [22, 23, 22, 24, 23], "Corestuck")
    monkeypatch.setenv(DISABLE_NONCOMMERCIAL_ENV, "1")
    assert outcomes.tracked_instruments() == ["phq9", "gad7"]
    assert not_on_track_flags(program=world.program_a, participant_ids=[stuck.pk]) == {}


def test_flags_for_every_instrument_cost_three_queries_with_stored_fits(world: World):
    people = [course(world, code, [14, 14, 14, 15, 15], f"Q{code}") for code in ANSWERS]
    fitted = outcomes.fit_expected_recovery(simulate())
    for code in ANSWERS:
        store_fit(world.program_a, fitted, instrument=code)
    with CaptureQueriesContext(connection) as ctx:
        flags = not_on_track_flags(program=world.program_a, participant_ids=[p.pk for p in people])
    # The histories' stamps, the stored fits, these participants' rows: one query each.
    assert len(ctx.captured_queries) == 3
    assert set(flags) == {p.pk for p in people}


def test_a_new_gad7_score_queues_a_refit_once_the_history_is_rich(
    world: World, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outcomes, "MIN_PARTICIPANTS", 1)
    monkeypatch.setattr(outcomes, "MIN_ASSESSMENTS", 1)
    with django_capture_on_commit_callbacks(execute=True):
        course(world, "gad7", [14, 12], "Refit")
    queued = [
        r.args_kwargs["args"]
        for r in DBTaskResult.objects.filter(task_path__endswith="growth_refit")
    ]
    assert [world.program_a.pk, "gad7"] in queued


def test_the_chart_draws_a_gad7_corridor(world: World, client_for):
    person = course(world, "gad7", [14, 14, 15, 14, 14], "Gadchart")
    path = f"/p/{world.program_a.external_id}/participants/{person.external_id}/measures/"
    body = client_for(world.clinician_a).get(path).content.decode()
    found = re.search(r'id="measure-gad7-data" type="application/json">(.*?)</script>', body)
    assert found is not None
    spec = json.loads(found.group(1))
    limit = next(d for d in spec["datasets"] if d["label"] == "on-track limit")
    # Week 1: a reliable deterioration (14 + 4) would flag; from week 2 the trend's limit.
    assert limit["data"][:2] == [None, 18.0] and all(v < 14 for v in limit["data"][2:])
    assert spec["datasets"][0]["pointColors"][-1] == "#b42318"
    assert '<span class="badge alert">not on track</span>' in body
