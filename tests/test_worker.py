"""`openiop worker` on both task backends runs a real job of ours: a safety event's escalation.

The event is raised through its action, which schedules the escalation for half an hour later;
the test lets the half hour pass (the event's time and the queued job's due time), then runs
the worker once and finds the event escalated and audited. The RQ run uses the machine's Redis,
in a database number of its own that is emptied before and after.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.safety.models import SafetyEvent
from openiop.safety.tests.helpers import raise_event
from openiop.testing import World

# One test process runs all of this file (pytest-xdist): its tests share Redis database 14.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("redis-db-14")]
# The workers close database connections (as they must between tasks), which would end the
# transaction a plain test runs in: the tests that run a worker commit for real.
commits = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/14"
RQ_SETTINGS = {
    "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    "RQ_QUEUES": {"default": {"URL": REDIS_URL}},
}


def _half_hour_passes(event: SafetyEvent) -> None:
    SafetyEvent.objects.filter(pk=event.pk).update(
        created_at=event.created_at - timedelta(minutes=31)
    )


def _escalated(event: SafetyEvent) -> bool:
    event.refresh_from_db()
    return (
        event.escalation_level == 1
        and AuditEvent.objects.filter(
            object_id=str(event.external_id), detail__escalation_level=1
        ).exists()
    )


@commits
def test_database_worker_runs_the_escalation(world: World):
    from django_tasks_db.models import DBTaskResult

    event = raise_event(world)
    task = DBTaskResult.objects.get(task_path="openiop.safety.actions.safety_escalate_if_due")
    assert task.args_kwargs["args"] == [event.pk] and task.run_after > clock.now()

    with override_settings(OPENIOP_WORKER_STARTUP_TASKS=[]):
        call_command("worker", once=True)  # not due yet: nothing happens
    event.refresh_from_db()
    assert event.escalation_level == 0

    _half_hour_passes(event)
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=clock.now() - timedelta(seconds=1))
    with override_settings(OPENIOP_WORKER_STARTUP_TASKS=[]):
        call_command("worker", once=True)
    assert _escalated(event)
    assert DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL"


@pytest.fixture
def redis_db():
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    connection.flushdb()
    yield connection
    connection.flushdb()


def test_rq_worker_runs_the_escalation(world: World, redis_db, django_capture_on_commit_callbacks):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    with override_settings(**RQ_SETTINGS):
        with django_capture_on_commit_callbacks(execute=True) as queued:
            event = raise_event(world)
            registry = ScheduledJobRegistry(queue=Queue("default", connection=redis_db))
            assert registry.get_job_ids() == []  # nothing on Redis before the commit
        assert any(callback.__name__ == "enqueue_after_commit" for callback in queued)
        queue = Queue("default", connection=redis_db)
        registry = ScheduledJobRegistry(queue=queue)
        (job_id,) = registry.get_job_ids()
        job = queue.fetch_job(job_id)
        assert job.func_name == "openiop.safety.actions.safety_escalate_if_due"
        assert list(job.args) == [event.pk]

        _half_hour_passes(event)
        registry.schedule(job, clock.now() - timedelta(seconds=1))
        # SimpleWorker runs the job in this process (without the start-up sweep, which would
        # escalate the event itself).
        with override_settings(OPENIOP_WORKER_STARTUP_TASKS=[]):
            call_command("worker", once=True, rq_worker_class="rq.worker.SimpleWorker")
        assert _escalated(event)
        assert registry.get_job_ids() == []  # moved to the queue and run


def test_worker_refuses_a_backend_without_a_queue():
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate), pytest.raises(SystemExit) as exited:
        call_command("worker", once=True)
    assert exited.value.code == 2


def test_rq_jobs_are_queued_after_the_commit(
    world: World, redis_db, django_capture_on_commit_callbacks
):
    """A worker must never look for an event whose transaction has not committed yet."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    registry = ScheduledJobRegistry(queue=Queue("default", connection=redis_db))
    with override_settings(**RQ_SETTINGS):
        with django_capture_on_commit_callbacks(execute=True):
            raise_event(world)
            assert registry.get_job_ids() == []
        assert len(registry.get_job_ids()) == 1


def test_an_unreachable_redis_does_not_lose_the_event(
    world: World, django_capture_on_commit_callbacks, caplog
):
    """The event and its alerts stand; the failure is logged (without the participant), and
    the sweep the worker queues when it starts escalates the event later."""
    down = {**RQ_SETTINGS, "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:1/0"}}}
    with override_settings(**down), django_capture_on_commit_callbacks(execute=True):
        event = raise_event(world)
    assert SafetyEvent.objects.filter(pk=event.pk).exists()
    failures = [r for r in caplog.records if "could not queue the escalation" in r.getMessage()]
    assert len(failures) == 1
    assert world.participant_a.legal_last_name not in caplog.text


@commits
def test_the_worker_sweeps_for_overdue_escalations_when_it_starts(world: World):
    from django_tasks_db.models import DBTaskResult

    event = raise_event(world)
    DBTaskResult.objects.all().delete()  # the job was lost
    _half_hour_passes(event)
    call_command("worker", once=True)
    assert _escalated(event)


# --- The periodic sweep: work lost while the worker runs is done within one period ----------

_flaky_calls: list[str] = []


def _flaky_sweep() -> None:
    """A sweep whose first run fails, as one does while the database restarts."""
    _flaky_calls.append("run")
    if len(_flaky_calls) == 1:
        raise RuntimeError("database restarting")


@commits
def test_the_periodic_sweep_escalates_a_job_lost_to_a_cut_connection(world: World, monkeypatch):
    """The escalation job failed (its connection was cut mid-task, as in bench/load.py's fault
    run); the next sweep, while the worker keeps running, escalates the event."""
    from django.conf import settings
    from django.db import OperationalError
    from django_tasks_db.models import DBTaskResult

    from openiop.core.sweeps import PeriodicSweeper
    from openiop.safety import actions

    event = raise_event(world)
    DBTaskResult.objects.all().delete()  # the job ran and failed: nothing will run it again
    _half_hour_passes(event)
    # The configured safety sweep only: the counts below are about it alone (the notification
    # sweep, also configured, runs beside it and would add a run).
    safety = [p for p in settings.OPENIOP_WORKER_PERIODIC_TASKS if ".safety." in p]
    assert safety
    sweeper = PeriodicSweeper(safety, 60)

    def cut(event: object) -> bool:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(actions, "safety_event_escalate", cut)
    sweeper.sweep_once()  # the database is still away: logged, nothing escalated
    assert (sweeper.runs, sweeper.failures) == (0, 1) and not _escalated(event)
    monkeypatch.undo()
    sweeper.sweep_once()  # one period later
    assert sweeper.runs == 1 and _escalated(event)


def test_the_worker_runs_the_sweep_every_period_and_survives_a_failure(monkeypatch):
    """`openiop worker` starts the sweeper beside its queue: with a 50 ms period, a queue that
    works for half a second sees the sweep run several times, the first failure included."""
    import time

    from openiop.core.management.commands import worker

    _flaky_calls.clear()
    monkeypatch.setattr(worker, "call_command", lambda *a, **k: time.sleep(0.5))
    with override_settings(
        OPENIOP_WORKER_STARTUP_TASKS=[],
        OPENIOP_WORKER_PERIODIC_TASKS=["tests.test_worker._flaky_sweep"],
        OPENIOP_WORKER_SWEEP_SECONDS=0.05,
    ):
        call_command("worker")
    assert len(_flaky_calls) >= 3  # the failing first run did not stop the thread


def test_worker_once_does_not_start_the_periodic_sweep(monkeypatch):
    from openiop.core.management.commands import worker

    _flaky_calls.clear()
    monkeypatch.setattr(worker, "call_command", lambda *a, **k: None)
    with override_settings(
        OPENIOP_WORKER_STARTUP_TASKS=[],
        OPENIOP_WORKER_PERIODIC_TASKS=["tests.test_worker._flaky_sweep"],
        OPENIOP_WORKER_SWEEP_SECONDS=0.01,
    ):
        call_command("worker", once=True)
    assert _flaky_calls == []


def test_the_database_worker_outlives_a_database_restart(monkeypatch):
    """PostgreSQL restarting makes django-tasks-db's worker raise (bench/load.py's fault run:
    the worker exited and 41 of 57 escalations waited for a manual restart). `openiop worker`
    waits, 1 s then 2 s, and starts it again; a normal stop ends it."""
    from django.db import OperationalError

    from openiop.core.management.commands import worker

    runs: list[str] = []
    waits: list[float] = []

    def db_worker(*args, **kwargs):
        runs.append(args[0])
        if len(runs) < 3:
            raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(worker, "call_command", db_worker)
    monkeypatch.setattr(worker.time, "sleep", waits.append)
    with override_settings(OPENIOP_WORKER_STARTUP_TASKS=[], OPENIOP_WORKER_PERIODIC_TASKS=[]):
        call_command("worker")
    assert runs == ["db_worker"] * 3 and waits == [1.0, 2.0]
