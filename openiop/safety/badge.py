"""The safety badge in the top bar: polled by htmx, so a new safety event reaches a
clinician's screen without a page reload (clinical.md section 6)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import signed_in
from openiop.accounts.models import User, UserKind
from openiop.safety.models import SafetyNotification


@require_http_methods(["GET"])
@signed_in
def safety_badge(request: HttpRequest) -> HttpResponse:
    """Unread safety notifications of the signed-in staff member: a count and where to go.
    Names nobody; the link leads to the program's safety page."""
    user = request.user
    assert isinstance(user, User)
    if user.kind != UserKind.STAFF:
        return HttpResponse("")
    unread = list(
        SafetyNotification.objects.filter(recipient=user, read_at__isnull=True)
        .exclude(event__status="closed")
        .select_related("program")
        .order_by("-created_at")[:50]
    )
    return render(request, "safety/_badge.html", {"unread": unread, "count": len(unread)})


app_name = "safety_badge"
urlpatterns = [path("badge/", safety_badge, name="badge")]
