"""One helper puts an action's refusal on a form, for every app's views."""

from __future__ import annotations

from django import forms

from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors


class _Form(forms.Form):
    reason = forms.CharField(required=False)
    item_1 = forms.IntegerField(required=False)


def _bound() -> _Form:
    form = _Form(data={"reason": "x", "item_1": "1"})
    assert form.is_valid()
    return form


def test_messages_go_beside_the_field_they_name():
    form = _bound()
    apply_action_errors(form, ActionError({"reason": ["Say why.", "Be brief."]}))
    assert form.errors["reason"] == ["Say why.", "Be brief."]
    assert form.non_field_errors() == []


def test_a_field_the_form_lacks_becomes_a_form_wide_error():
    form = _bound()
    apply_action_errors(form, ActionError({"program": "Not yours.", "reason": "Say why."}))
    assert form.non_field_errors() == ["Not yours."]
    assert form.errors["reason"] == ["Say why."]


def test_a_mapping_renames_action_fields_and_none_means_form_wide():
    form = _bound()
    mapping = {"answers[0]": "item_1", "answers[9]": None}
    apply_action_errors(
        form,
        ActionError({"answers[0]": "Pick one.", "answers[9]": "No such item."}),
        field_for=mapping.get,
    )
    assert form.errors["item_1"] == ["Pick one."]
    assert form.non_field_errors() == ["No such item."]
