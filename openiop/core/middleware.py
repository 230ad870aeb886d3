"""Request id and deny-by-default routing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import loader
from django.utils import timezone

from openiop.core.context import REQUEST_ID_META
from openiop.core.context import current_request_id as current_request_id

# Set while a request runs under a break-glass grant, so every audit event it writes is flagged.
current_break_glass: ContextVar[bool] = ContextVar("current_break_glass", default=False)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        # Also on the request: Django logs a 4xx/5xx response after the middleware returned,
        # with the request attached to the record (openiop.core.logs.RequestIdFilter).
        request.META[REQUEST_ID_META] = request_id
        token = current_request_id.set(request_id)
        glass_token = current_break_glass.set(False)
        timezone.deactivate()  # a program's zone is activated once the program is known
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
            current_break_glass.reset(glass_token)
            timezone.deactivate()
        response["X-Request-ID"] = request_id
        return response


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login unless its view is marked `login_not_required` (AC-01).

    The JSON API enforces its own authentication (401 envelope instead of a redirect), so
    its paths are handed through here and checked by django-ninja's global auth.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def database_answers(alias: str = "default") -> bool:
    """Whether the database answers now: the request's connection if it is usable, otherwise
    a fresh one. Only asked after a request failed, so it costs nothing on a good day."""
    connection = connections[alias]
    if connection.connection is not None and connection.is_usable():
        return True
    if connection.in_atomic_block:
        # Only a test's wrapping transaction is open out here: not this middleware's to close.
        return True
    try:
        connection.close()
        connection.ensure_connection()
    except DatabaseError:
        return False
    return True


def connection_lost(alias: str = "default") -> bool:
    """Whether this request's connection broke under it: cut by the server
    (pg_terminate_backend, a failover) or by a restart that is already over, so the database
    answers again by the time the failure is judged. Django marks `errors_occurred` on any
    database error; a broken connection also no longer answers. An error on a connection that
    still works (a bad query) is a bug and stays a 500."""
    connection = connections[alias]
    if not connection.errors_occurred:
        return False
    return connection.connection is None or not connection.is_usable()


class DatabaseUnavailableMiddleware:
    """A request that failed because the database is away (PostgreSQL restarting, a failover)
    answers 503 with Retry-After, not a 500 or Django's 400 "session interrupted" (the session
    save fails with the connection). Clients and proxies retry a 503; the portal's retries reuse
    their idempotency key, so nothing is stored twice. The page names 988 for anyone in crisis."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        failed = response.status_code in (400, 500)
        if failed and (connection_lost() or not database_answers()):
            return self.unavailable(request)
        return response

    def unavailable(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = json.dumps(
                {"detail": "The service cannot reach its database; retry in a few seconds."}
            )
            response = HttpResponse(body, status=503, content_type="application/json")
        else:
            response = HttpResponse(loader.get_template("503.html").render({}), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
