"""`openiop worker`: run the background task worker for the configured queue.

OPENIOP_TASKS_BACKEND=db (the default): django-tasks-db's `db_worker` polls the database's task
table. OPENIOP_TASKS_BACKEND=rq: an RQ worker on Redis (OPENIOP_REDIS_URL) with its scheduler,
which moves deferred tasks (a safety escalation due in 30 minutes) onto the queue when they fall
due; any number of these may run on any number of hosts (docs/operations.md).

On start it first queues `settings.OPENIOP_WORKER_STARTUP_TASKS` (the safety escalation sweep),
so work whose job was lost while no worker ran, or while Redis could not be reached, is done.
While it works, a thread runs `settings.OPENIOP_WORKER_PERIODIC_TASKS` every
OPENIOP_WORKER_SWEEP_SECONDS (openiop.core.sweeps), so a job lost while the worker runs (its
database connection cut mid-task) is done within a period too.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, connections
from django.utils.module_loading import import_string

from openiop.core.health import tasks_backend_name
from openiop.core.sweeps import PeriodicSweeper

QUEUE = "default"
# While the database is unreachable (restarting, failing over) the database worker waits and
# tries again, 1 s, then 2, 4 … up to this long, instead of exiting with a traceback.
MAX_RECONNECT_DELAY = 30.0

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the background task worker (database queue, or RQ on Redis)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="process the tasks that are due, then exit"
        )
        parser.add_argument(
            "--rq-worker-class",
            default="rq.worker.Worker",
            help="RQ only: the worker class (rq.worker.SimpleWorker runs jobs without forking)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = tasks_backend_name()
        if backend not in ("db", "rq"):
            self.stderr.write(
                "The configured task backend runs tasks itself; there is no queue to work on. "
                "Set OPENIOP_TASKS_BACKEND to 'db' or 'rq'."
            )
            sys.exit(2)
        # `--once` processes what is due and exits: no periodic sweep to keep running.
        sweeper = PeriodicSweeper(
            settings.OPENIOP_WORKER_PERIODIC_TASKS,
            0 if options["once"] else settings.OPENIOP_WORKER_SWEEP_SECONDS,
        ).start()
        try:
            if backend == "db" and options["once"]:
                self._queue_startup_tasks()
                call_command(
                    "db_worker",
                    queue_name=QUEUE,
                    batch=True,
                    reload=False,
                    verbosity=options["verbosity"],
                )
            elif backend == "db":
                self._queue_startup_tasks()
                self._db_worker_through_outages(options["verbosity"])
            else:
                self._rq(once=options["once"], worker_class=options["rq_worker_class"])
        finally:
            sweeper.stop()

    def _db_worker_through_outages(self, verbosity: int) -> None:
        """Run django-tasks-db's worker until it is stopped (SIGTERM, Ctrl-C). A database
        outage makes it raise; it is started again once the database answers, so a restart of
        PostgreSQL does not leave the queue without a worker. The job that was running when
        the connection went is marked failed or left claimed; the periodic sweep redoes its
        work (escalations), since it reads the events, not the queue."""
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                call_command(
                    "db_worker", queue_name=QUEUE, batch=False, reload=False, verbosity=verbosity
                )
                return
            except (OperationalError, InterfaceError) as error:
                if time.monotonic() - started > 60:
                    delay = 1.0  # it had been working: a new outage starts the wait afresh
                logger.warning(
                    "database unreachable (%s); the worker tries again in %.0f s",
                    type(error).__name__,
                    delay,
                )
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)

    def _rq(self, *, once: bool, worker_class: str) -> None:
        from django.db import connections
        from django_rq.workers import get_worker
        from redis.exceptions import ConnectionError as RedisConnectionError

        if not worker_class.endswith("SimpleWorker"):
            connections.close_all()  # RQ forks a process per job: none may inherit a connection
        try:
            self._queue_startup_tasks()
            worker = get_worker(QUEUE, job_class="django_tasks_rq.Job", worker_class=worker_class)
            worker.work(burst=once, with_scheduler=True, logging_level="INFO")
        except RedisConnectionError:
            self.stderr.write("Redis is not reachable at OPENIOP_REDIS_URL.")
            sys.exit(1)

    def _queue_startup_tasks(self) -> None:
        for path in settings.OPENIOP_WORKER_STARTUP_TASKS:
            startup_task: Any = import_string(path)
            startup_task.enqueue()
