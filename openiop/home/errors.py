"""The error pages people see: a plain "not found" and "something went wrong", in the site's
layout, never Django's debug page (the demo serves with DEBUG off for the same reason)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: the page does not exist or this person may not see it (the same answer for both,
    so an address reveals nothing)."""
    body = loader.render_to_string("404.html", {}, request)
    return HttpResponseNotFound(body)


class ExplainedRefusal(PermissionDenied):
    """A refusal whose message is written for the person refused (it is shown on the 403 page);
    other refusals carry technical reasons that the page does not show."""


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: what the refusal means, in plain words, and where to go next."""
    reason = str(exception) if isinstance(exception, ExplainedRefusal) else ""
    body = loader.render_to_string("403.html", {"reason": reason}, request)
    return HttpResponseForbidden(body)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without a request context or database, which may be what failed."""
    body = loader.get_template("500.html").render({})
    return HttpResponseServerError(body)
