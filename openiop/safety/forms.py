"""Forms never carry ids, authors, status or program (AC-05): those come from the URL and
the signed-in user."""

from __future__ import annotations

from django import forms

from openiop.safety.actions import MAX_DETAIL, MAX_TEXT, RECORDABLE
from openiop.safety.models import Severity


class RaiseForm(forms.Form):
    severity = forms.ChoiceField(
        choices=Severity.choices,
        initial=Severity.URGENT,
        help_text="High risk means immediate precautions (intent, plan or recent behaviour).",
    )
    detail = forms.CharField(
        max_length=MAX_DETAIL,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What prompted this, in your words. Do not paste the participant's messages.",
    )


class StepForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k.value, k.label) for k in RECORDABLE], label="What was done"
    )
    text = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Details",
    )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done and what happens next.",
    )
    cssrs_not_done_reason = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why no C-SSRS was recorded",
        help_text="Needed only when no C-SSRS screen is recorded on this event.",
    )
    safety_plan_not_reviewed_reason = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why the safety plan was not reviewed",
        help_text="Needed only when no safety-plan review is recorded on this event.",
    )
