"""Settings for bench/load.py: openiop.settings with a 1-minute safety escalation, so that
the benchmark sees escalations run (also those falling due while the worker is down)."""

from datetime import timedelta

from openiop.settings import *  # noqa: F403

OPENIOP_SAFETY_ESCALATE_AFTER = timedelta(minutes=1)
