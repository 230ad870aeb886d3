"""Log records carry the request id (AU-04: opaque ids only, never names).

`RequestIdFilter` copies the id that `RequestIdMiddleware` keeps in a context variable onto every
record, so each JSON line (and each plain line) written while a request runs can be tied to that
request and to its audit events. Django logs a 4xx or 5xx response after the middleware has
returned, with the request attached: the id is then read from the request. Outside a request
(the worker, management commands, the web server's own lines) it is "-".

The JSON lines leave out the attached request object itself: its text is the full URL, query
string included (`JSON_RESERVED_ATTRS`).
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS

from openiop.core.context import REQUEST_ID_META, current_request_id

JSON_RESERVED_ATTRS = [*RESERVED_ATTRS, "request"]


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request = getattr(record, "request", None)
            from_request = getattr(request, "META", {}).get(REQUEST_ID_META)
            record.request_id = current_request_id.get() or from_request or "-"
        return True
