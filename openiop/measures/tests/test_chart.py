"""The trajectory chart's expected-recovery corridor and reliable-change band (issue 7)."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.measures import outcomes
from openiop.measures.chart import trajectories
from openiop.measures.outcomes import ExpectedRecovery, RuleBasedExpectation, fit_expected_recovery
from openiop.measures.tests.helpers import long_stay, store_fit, trajectory
from openiop.measures.tests.test_outcomes import simulate
from openiop.testing import World

pytestmark = pytest.mark.django_db

NON_RESPONDER = [18, 18, 19, 18, 19, 20]  # intake 18, no better by week 5


@pytest.fixture(scope="module")
def fitted() -> ExpectedRecovery:
    return fit_expected_recovery(simulate())


@pytest.fixture
def program_model(monkeypatch, fitted, world: World):
    """The program's history counts as rich enough for the model, and the stored fit (as
    the worker makes it) is one of known data."""
    monkeypatch.setattr(outcomes, "MIN_PARTICIPANTS", 1)
    monkeypatch.setattr(outcomes, "MIN_ASSESSMENTS", 1)
    store_fit(world.program_a, fitted)
    return fitted


def _page(world: World, client_for, person) -> tuple[str, dict]:
    path = f"/p/{world.program_a.external_id}/participants/{person.external_id}/measures/"
    body = client_for(world.clinician_a).get(path).content.decode()
    found = re.search(r'id="measure-phq9-data" type="application/json">(.*?)</script>', body)
    assert found is not None
    return body, json.loads(found.group(1))


def _dataset(spec: dict, label_start: str) -> dict:
    return next(d for d in spec["datasets"] if d["label"].startswith(label_start))


def test_model_corridor_for_a_non_responder(world: World, client_for, program_model):
    person = long_stay(world)
    trajectory(world, person, NON_RESPONDER)
    (t,) = trajectories(person, with_corridor=True)
    assert t.corridor is not None and t.corridor.is_model
    cells = [row.corridor for row in t.rows]
    assert cells[0] is None  # the intake is the covariate, not judged
    for week, (row, cell) in enumerate(zip(t.rows[1:], cells[1:], strict=True), start=1):
        assert cell is not None and cell.lower is not None and cell.upper is not None
        # Whole weeks give or take a daylight-saving hour, exactly as outcomes.py counts.
        assert cell.week == pytest.approx(week, abs=0.01)
        expected, upper = program_model.band(18, cell.week)
        assert cell.expected == round(expected, 1) and cell.upper == round(upper, 1)
        assert cell.lower < cell.expected < cell.upper
        # Each point's flag and on-track limit come from the episode's scores up to it.
        assert cell.limit is not None
        assert cell.not_on_track == (float(row.assessment.total or 0) > cell.limit)
    # Not improving while the program's participants usually do: outside by week 5.
    last = cells[-1]
    assert last is not None and last.not_on_track


def test_chart_draws_the_corridor_and_the_table_lists_it(world: World, client_for, program_model):
    person = long_stay(world)
    trajectory(world, person, NON_RESPONDER)
    body, spec = _page(world, client_for, person)
    scores = spec["datasets"][0]
    assert scores["data"] == [float(s) for s in NON_RESPONDER]
    upper = _dataset(spec, "expected range, upper")
    lower = _dataset(spec, "expected range, lower")
    expected = _dataset(spec, "expected score")
    assert upper["fill"] == "+1" and upper["data"][0] is None
    assert all(
        lo < ex < up
        for lo, ex, up in zip(
            lower["data"][1:], expected["data"][1:], upper["data"][1:], strict=True
        )
    )
    limit = _dataset(spec, "on-track limit")
    # The flagged point is red and above its on-track limit: why the participant is flagged.
    assert scores["pointColors"][-1] == "#b42318" and scores["pointColors"][0] != "#b42318"
    assert scores["data"][-1] > limit["data"][-1]
    # The same numbers in the table beside the chart, week by week.
    assert "Expected: lower" in body and "On-track limit" in body
    (t,) = trajectories(person, with_corridor=True)
    cells = [row.corridor for row in t.rows[1:]]
    assert [c.limit for c in cells if c] == limit["data"][1:]
    for c in cells:
        assert c is not None and c.limit_text.startswith("≤ ")
        row = f"<td>{c.lower:.1f}</td><td>{c.expected:.1f}</td><td>{c.upper:.1f}</td>"
        assert f"{row}<td>{c.limit_text}</td>" in body
    assert '<span class="badge alert">not on track</span>' in body
    assert "<script>" not in body


def test_thin_history_draws_the_rules_line_and_the_on_track_limit(world: World, client_for):
    person = long_stay(world)
    trajectory(world, person, [16, 16, 16, 16, 16])  # no better at all
    body, spec = _page(world, client_for, person)
    limit = _dataset(spec, "on-track limit")
    expected = _dataset(spec, "expected score")
    # Week 1: only a reliable deterioration (16 + 6) would flag; from week 2 the trend's limit,
    # which falls as the flat scores pile up (each must drop further to bend the line).
    assert limit["data"][:2] == [None, 22.0]
    assert limit["data"][2] > limit["data"][3] > limit["data"][4]
    assert expected["data"] == [None, 15.2, 14.4, 13.6, 12.8]  # the rule's 20 %-by-week-4 line
    assert not any(d.get("fill") for d in spec["datasets"])  # no range without history
    assert spec["datasets"][0]["pointColors"] == ["#0b5cad", "#0b5cad", *["#b42318"] * 3]
    assert "rule-based: thin history" in body and "Too little program history" in body


def test_reliable_change_band_around_intake(world: World, client_for):
    person = long_stay(world)
    trajectory(world, person, [15, 12, 8])
    _, spec = _page(world, client_for, person)
    lines = {r["label"]: r["value"] for r in spec["references"]}
    assert lines["reliable improvement from intake (9)"] == 9.0
    assert lines["reliable deterioration from intake (21)"] == 21.0


def test_corridor_costs_two_queries_however_large_the_history(world: World, program_model, fitted):
    person = long_stay(world)
    trajectory(world, person, NON_RESPONDER)
    store_fit(world.program_a, fitted)  # current for this history

    def count(with_corridor: bool) -> int:
        with CaptureQueriesContext(connection) as ctx:
            trajectories(person, with_corridor=with_corridor)
        return len(ctx.captured_queries)

    assert count(True) == count(False) + 2  # the history's stamp and the stored fit
    for i in range(3):
        trajectory(world, long_stay(world, last=f"More{i}"), [14] * 8)
    store_fit(world.program_a, fitted)
    assert count(True) == count(False) + 2


def test_rule_limit_is_the_edge_it_judges_by():
    rule = RuleBasedExpectation()
    for week in (1, 2, 3, 4, 6):
        limit = rule.limit(16, week)
        assert limit is not None
        at_limit_flagged = week < 4  # the rule's ">=" through week 3, ">" from week 4
        assert rule.judge(intake=16, week=week, score=limit).not_on_track == at_limit_flagged
        assert rule.judge(intake=16, week=week, score=limit + 0.5).not_on_track
        assert not rule.judge(intake=16, week=week, score=limit - 0.5).not_on_track
    assert not rule.judge(intake=15, week=4, score=12).not_on_track  # exactly 20 % better
    (point,) = rule.corridor(intake=16, weeks=[4])
    assert (point.lower, point.expected, point.upper) == (None, 12.8, None)


def test_model_corridor_upper_edge_is_the_flag_edge(fitted: ExpectedRecovery):
    points = fitted.corridor(intake=18, weeks=[1, 4.5], percentile=80)
    for point in points:
        mean, edge = fitted.band(18, point.week, 80)
        assert point.expected == pytest.approx(mean) and point.upper == pytest.approx(edge)
        assert point.lower is not None
        assert point.expected - point.lower == pytest.approx(edge - mean)
