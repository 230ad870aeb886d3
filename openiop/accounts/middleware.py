"""Session lifetime, second-factor enforcement and no-store caching for signed-in pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone

from openiop.accounts.mfa import is_verified, needs_second_factor
from openiop.accounts.models import User
from openiop.accounts.sessions import AUTH_AT_KEY, LAST_SEEN_KEY
from openiop.accounts.stepup import ReauthRequired

# Routes a signed-in staff member may use before their second factor is confirmed.
SECOND_FACTOR_EXEMPT = {
    "accounts:login",
    "accounts:logout",
    "accounts:locked",
    "accounts:mfa_setup",
    "accounts:mfa_verify",
    "home:healthz",
    "home:readyz",
}


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionLifetimeMiddleware:
    """AUTH-05: end the server session after 15 idle minutes or 12 hours in all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated and self._expired(request):
            logout(request)  # flushes and deletes the server-side session
            if _is_api(request):
                return _json_error(401, "session_expired", "Your session ended. Log in again.")
            return redirect("accounts:locked")
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> bool:
        now = timezone.now().timestamp()
        session = request.session
        started = float(session.setdefault(AUTH_AT_KEY, now))
        last_seen = float(session.get(LAST_SEEN_KEY, now))
        idle = settings.OPENIOP_IDLE_TIMEOUT.total_seconds()
        absolute = settings.OPENIOP_ABSOLUTE_TIMEOUT.total_seconds()
        if now - last_seen > idle or now - started > absolute:
            return True
        session[LAST_SEEN_KEY] = now
        return False


class SecondFactorRequiredMiddleware:
    """AUTH-04: a staff session without a confirmed second factor reaches nothing clinical."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated or not isinstance(user, User):
            return None
        if not needs_second_factor(user) or is_verified(request) or _exempt(request):
            return None
        if _is_api(request):
            return _json_error(403, "mfa_required", "Confirm your second factor first.")
        return render(request, "accounts/mfa_required.html", {"next": request.path}, status=403)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        """AUTH-07: a sensitive step without a fresh re-authentication gets 403
        `reauth_required` and, on a page, the way to re-authenticate and come back."""
        if not isinstance(exception, ReauthRequired):
            return None
        if _is_api(request):
            return _json_error(403, "reauth_required", "Re-authenticate, then try again.")
        back = (
            request.get_full_path()
            if request.method == "GET"
            else request.META.get("HTTP_REFERER", "/")
        )
        return render(request, "accounts/reauth_required.html", {"next": back}, status=403)


def _exempt(request: HttpRequest) -> bool:
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name in SECOND_FACTOR_EXEMPT


class NoStoreMiddleware:
    """Signed-in pages must not be kept in the browser cache: the back button after logout
    or lock must not bring clinical data back on screen."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
