"""Throttles for public forms that do not log anyone in (AUTH-03): "forgot password" and the
printed invitation code. django-axes throttles the log-in itself; these forms need the same
protection against mail bombing and code guessing.

Counters live in Django's cache: Redis when OPENIOP_CACHE_URL is set (several web nodes must
share one; deploy/openiop.env.example), otherwise the process's memory. Keys are HMAC hashes,
so no e-mail address or IP address is written to the cache in the clear (AU-04).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window: timedelta


# Reset e-mails per address and per client, per hour.
FORGOT_PER_ADDRESS = Limit("forgot-address", 3, timedelta(hours=1))
FORGOT_PER_CLIENT = Limit("forgot-client", 20, timedelta(hours=1))
# Wrong invitation codes per client (right ones are not counted).
CODE_GUESSES_PER_CLIENT = Limit("code-client", 10, timedelta(minutes=15))


def _key(limit: Limit, subject: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{limit.scope}:{subject}".encode(), hashlib.sha256
    ).hexdigest()
    return f"openiop:throttle:{limit.scope}:{digest[:32]}"


def client_of(request: HttpRequest) -> str:
    """The client's address as django-axes sees it (the same proxy settings)."""
    return get_client_ip_address(request) or "unknown"


def exceeded(limit: Limit, subject: str) -> bool:
    """Whether `subject` has used up its attempts in the current window (without counting)."""
    return int(cache.get(_key(limit, subject), 0)) >= limit.attempts


def count(limit: Limit, subject: str) -> int:
    """Count one attempt; the window starts at the first attempt and is not extended."""
    key = _key(limit, subject)
    if cache.add(key, 1, timeout=int(limit.window.total_seconds())):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=int(limit.window.total_seconds()))
        return 1


def spend(limit: Limit, subject: str) -> bool:
    """Count one attempt; True while it is within the limit."""
    return count(limit, subject) <= limit.attempts
