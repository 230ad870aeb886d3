from __future__ import annotations

from django import forms

from openiop.medical.actions import MAX_NOTE
from openiop.medical.models import NaloxoneOutcome


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="What the medical review found and arranged",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_NOTE,
    )


class NaloxoneForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Naloxone offer", choices=NaloxoneOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=MAX_NOTE,
        required=False,
    )
