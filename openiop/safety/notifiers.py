"""Pluggable delivery of safety alerts beyond the in-app list (settings.OPENIOP_NOTIFIER),
and the out-of-band channels every notification of a high-severity event also goes through
(settings.OPENIOP_OUT_OF_BAND_CHANNELS: email now; an SMS provider adapter plugs in as
another `Channel`). Each out-of-band attempt comes back as a `Delivery` that the actions
record on the event's timeline.

A notifier gets only the notification row. What leaves the system carries no PHI: the
console notifier logs opaque ids, the email says "a safety event needs your attention" and
gives a link that needs a log-in. Names, scores and details stay behind that link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.module_loading import import_string

from openiop.accounts.models import User
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


URGENT_SUBJECT = "OpenIOP: an urgent safety event needs your attention"


def email_body(notification: SafetyNotification) -> str:
    base = str(getattr(settings, "OPENIOP_BASE_URL", "")).rstrip("/")
    urgent = notification.event.severity == "high"
    return (
        f"{'An urgent' if urgent else 'A'} safety event needs your attention.\n\n"
        f"Open it in OpenIOP (log-in required): {base}{event_path(notification)}\n"
    )


class EmailNotifier:
    """Email through django.core.mail; the body is a fixed sentence and a link."""

    def send(self, notification: SafetyNotification) -> None:
        address = notification.recipient.email
        if not address:
            ConsoleNotifier().send(notification)
            return
        EmailChannel().send(notification, address)


# --- out-of-band channels ----------------------------------------------------------------


class Channel(Protocol):
    """A way to reach a staff member away from the OpenIOP screen, used for every
    notification of a high-severity event (settings.OPENIOP_OUT_OF_BAND_CHANNELS).

    Email is built in. An SMS provider adapter plugs in as another channel: `name = "SMS"`,
    `address()` returns the member's mobile number ("" when none), `send()` passes the same
    PHI-free sentence and link to the provider and raises when the provider refuses."""

    name: str

    def address(self, user: User) -> str: ...

    def send(self, notification: SafetyNotification, address: str) -> None: ...


class EmailChannel:
    name = "Email"

    def address(self, user: User) -> str:
        return user.email or ""

    def send(self, notification: SafetyNotification, address: str) -> None:
        urgent = notification.event.severity == "high"
        subject = URGENT_SUBJECT if urgent else SUBJECT
        send_mail(subject, email_body(notification), None, [address])


DEFAULT_CHANNELS = ("openiop.safety.notifiers.EmailChannel",)


@dataclass(frozen=True)
class Delivery:
    """One out-of-band attempt, recorded on the event's timeline."""

    notification: SafetyNotification
    channel: str
    status: str  # "sent", "not sent: no address on file", "failed"


@cache
def _configured(path: str) -> Notifier:
    notifier: Notifier = import_string(path)()
    return notifier


@cache
def _channel(path: str) -> Channel:
    channel: Channel = import_string(path)()
    return channel


def notifier() -> Notifier:
    return _configured(settings.OPENIOP_NOTIFIER)


def channels() -> list[Channel]:
    paths = getattr(settings, "OPENIOP_OUT_OF_BAND_CHANNELS", DEFAULT_CHANNELS)
    return [_channel(path) for path in paths]


def _out_of_band(channel: Channel, notification: SafetyNotification) -> Delivery:
    address = channel.address(notification.recipient)
    if not address:
        return Delivery(notification, channel.name, "not sent: no address on file")
    try:
        channel.send(notification, address)
    except Exception:  # the in-app row exists; record the failure, never undo the event
        logger.exception(
            "safety notification %s not delivered by %s", notification.external_id, channel.name
        )
        return Delivery(notification, channel.name, "failed")
    return Delivery(notification, channel.name, "sent")


def deliver(notifications: list[SafetyNotification]) -> list[Delivery]:
    """Send each notification through the configured notifier; a high-severity event's also
    go out of band (the notifier is skipped when it would send the same email twice). One
    failing channel never stops the others or the event. Returns the out-of-band attempts."""
    backend = notifier()
    attempts: list[Delivery] = []
    for notification in notifications:
        extra = channels() if notification.event.severity == "high" else []
        duplicate = isinstance(backend, EmailNotifier) and any(
            isinstance(c, EmailChannel) for c in extra
        )
        if not duplicate:
            try:
                backend.send(notification)
            except Exception:  # the in-app row already exists; log the id and carry on
                logger.exception("safety notification %s not delivered", notification.external_id)
        attempts.extend(_out_of_band(channel, notification) for channel in extra)
    return attempts
