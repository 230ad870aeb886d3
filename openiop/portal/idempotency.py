"""REL-01: participant submissions are safe to retry.

Every participant write carries a key chosen by the client (a fresh UUID per form). The
first request with a key inserts an `IdempotencyRecord` in the same transaction as the row
it creates and stores its response there. A retry of the same request finds the record and
gets the first response back; the same key with a different body is refused.

Concurrency: the key's unique constraint does the work. On PostgreSQL a second INSERT of the
same (user, key) waits for the first transaction and then fails with a unique violation, so
exactly one request performs the write; the losers read the committed record and replay it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from openiop.accounts.models import User
from openiop.core.errors import ActionError
from openiop.portal.models import IdempotencyRecord

KEY_FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REUSED_MESSAGE = (
    "This form was already sent with different answers. Your first answers were saved; "
    "open the form again to send new ones."
)


@dataclass(frozen=True)
class Outcome:
    response: dict[str, Any]
    replayed: bool


def fingerprint(scope: str, payload: Any) -> str:
    """A stable hash of what was asked for: the same answers in any key order match."""
    canonical = json.dumps({"scope": scope, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if not key or not KEY_PATTERN.match(key):
        raise ActionError(
            {
                KEY_FIELD: "Every submission needs an idempotency key of 16-64 letters, digits, "
                "'-' or '_' (a UUID works). Reload the form and send it again."
            }
        )
    return key


def _replay(user: User, key: str, print_: str) -> Outcome | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    if record.fingerprint != print_:
        raise ActionError({KEY_FIELD: REUSED_MESSAGE}, code="conflict")
    return Outcome(response=record.response, replayed=True)


def run_once(
    *,
    user: User,
    key: str | None,
    scope: str,
    payload: Any,
    perform: Callable[[], dict[str, Any]],
) -> Outcome:
    """Perform a write at most once per (user, key); `perform` returns the response to
    store and replay, and runs inside the record's transaction."""
    key = check_key(key)
    print_ = fingerprint(scope, payload)
    earlier = _replay(user, key, print_)
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, key=key, scope=scope, fingerprint=print_
            )
            record.response = perform()
            record.save(update_fields=["response"])
            return Outcome(response=record.response, replayed=False)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        earlier = _replay(user, key, print_)
        if earlier is None:
            raise
        return earlier


def critical_first(
    *, user: User, key: str | None, scope: str, perform: Callable[[], dict[str, Any]]
) -> Outcome:
    """A critical answer's write (a safety "yes") on its own, before the rest of its form is
    validated, committed even if the rest is refused. Once per submission: its key is derived
    from the form's key, so resending the corrected form replays the first event instead of
    raising another. A missing or malformed key never blocks it (it runs without one)."""
    if not key or not KEY_PATTERN.match(key):
        with transaction.atomic():
            return Outcome(response=perform(), replayed=False)
    derived = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    return run_once(user=user, key=derived, scope=scope, payload={}, perform=perform)
