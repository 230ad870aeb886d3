"""Errors raised by actions: each names the field it is about, so forms and the API can
show the message beside the right input."""

from __future__ import annotations

from collections.abc import Mapping


class ActionError(Exception):
    """A write was refused; nothing was saved. `errors` maps field name -> messages."""

    def __init__(self, errors: Mapping[str, str | list[str]], code: str = "invalid") -> None:
        self.errors: dict[str, list[str]] = {
            field: [msgs] if isinstance(msgs, str) else list(msgs) for field, msgs in errors.items()
        }
        self.code = code
        super().__init__("; ".join(f"{f}: {' '.join(m)}" for f, m in self.errors.items()))


class ConflictError(ActionError):
    """The write conflicts with the current state (e.g. a second active episode)."""

    def __init__(self, errors: Mapping[str, str | list[str]]) -> None:
        super().__init__(errors, code="conflict")
