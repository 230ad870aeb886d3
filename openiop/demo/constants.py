"""Published demo credentials: demo data only, printed by `openiop demo`."""

DEMO_PASSWORD = "openiop-demo-2026"  # noqa: S105 - published demo credential
DEMO_PARTICIPANT = "jordan.participant"
