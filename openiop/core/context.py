"""Per-request context variables that must be importable before Django's apps are loaded
(the logging configuration reads the request id while `django.setup()` is still running)."""

from __future__ import annotations

from contextvars import ContextVar

# The request id ties audit events and log lines together without naming anybody.
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
# The same id on the request itself, for log lines written after the middleware returned.
REQUEST_ID_META = "openiop.request_id"
