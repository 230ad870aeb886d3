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

pytestmark = pytest.mark.django_db

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


def test_database_worker_runs_the_escalation(world: World):
    from django_tasks_db.models import DBTaskResult

    event = raise_event(world)
    task = DBTaskResult.objects.get(task_path="openiop.safety.actions.safety_escalate_if_due")
    assert task.args_kwargs["args"] == [event.pk] and task.run_after > clock.now()

    call_command("worker", once=True)  # not due yet: nothing happens
    event.refresh_from_db()
    assert event.escalation_level == 0

    _half_hour_passes(event)
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=clock.now() - timedelta(seconds=1))
    call_command("worker", once=True)
    assert _escalated(event)


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


def test_rq_worker_runs_the_escalation(world: World, redis_db):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    with override_settings(**RQ_SETTINGS):
        event = raise_event(world)
        queue = Queue("default", connection=redis_db)
        registry = ScheduledJobRegistry(queue=queue)
        (job_id,) = registry.get_job_ids()
        job = queue.fetch_job(job_id)
        assert job.func_name == "openiop.safety.actions.safety_escalate_if_due"
        assert list(job.args) == [event.pk]

        _half_hour_passes(event)
        registry.schedule(job, clock.now() - timedelta(seconds=1))
        # SimpleWorker runs the job in this process, inside the test's transaction.
        call_command("worker", once=True, rq_worker_class="rq.worker.SimpleWorker")
        assert _escalated(event)
        # The escalation scheduled the next one, on Redis again.
        assert len(registry.get_job_ids()) == 1


def test_worker_refuses_a_backend_without_a_queue():
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate), pytest.raises(SystemExit) as exited:
        call_command("worker", once=True)
    assert exited.value.code == 2
