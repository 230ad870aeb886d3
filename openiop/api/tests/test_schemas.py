"""AC-05 / IN-05: every API input schema refuses fields it does not declare."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from openiop.api.schemas import StrictIn


class _NoteIn(StrictIn):
    text: str


def test_strict_in_accepts_declared_fields():
    assert _NoteIn(text="hello").text == "hello"


def test_strict_in_refuses_an_unknown_field():
    with pytest.raises(ValidationError) as caught:
        _NoteIn.model_validate({"text": "hello", "author": "someone else"})
    (error,) = caught.value.errors()
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == ("author",)
