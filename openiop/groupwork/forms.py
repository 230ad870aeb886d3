from __future__ import annotations

from typing import Any

from django import forms

from openiop.groupwork.actions import FEEDBACK_THEMES


class TimeForm(forms.Form):
    at = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))


class AbsentForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)
    excused = forms.BooleanField(required=False)


class PracticeForm(forms.Form):
    skill = forms.ChoiceField(choices=[])
    role_taken = forms.ChoiceField(choices=[], required=False, label="Role taken")
    rating = forms.TypedChoiceField(
        choices=[("", "Not rated")] + [(str(i), str(i)) for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        label="Facilitator rating (1–5)",
    )
    feedback_themes = forms.MultipleChoiceField(
        choices=[(t, t) for t in FEEDBACK_THEMES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Peer feedback themes",
    )
    comment = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, skills: list[str], roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        skill_field = self.fields["skill"]
        assert isinstance(skill_field, forms.ChoiceField)
        skill_field.choices = [(s, s) for s in skills]
        role_field = self.fields["role_taken"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [("", "—")] + [(r, r) for r in roles]


class SharedNoteForm(forms.Form):
    shared_topic = forms.CharField(max_length=300, required=False, label="Topic")
    shared_interventions = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Interventions",
    )
    shared_process = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Group process",
    )


class OverrideForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class AddendumForm(forms.Form):
    reason = forms.CharField(max_length=300)
    text = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
