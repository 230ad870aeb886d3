"""A confirm step for destructive one-click actions (remove from a roster, close a session,
remove a role, apply a planner run): the first POST answers with a page that says what will
happen and posts the same form again with confirm=yes; only that second POST acts. A page,
not a script, so it works without JavaScript and from the keyboard; the server insists on
confirm=yes, so no client can skip it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"
_NOT_ECHOED = {"csrfmiddlewaretoken", CONFIRM_FIELD}


def confirmed(request: HttpRequest) -> bool:
    """Whether this POST is the confirmed one."""
    return request.POST.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    title: str,
    question: str,
    button: str,
    cancel_url: str,
    details: Sequence[str] = (),
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The confirm step: `question` and `details` say what will happen; the form re-posts
    what was sent (the same fields) with confirm=yes to the same address. An htmx request
    gets the step in place of the page's main content."""
    hidden = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in _NOT_ECHOED
        for value in values
    ]
    page = {
        **(context or {}),
        "confirm_title": title,
        "confirm_question": question,
        "confirm_details": list(details),
        "confirm_button": button,
        "confirm_action": request.path,
        "confirm_hidden": hidden,
        "cancel_url": cancel_url,
    }
    if request.headers.get("HX-Request") == "true":
        response = render(request, "includes/confirm_step.html", page)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML show:top"
        return response
    return render(request, "confirm.html", page)
