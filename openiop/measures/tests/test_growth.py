"""The growth model is refitted in the background; pages use the last good fit (issue 12)."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from openiop.core import clock
from openiop.measures import history, outcomes
from openiop.measures.actions import (
    REFIT_REQUEUE_AFTER,
    growth_refit,
    growth_refit_if_stale,
    growth_refit_request,
)
from openiop.measures.growth import NOT_FITTED_YET, current_expectation
from openiop.measures.models import GrowthFit
from openiop.measures.outcomes import ExpectedRecovery, fit_expected_recovery
from openiop.measures.tests.helpers import long_stay, store_fit, trajectory
from openiop.measures.tests.test_outcomes import simulate
from openiop.testing import World

pytestmark = pytest.mark.django_db

NON_RESPONDER = [18, 18, 19, 18, 19, 20]


@pytest.fixture(scope="module")
def fitted() -> ExpectedRecovery:
    return fit_expected_recovery(simulate())


@pytest.fixture
def rich(monkeypatch):
    """A few courses count as history enough for the model (the real minimum is 20
    participants and 100 scores; seeding that many here would only slow the suite)."""
    monkeypatch.setattr(outcomes, "MIN_PARTICIPANTS", 1)
    monkeypatch.setattr(outcomes, "MIN_ASSESSMENTS", 1)


@pytest.fixture
def no_fitting_here(monkeypatch):
    """Fail loudly if anything fits the model in this code path."""

    monkeypatch.setattr(outcomes, "expectation_for", _refuse)
    monkeypatch.setattr(outcomes, "fit_expected_recovery", _refuse)


def _refits() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="growth_refit"))


def _measures_page(world: World, client_for, person) -> str:
    path = f"/p/{world.program_a.external_id}/participants/{person.external_id}/measures/"
    response = client_for(world.clinician_a).get(path)
    assert response.status_code == 200
    return response.content.decode()


def _chart_page(world: World, client_for, person) -> int:
    path = f"/p/{world.program_a.external_id}/participants/{person.external_id}/"
    return client_for(world.clinician_a).get(path).status_code


def test_stale_fit_page_does_not_fit_and_queues_one_refit(
    world: World, client_for, rich, fitted, monkeypatch
):
    person = long_stay(world)
    store_fit(world.program_a, fitted)  # fitted before these scores: stale now
    trajectory(world, person, NON_RESPONDER)
    with monkeypatch.context() as m:
        m.setattr(outcomes, "expectation_for", _refuse)
        m.setattr(outcomes, "fit_expected_recovery", _refuse)
        body = _measures_page(world, client_for, person)
        # The last good fit draws the corridor meanwhile, and the page says it is older.
        assert "expected range, upper" in body
        assert "Newer scores since; a refit is queued." in body
        # Several pages (and the chart's header alert) later: still one queued refit.
        _measures_page(world, client_for, person)
        assert _chart_page(world, client_for, person) == 200
    (job,) = _refits()
    assert job.args_kwargs["args"] == [world.program_a.pk, "phq9"]

    # The worker runs it: the fit is stored with its time, size and the history's hash.
    monkeypatch.setattr(outcomes, "expectation_for", lambda df, **kw: fitted)
    assert growth_refit.call(*job.args_kwargs["args"]) is True
    fit = GrowthFit.objects.get(program=world.program_a, instrument="phq9")
    assert fit.method == "model" and fit.refit_queued_at is None
    assert fit.history_hash == history.history_stamp(world.program_a, "phq9").hash
    assert fit.params["fe"] == pytest.approx(fitted.fe.tolist())
    assert fit.n_histories == 1 and fit.n_assessments == len(NON_RESPONDER)

    # The page now says when the model was fitted, in the program's time, and queues nothing.
    monkeypatch.setattr(outcomes, "expectation_for", _refuse)
    body = _measures_page(world, client_for, person)
    assert fit.fitted_at is not None
    when = clock.local_time(fit.fitted_at, world.program_a)
    assert f"Expected-recovery model fitted {when.day} {when:%b %H:%M %Z} from 1 history." in body
    assert "refit is queued" not in body
    assert len(_refits()) == 1


def _refuse(*args, **kwargs):
    raise AssertionError("the growth model was fitted in the request")


def test_no_fit_yet_uses_the_rule_and_says_so(world: World, client_for, rich, no_fitting_here):
    person = long_stay(world)
    trajectory(world, person, [16, 16, 16, 16, 16])
    body = _measures_page(world, client_for, person)
    assert f"rule-based: {NOT_FITTED_YET}" in body and "on-track limit" in body
    assert "No expected-recovery model fitted yet (queued): the documented rule is used." in body
    assert len(_refits()) == 1


def test_a_burst_of_changes_queues_one_refit(
    world: World, rich, django_capture_on_commit_callbacks
):
    person = long_stay(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        trajectory(world, person, [15, 14, 13, 12])
    assert len(callbacks) == 4  # one check per recorded administration
    assert len(_refits()) == 1
    assert growth_refit_request(program_id=world.program_a.pk, instrument="phq9") is False


def test_a_refit_lost_with_its_worker_is_queued_again(world: World, rich):
    trajectory(world, long_stay(world), [15, 14, 13])
    assert growth_refit_if_stale(program_id=world.program_a.pk, instrument="phq9") is True
    GrowthFit.objects.update(refit_queued_at=clock.now() - 2 * REFIT_REQUEUE_AFTER)
    assert growth_refit_if_stale(program_id=world.program_a.pk, instrument="phq9") is True
    assert len(_refits()) == 2


def test_thin_history_queues_nothing(world: World, no_fitting_here):
    trajectory(world, long_stay(world), [15, 14, 13])
    expectation, info = current_expectation(world.program_a)
    assert expectation.method == "rule" and info.method == "rule"
    assert growth_refit_if_stale(program_id=world.program_a.pk, instrument="phq9") is False
    assert _refits() == []


def test_the_refit_stores_the_rule_when_the_model_cannot_be_fitted(world: World, rich):
    trajectory(world, long_stay(world), [15, 14, 13])
    assert growth_refit.call(world.program_a.pk, "phq9") is True
    fit = GrowthFit.objects.get()
    # One participant: statsmodels cannot fit random effects; the rule is stored, saying why.
    assert fit.method == "rule" and fit.why and fit.fitted_at is not None
    expectation, info = current_expectation(world.program_a)
    assert expectation.method == "rule" and "Expected-recovery rule in use" in info.text


def test_refit_of_a_current_fit_keeps_it(world: World, rich, fitted, no_fitting_here):
    trajectory(world, long_stay(world), [15, 14, 13])
    stored = store_fit(world.program_a, fitted)
    assert growth_refit.call(world.program_a.pk, "phq9") is True
    assert GrowthFit.objects.get().fitted_at == stored.fitted_at
