"""Background jobs (django-tasks; the worker is `openiop worker`, on the database queue or RQ).

Escalation is scheduled when an event is raised and after each escalation, to run once the
event's period has passed (`actions.escalation_period`: the program's
`safety_high_escalate_minutes` for high severity, settings.OPENIOP_SAFETY_ESCALATE_AFTER
for the rest). The jobs are defined in `openiop.safety.actions`, beside the actions that
schedule and run them (one import direction, no circle); this module names them for the worker
and for anyone looking for "the safety tasks".
"""

from __future__ import annotations

from openiop.safety.actions import safety_escalate_if_due, safety_escalate_overdue, schedule

__all__ = ["safety_escalate_if_due", "safety_escalate_overdue", "schedule"]
