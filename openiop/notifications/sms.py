"""SMS through a provider adapter: one real provider (Twilio's Messages API), a console
backend for development and a capturing backend for tests. Chosen by OPENIOP_SMS_BACKEND."""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """A send that failed; `code` is short and carries no PHI (stored on the log row)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one message; return the provider's message id or raise SmsError."""
        ...


@dataclass
class CapturedSms:
    to: str
    body: str


# The test backend's outbox, like django.core.mail.outbox.
outbox: list[CapturedSms] = []


class LocmemSms:
    def send(self, to: str, body: str) -> str:
        outbox.append(CapturedSms(to=to, body=body))
        return f"locmem-{len(outbox)}"


class ConsoleSms:
    def send(self, to: str, body: str) -> str:
        # Development only: the number is not logged (PHI), only that a message went.
        logger.info("sms (console backend): %d characters", len(body))
        return "console"


class TwilioSms:
    """POST {base}/2010-04-01/Accounts/{sid}/Messages.json with basic auth."""

    def __init__(self) -> None:
        self.base = settings.OPENIOP_SMS_TWILIO_BASE_URL.rstrip("/")
        self.sid = settings.OPENIOP_SMS_TWILIO_ACCOUNT_SID
        self.token = settings.OPENIOP_SMS_TWILIO_AUTH_TOKEN
        self.sender = settings.OPENIOP_SMS_FROM

    def send(self, to: str, body: str) -> str:
        if not self.base.startswith(("https://", "http://")):
            raise SmsError("bad_base_url")  # no file: or other schemes
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        request.add_header("Authorization", f"Basic {auth}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise SmsError(f"http_{error.code}") from None
        except (urllib.error.URLError, TimeoutError, ValueError):
            raise SmsError("unreachable") from None
        sid = payload.get("sid")
        if not sid:
            raise SmsError("no_message_id")
        return str(sid)


def provider() -> SmsProvider:
    backend: type[SmsProvider] = import_string(settings.OPENIOP_SMS_BACKEND)
    return backend()
