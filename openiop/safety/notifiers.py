"""Pluggable delivery of safety alerts beyond the in-app list (settings.OPENIOP_NOTIFIER).

A notifier gets only the notification row. What leaves the system carries no PHI: the
console notifier logs opaque ids, the email says "a safety event needs your attention" and
gives a link that needs a log-in. Names, scores and details stay behind that link.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.module_loading import import_string

from openiop.safety.models import SafetyNotification

logger = logging.getLogger("openiop.safety")

SUBJECT = "OpenIOP: a safety event needs your attention"


class Notifier(Protocol):
    def send(self, notification: SafetyNotification) -> None: ...


def event_path(notification: SafetyNotification) -> str:
    return reverse(
        "safety:detail",
        kwargs={
            "program_id": notification.program.external_id,
            "event_id": notification.event.external_id,
        },
    )


class ConsoleNotifier:
    """Development and fallback: one log line of opaque ids per notification."""

    def send(self, notification: SafetyNotification) -> None:
        logger.warning(
            "safety notification %s: event %s, recipient %s, reason %s, level %s",
            notification.external_id,
            notification.event.external_id,
            notification.recipient.external_id,
            notification.reason,
            notification.level,
        )


class EmailNotifier:
    """Email through django.core.mail; the body is a fixed sentence and a link."""

    def send(self, notification: SafetyNotification) -> None:
        address = notification.recipient.email
        if not address:
            ConsoleNotifier().send(notification)
            return
        base = str(getattr(settings, "OPENIOP_BASE_URL", "")).rstrip("/")
        body = (
            "A safety event needs your attention.\n\n"
            f"Open it in OpenIOP (log-in required): {base}{event_path(notification)}\n"
        )
        send_mail(SUBJECT, body, None, [address])


@cache
def _configured(path: str) -> Notifier:
    notifier: Notifier = import_string(path)()
    return notifier


def notifier() -> Notifier:
    return _configured(settings.OPENIOP_NOTIFIER)


def deliver(notifications: list[SafetyNotification]) -> None:
    """Send each notification; one failing channel never stops the others or the event."""
    backend = notifier()
    for notification in notifications:
        try:
            backend.send(notification)
        except Exception:  # the in-app row already exists; log the id and carry on
            logger.exception("safety notification %s not delivered", notification.external_id)
