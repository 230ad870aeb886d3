"""Step-up re-authentication (AUTH-07): sensitive operations need a password + second-factor
check made within the last five minutes."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

REAUTH_WINDOW = timedelta(minutes=5)
SESSION_KEY = "openiop_reauth_at"


class ReauthRequired(PermissionDenied):
    """Raised when an operation needs a fresh re-authentication; answered with 403 and the
    code `reauth_required` (the UI shows the re-authentication form)."""

    code = "reauth_required"


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = timezone.now().timestamp()


def has_recent_auth(request: HttpRequest) -> bool:
    stamp = request.session.get(SESSION_KEY)
    if stamp is None:
        return False
    age = timezone.now().timestamp() - float(stamp)
    return 0 <= age <= REAUTH_WINDOW.total_seconds()


def require_recent_auth(request: HttpRequest) -> None:
    if not has_recent_auth(request):
        raise ReauthRequired("reauth_required")
