"""Bases shared by every API schema."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictIn(Schema):
    """Base of every API input schema. AC-05 / IN-05: unknown fields (ids, author, program,
    status...) are refused with a 422 naming the field, never silently ignored."""

    model_config = ConfigDict(extra="forbid")
