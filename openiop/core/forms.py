"""Form helpers shared by every app's views."""

from __future__ import annotations

from collections.abc import Callable

from django import forms

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
