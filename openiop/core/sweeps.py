"""Periodic sweeps run by `openiop worker` beside its queue.

A queued job can be lost in ways no queue protects against: the worker is killed mid-task,
the database connection is cut while the task runs (its `OperationalError` marks the job
failed), Redis is unreachable at the moment the job is queued. The sweeps named in
settings.OPENIOP_WORKER_PERIODIC_TASKS find such work from the database itself (an overdue,
unacknowledged safety event) and do it. They run every OPENIOP_WORKER_SWEEP_SECONDS in a
daemon thread of each worker process, so work lost while the worker runs is done within one
period, not at the next restart. Sweeps must be idempotent: with several workers on several
hosts, several sweep at once (the safety escalation locks the event row and re-checks that it
is due).

Core names the sweeps by dotted path from settings; it imports no domain app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def run_sweep(path: str) -> None:
    """Run one sweep in this thread. A django-tasks Task runs directly (`.call()`), not through
    the queue: the sweep exists for when the queue lost something."""
    sweep: Any = import_string(path)
    call: Callable[[], Any] = getattr(sweep, "call", sweep)
    call()


class PeriodicSweeper:
    """Runs each sweep every `interval` seconds until stopped. A failing sweep (the database
    is restarting, say) is logged and tried again next period; the thread never dies of it."""

    def __init__(self, paths: Sequence[str], interval: float) -> None:
        self.paths = list(paths)
        self.interval = interval
        self.runs = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="openiop-sweeps", daemon=True)

    def start(self) -> PeriodicSweeper:
        if self.paths and self.interval > 0:
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep_once()

    def sweep_once(self) -> None:
        for path in self.paths:
            try:
                close_old_connections()
                run_sweep(path)
                self.runs += 1
            except Exception:
                self.failures += 1
                logger.exception("periodic sweep %s failed; it runs again next period", path)
            finally:
                # This thread's own connections: a cut one is never reused, and a forking RQ
                # worker's job processes inherit none that is in use.
                connections.close_all()
