"""Forms for the plan pages. Field names match the action arguments so errors land in place."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.treatment.models import ItemStatus

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class VersionedForm(forms.Form):
    # The plan version the editor read; the template writes the current one into each form.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PlanCreateForm(forms.Form):
    effective_on = forms.DateField(widget=DATE_WIDGET, label="Plan starts")
    review_on = forms.DateField(
        widget=DATE_WIDGET, label="Review by", help_text="Within 90 days of the start."
    )
    participant_statement = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="In the participant's words",
        help_text="What they want from treatment, quoted where possible.",
    )


class ReviewForm(VersionedForm):
    reviewed_on = forms.DateField(widget=DATE_WIDGET, label="Reviewed on")
    next_review_on = forms.DateField(widget=DATE_WIDGET, label="Next review by")
    note = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Review note",
        help_text="Progress on each goal, what changes, and the participant's view.",
    )


class ProblemForm(VersionedForm):
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Problem", max_length=2000
    )


class GoalForm(VersionedForm):
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Goal",
        max_length=2000,
        help_text="Specific and achievable, in the participant's terms.",
    )
    measure = forms.CharField(
        max_length=300, label="Measured by", help_text="e.g. PHQ-9 below 10, days abstinent"
    )
    target_date = forms.DateField(widget=DATE_WIDGET, label="Target date")


class ObjectiveForm(VersionedForm):
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Objective", max_length=2000
    )
    target_date = forms.DateField(widget=DATE_WIDGET, label="Target date")


class InterventionForm(VersionedForm):
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Intervention", max_length=2000
    )
    frequency = forms.CharField(max_length=120, label="How often", help_text="e.g. 3 groups a week")
    responsible = forms.ChoiceField(required=False, label="Responsible staff member")
    curriculum_modules = forms.CharField(
        required=False,
        max_length=500,
        label="Curriculum modules",
        help_text="Module codes separated by commas, e.g. cbt, relapse_prevention",
    )

    def __init__(self, *args: Any, staff_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *staff_choices]

    def module_codes(self) -> list[str]:
        raw = self.cleaned_data.get("curriculum_modules") or ""
        return [code.strip() for code in raw.split(",") if code.strip()]


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=ItemStatus.choices, label="New status")
    reason = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label="Reason"
    )
