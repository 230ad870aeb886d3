"""Audit events in words for the report page: what kind of record an event is about ("Safety
event", not "safety.safetyevent") and what changed, before → after, from the event's detail.
Internal ids in a detail are never shown; the CSV export keeps the raw values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.apps import apps

from openiop.curriculum.library import library

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEX_ID = re.compile(r"^[0-9a-f]{32}$", re.I)
_PLAN_CODE = re.compile(r"^[a-z]{2,5}-\d{2}$")
# Detail keys whose values are ids or bookkeeping, never shown on the page.
_HIDDEN = {"view", "page", "filters", "request_id", "idempotency_key", "key"}
# Detail keys that pair up as the value before and after the change.
_PAIRS = (("from", "to"), ("before", "after"), ("old", "new"))


def object_label(object_type: str) -> str:
    """'safety.safetyevent' → 'Safety event' (the model's own name for people)."""
    if not object_type:
        return "—"
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type.rsplit(".", 1)[-1].replace("_", " ").capitalize()
    return str(model._meta.verbose_name).capitalize()


def _plan_title(code: str) -> str | None:
    """A curriculum plan code ('cbt-02') as its session title; None when unknown."""
    try:
        return library().plan(code).title
    except KeyError:
        return None


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(value: Any) -> str | None:
    """A detail value in words; None when it is an internal id (not shown)."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        if _UUID.match(value) or _HEX_ID.match(value):
            return None
        if _PLAN_CODE.match(value):
            return _plan_title(value)
        return value.replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", value) else value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        shown = [v for v in (_value(item) for item in value) if v is not None]
        return ", ".join(shown) if shown else None
    return None  # nested structures are bookkeeping, not a change


def changes(detail: Mapping[str, Any]) -> list[str]:
    """The event's changes and facts as short lines: 'Phase: engagement → early recovery',
    'Changed: pronouns, phone', 'Arrived at: 10:05 → 10:20', 'Walk in: yes'."""
    lines: list[str] = []
    used: set[str] = set()
    for before, after in _PAIRS:
        if before in detail and after in detail:
            was, now = _value(detail[before]), _value(detail[after])
            if was is not None and now is not None:
                lines.append(f"{was} → {now}")
            used |= {before, after}
    nested = detail.get("changes")
    if isinstance(nested, Mapping):
        used.add("changes")
        for field, pair in nested.items():
            if isinstance(pair, Mapping) and "before" in pair and "after" in pair:
                was, now = _value(pair["before"]), _value(pair["after"])
                if was is not None and now is not None:
                    lines.append(f"{_words(str(field))}: {was} → {now}")
                    continue
            lines.append(f"{_words(str(field))}: changed")
    if isinstance(detail.get("fields"), list | tuple):
        used.add("fields")
        names = [_words(str(f)).lower() for f in detail["fields"]]
        lines.append("Changed: " + (", ".join(names) if names else "nothing"))
    for key, value in detail.items():
        if key in used or key in _HIDDEN:
            continue
        shown = _value(value)
        if shown is not None:
            lines.append(f"{_words(key)}: {shown}")
    return lines
