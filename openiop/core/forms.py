"""Form helpers shared by every app's views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from openiop.core.errors import ActionError


def apply_action_errors(
    form: forms.BaseForm,
    error: ActionError,
    *,
    field_for: Callable[[str], str | None] | None = None,
) -> None:
    """Show an action's refusal on the form: each message beside the field it names, or at
    the top of the form when the form has no such field (a form-wide error).

    `field_for` maps an action's field name to the form's own (e.g. `answers[3]` to an item's
    input); it returns None for a form-wide error. By default a name is kept when the form
    has a field of that name.
    """
    for name, messages in error.errors.items():
        field: str | None = field_for(name) if field_for else name
        if field not in form.fields:
            field = None
        for message in messages:
            form.add_error(field, message)


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time typed on the program's wall clock (the zone active for the request).

    Django refuses a wall time that is ambiguous or skipped in the current zone. On the
    fall-back night "01:30" happens twice, and a clinician recording an assessment given at
    01:30, or a participant saying when they used, must not be turned away: the first (daylight)
    occurrence is taken. A time the spring-forward jump skipped (02:30) is read with the offset
    in force before the jump, as zoneinfo does. A value that carries its own offset keeps it.
    """

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return self._on_wall_clock(value)
        if isinstance(value, date):
            return self._on_wall_clock(datetime(value.year, value.month, value.day))  # noqa: DTZ001 - made aware just below
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parsed is None:
            # The field's own input formats (strptime gives a naive wall-clock value).
            parsed = forms.fields.BaseTemporalField.to_python(self, value)
        return None if parsed is None else self._on_wall_clock(parsed)

    @staticmethod
    def _on_wall_clock(value: datetime) -> datetime:
        if timezone.is_aware(value):
            return value
        return value.replace(tzinfo=timezone.get_current_timezone(), fold=0)
