from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from openiop.accounts.selectors import programs_for_user


def navigation(request: HttpRequest) -> dict[str, object]:
    idle_seconds = int(settings.OPENIOP_IDLE_TIMEOUT.total_seconds())
    poll = int(getattr(settings, "OPENIOP_SAFETY_POLL_SECONDS", 30))
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_programs": [], "idle_seconds": idle_seconds, "safety_poll_seconds": poll}
    # Lazy: pages that do not render the program switcher pay no query for it.
    return {
        "nav_programs": SimpleLazyObject(lambda: list(programs_for_user(user=user))),
        "idle_seconds": idle_seconds,
        "safety_poll_seconds": poll,
    }
