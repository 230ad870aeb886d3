from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import public, signed_in
from openiop.accounts.models import User, UserKind
from openiop.accounts.selectors import programs_for_user
from openiop.core.health import readiness
from openiop.participants.models import Participant


@require_http_methods(["GET"])
@signed_in
def home(request: HttpRequest) -> HttpResponse:
    """Send staff to their program; with several programs, let them choose."""
    user = request.user
    assert isinstance(user, User)
    if user.kind == UserKind.PARTICIPANT and Participant.objects.filter(user=user).exists():
        return redirect("portal:home")
    if user.kind != UserKind.STAFF:
        return render(request, "home/participant_home.html", status=200)
    programs = list(programs_for_user(user=user))
    if len(programs) == 1:
        return redirect("participants:program_home", program_id=programs[0].external_id)
    return render(request, "home/choose_program.html", {"programs": programs})


@public
@require_http_methods(["GET"])
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability; never any clinical data (REL-03)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "degraded", "database": database}, status=status
    )


@public
@require_http_methods(["GET"])
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness for the load balancer: the database answers, every migration is applied and
    the task queue (database table or Redis) is reachable. 503 names the failing check."""
    ready, checks = readiness()
    failing = [name for name, result in checks.items() if result != "ok"]
    body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": checks}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if ready else 503)
