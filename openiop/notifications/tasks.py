"""The worker's notification sweep (named in settings.OPENIOP_WORKER_PERIODIC_TASKS)."""

from __future__ import annotations

from django_tasks import task

from openiop.notifications.planner import plan_session_reminders
from openiop.notifications.sender import send_due


@task()
def notifications_sweep() -> int:
    """Plan due reminders, then send what is due. Idempotent: safe with several workers."""
    plan_session_reminders()
    return send_due()
