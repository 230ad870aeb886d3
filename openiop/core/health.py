"""Readiness checks for `/readyz` (REL-03): may this process take traffic?

Each check answers "ok" or a short failure word; none reads or returns clinical data. The
migration check is remembered once it passes: the code on disk cannot gain a migration without a
restart, so a ready process stays migrated and `/readyz` stays cheap.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

_migrated = False


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unavailable"
    return "ok"


def check_migrations() -> str:
    global _migrated  # a per-process memo, see the module docstring
    if _migrated:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unavailable"
    if plan:
        return "pending"
    _migrated = True
    return "ok"


def tasks_backend_name() -> str:
    """The configured task backend's short name: "db", "rq" or "other"."""
    path = str(settings.TASKS["default"]["BACKEND"])
    if path.startswith("django_tasks_db."):
        return "db"
    if path.startswith("django_tasks_rq."):
        return "rq"
    return "other"


def check_task_queue() -> str:
    """The queue workers read: the task table (database backend) or Redis (RQ backend)."""
    backend = tasks_backend_name()
    if backend == "db":
        from django_tasks_db.models import DBTaskResult

        try:
            DBTaskResult.objects.only("pk").first()
        except DatabaseError:
            return "unavailable"
        return "ok"
    if backend == "rq":
        import django_rq
        from redis.exceptions import RedisError

        try:
            django_rq.get_connection("default").ping()
        except RedisError:
            return "unavailable"
        return "ok"
    return "ok"  # an in-process backend (tests, demo) has no queue to reach


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, {check: result}). Without the database the migration check cannot run, nor the
    queue check when the queue is the database's task table: they say "skipped"."""
    results = {"database": check_database()}
    database_ok = results["database"] == "ok"
    results["migrations"] = check_migrations() if database_ok else "skipped"
    queue_in_database = tasks_backend_name() == "db"
    results["tasks"] = check_task_queue() if database_ok or not queue_in_database else "skipped"
    return all(value == "ok" for value in results.values()), results
