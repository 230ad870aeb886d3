"""Expected recovery curves and not-on-track alerts (clinical.md section 5)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.core.clock import program_today
from openiop.measures import outcomes
from openiop.measures.actions import assessment_mark_entered_in_error, assessment_record
from openiop.measures.growth import not_on_track_ids
from openiop.measures.outcomes import (
    ExpectedRecovery,
    RuleBasedExpectation,
    expectation_for,
    fit_expected_recovery,
)
from openiop.measures.tests.helpers import long_stay, on_day, phq9
from openiop.testing import World

TRUE_FE = np.array([1.0, 1.0, 0.95, -0.25])  # b0, b1 log(w+1), b2 intake, b3 interaction
TRUE_SD_U0, TRUE_SD_U1, TRUE_SIGMA = 1.5, 1.0, 2.0


def simulate(n: int = 150, weeks: int = 9, seed: int = 7) -> pd.DataFrame:
    """Data drawn from the model itself, so its parameters are known."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(n):
        intake = float(rng.integers(10, 25))
        u0, u1 = rng.normal(0, TRUE_SD_U0), rng.normal(0, TRUE_SD_U1)
        rows.append((pid, 0.0, intake, intake))
        for w in range(1, weeks):
            lw = np.log1p(w)
            mean = TRUE_FE @ [1, lw, intake, lw * intake] + u0 + u1 * lw
            rows.append((pid, float(w), mean + rng.normal(0, TRUE_SIGMA), intake))
    return pd.DataFrame(rows, columns=["participant", "week", "score", "intake"])


@pytest.fixture(scope="module")
def fitted() -> ExpectedRecovery:
    return fit_expected_recovery(simulate())


def test_model_recovers_known_parameters(fitted: ExpectedRecovery):
    assert fitted.random_slope and fitted.converged
    # Within 3 standard errors of the truth, and the well-determined terms close in absolute terms.
    se = np.sqrt(np.diag(fitted.cov_fe))
    assert np.all(np.abs(fitted.fe - TRUE_FE) < 3 * se)
    assert abs(fitted.fe[2] - 0.95) < 0.15 and abs(fitted.fe[3] + 0.25) < 0.1
    assert abs(np.sqrt(fitted.scale) - TRUE_SIGMA) < 0.2
    sd_re = np.sqrt(np.diag(fitted.cov_re))
    assert abs(sd_re[0] - TRUE_SD_U0) < 0.8 and abs(sd_re[1] - TRUE_SD_U1) < 0.5
    assert fitted.n_participants == 150 and fitted.n_observations == 150 * 8


def test_band_widens_with_percentile_and_combines_variances(fitted: ExpectedRecovery):
    mean, edge80 = fitted.band(18, 4, 80)
    _, edge90 = fitted.band(18, 4, 90)
    assert mean < edge80 < edge90
    lw = np.log1p(4)
    # Predictive SD covers at least the random-effect and residual variance at that week.
    floor = np.sqrt([1, lw] @ fitted.cov_re @ [1, lw] + fitted.scale)
    assert fitted.predictive_sd(18, 4) >= floor
    assert (edge90 - mean) == pytest.approx(1.2815516 * fitted.predictive_sd(18, 4))


def test_non_responder_flagged_responder_not(fitted: ExpectedRecovery):
    expected = fitted.expected(18, 4)  # true value ~ 1 + 1.61 + 17.1 - 7.24 ~ 12.5
    assert 11 < expected < 14
    stuck = fitted.judge(intake=18, week=4, score=19)
    better = fitted.judge(intake=18, week=4, score=9)
    assert stuck.not_on_track and stuck.method == "model"
    assert not better.not_on_track
    text = stuck.flag_text("PHQ-9")
    assert text.startswith("PHQ-9 not on track (week 4: 19, on track ≤ ")


def test_random_intercept_fallback_when_slope_fit_fails(monkeypatch):
    real = outcomes._fit

    def failing(data, re_formula):
        if re_formula != "1":
            raise np.linalg.LinAlgError("singular")
        return real(data, re_formula)

    monkeypatch.setattr(outcomes, "_fit", failing)
    model = fit_expected_recovery(simulate(n=40, weeks=5))
    assert not model.random_slope and model.cov_re.shape == (1, 1)
    assert model.judge(intake=18, week=3, score=25).not_on_track


def test_thin_history_uses_the_rule_and_says_so():
    thin = simulate(n=10, weeks=5)
    rule = expectation_for(thin)
    assert isinstance(rule, RuleBasedExpectation) and rule.threshold == 6
    flat = rule.judge(intake=16, week=3, score=16)
    assert flat.not_on_track and flat.method == "rule-based: thin history"
    assert rule.judge(intake=16, week=1, score=22).not_on_track  # reliable deterioration
    assert rule.judge(intake=16, week=3, score=16).method == "rule-based: thin history"
    assert not rule.judge(intake=16, week=1, score=17).not_on_track
    assert rule.judge(intake=20, week=4, score=17).not_on_track  # only 15 % better
    assert not rule.judge(intake=20, week=4, score=15).not_on_track
    assert not rule.judge(intake=16, week=0, score=16).not_on_track


def test_floor_scores_are_never_not_on_track():
    # PHQ-9 intake 0 and still 0 at weeks 3 and 6: nothing left to improve, so not "no better
    # than intake". The rule still flags a real lack of change above the floor.
    rule = expectation_for(simulate(n=10, weeks=5), instrument="phq9")
    for week in (3, 4, 6):
        assert not rule.judge(intake=0, week=week, score=0).not_on_track, week
    assert rule.judge(intake=1, week=4, score=1).not_on_track
    # WHO-5 is higher-is-better: its floor is the ceiling, 100.
    who5 = outcomes.rule_for("who5")
    assert not who5.judge(intake=100, week=4, score=100).not_on_track
    assert who5.judge(intake=60, week=4, score=60).not_on_track
    # The model path honours the same floor even if its band would dip below it.
    model = ExpectedRecovery(
        fe=np.array([-3.0, 0.0, 0.0, 0.0]),
        cov_fe=np.zeros((4, 4)),
        cov_re=np.zeros((1, 1)),
        scale=0.01,
        random_slope=False,
        higher_is_better=False,
        n_participants=30,
        n_observations=200,
        converged=True,
        best=0.0,
    )
    assert not model.judge(intake=0, week=4, score=0).not_on_track
    assert model.judge(intake=0, week=4, score=1).not_on_track


@pytest.mark.django_db
def test_floor_course_is_not_flagged_from_the_database(world: World):
    floor, _ = _course(world, [0, 0, 0, 0, 0], "Floor")
    stuck, _ = _course(world, [15, 16, 15, 16, 16], "Stuck")
    flags = not_on_track_ids(program=world.program_a, participant_ids=[floor.pk, stuck.pk])
    assert set(flags) == {stuck.pk}


# --------------------------------------------------------------------------- database


def _course(world: World, scores: list[int], last: str):
    """A participant admitted len(scores) weeks ago with one PHQ-9 a week."""
    person = long_stay(world, weeks=len(scores), last=last)
    start = program_today(world.program_a) - timedelta(weeks=len(scores))
    made = []
    for week, total in enumerate(scores):
        made.append(
            assessment_record(
                actor=world.clinician_a,
                participant=person,
                instrument="phq9",
                answers=phq9(total),
                administered_at=on_day(world, start + timedelta(weeks=week)),
            )
        )
    return person, made


@pytest.mark.django_db
def test_not_on_track_ids_from_the_database(world: World):
    stuck, stuck_rows = _course(world, [15, 16, 15, 16, 16], "Stuck")
    improving, _ = _course(world, [15, 12, 10, 8, 6], "Better")
    intake_only, _ = _course(world, [20], "New")
    flags = not_on_track_ids(
        program=world.program_a, participant_ids=[stuck.pk, improving.pk, intake_only.pk]
    )
    assert set(flags) == {stuck.pk}
    assert flags[stuck.pk] == (
        "PHQ-9 not on track (week 4: 16, on track ≤ 11; trend under 12% better than intake "
        "by week 4)"
    )
    # Entered in error: the latest score is no longer counted, and the cache notices.
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=stuck_rows[-1], reason="wrong participant"
    )
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=stuck_rows[-2], reason="wrong participant"
    )
    # Latest valid score is now week 2 (15 vs intake 15): the trend is judged from week 2.
    assert set(not_on_track_ids(program=world.program_a, participant_ids=[stuck.pk])) == {stuck.pk}
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=stuck_rows[-3], reason="wrong participant"
    )
    # Now week 1 (16 vs 15): only a reliable deterioration would flag this early.
    assert not_on_track_ids(program=world.program_a, participant_ids=[stuck.pk]) == {}
    # Other programs see nothing of program A.
    assert not_on_track_ids(program=world.program_b, participant_ids=[stuck.pk]) == {}


@pytest.mark.django_db
def test_thin_history_never_fits_and_queries_are_constant(world: World, monkeypatch):
    """A history too small for the model uses the rule at once: no fit, no queued refit,
    and the same four queries (the history's stamp, the stored fit, the counts that say the
    history is thin, these participants' rows) as it grows."""
    from django_tasks_db.models import DBTaskResult

    calls = []
    monkeypatch.setattr(outcomes, "expectation_for", lambda df, **kw: calls.append(1))
    first, _ = _course(world, [15, 16, 15, 16], "One")

    def run(ids):
        with CaptureQueriesContext(connection) as ctx:
            flags = not_on_track_ids(program=world.program_a, participant_ids=ids)
        return len(ctx.captured_queries), flags

    cold, _ = run([first.pk])
    more = [_course(world, [18, 18, 19, 20, 21, 22], f"More{i}")[0].pk for i in range(3)]
    grown, flags = run([first.pk, *more])
    assert cold == grown == 4
    assert calls == [] and not DBTaskResult.objects.exists()
    assert set(flags) == {first.pk, *more}


def test_unfittable_model_falls_back_to_the_rule_and_says_why(monkeypatch):
    def failing(data, re_formula):
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(outcomes, "_fit", failing)
    rule = expectation_for(simulate(n=30, weeks=5))
    verdict = rule.judge(intake=16, week=3, score=17)
    assert verdict.method == "rule-based: model could not be fitted"
