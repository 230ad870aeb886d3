"""Background jobs (django-tasks; the worker is `openiop db_worker`).

Escalation is scheduled when an event is raised and after each escalation, to run once the
event's period has passed (`actions.escalation_period`: the program's
`safety_high_escalate_minutes` for high severity, settings.OPENIOP_SAFETY_ESCALATE_AFTER
for the rest). The job checks the
clock and the event's state itself, so a job that runs early, late or twice does no harm.
"""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

from openiop.core import clock
from openiop.safety.models import EventStatus, SafetyEvent

logger = logging.getLogger("openiop.safety")


def schedule(job: Any, event: SafetyEvent) -> None:
    """Enqueue `job(event.pk)` to run when the event's escalation falls due. Backends that
    cannot defer (the immediate backend in tests) run it now, when it finds nothing due."""
    from openiop.safety.actions import escalation_due_at

    if job.get_backend().supports_defer:
        job = job.using(run_after=escalation_due_at(event))
    job.enqueue(event.pk)


@task()
def safety_escalate_if_due(event_id: int) -> bool:
    """Escalate the event if it is still unacknowledged and its time has come."""
    from openiop.safety.actions import escalation_due_at, safety_event_escalate

    event = SafetyEvent.objects.filter(pk=event_id).first()
    if event is None or event.status != EventStatus.OPEN:
        return False
    if clock.now() < escalation_due_at(event):
        return False
    escalated = safety_event_escalate(event)
    if escalated:
        logger.warning(
            "safety event %s escalated to level %s", event.external_id, event.escalation_level
        )
    return escalated


@task()
def safety_escalate_overdue() -> int:
    """Sweep for any open event whose escalation is overdue (a job lost with a worker)."""
    count = 0
    for event_id in SafetyEvent.objects.filter(status=EventStatus.OPEN).values_list(
        "pk", flat=True
    ):
        count += int(safety_escalate_if_due.call(event_id))
    return count
