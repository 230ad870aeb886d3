"""Request id and deny-by-default routing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse, HttpResponseBase
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
