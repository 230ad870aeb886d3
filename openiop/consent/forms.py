"""Forms for consents, revocation and releases. Field names match the action arguments so
an ActionError lands beside the right input."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.consent.models import (
    Consent,
    DisclosureBasis,
    InfoCategory,
    Purpose,
    RecipientType,
    SignerRelation,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class ConsentForm(forms.Form):
    # Required-ness is left to the action, so every missing §2.31 element is named at once.
    discloser_name = forms.CharField(
        max_length=200, required=False, label="Who may disclose (§2.31(a)(2))"
    )
    information = forms.MultipleChoiceField(
        choices=InfoCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="What information (§2.31(a)(3))",
    )
    information_description = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Description of the information",
        help_text="Optional: anything more specific, such as a date range.",
    )
    recipient_name = forms.CharField(max_length=200, required=False, label="Recipient's name")
    recipient_type = forms.ChoiceField(
        choices=[("", "Choose…"), *RecipientType.choices], required=False, label="Recipient type"
    )
    purposes = forms.MultipleChoiceField(
        choices=Purpose.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Purpose (§2.31(a)(5))",
    )
    purpose_text = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Purpose described",
        help_text="Required when the purpose is 'Other'.",
    )
    revocation_acknowledged = forms.BooleanField(
        required=False, label="The patient was told of, and acknowledged, the right to revoke"
    )
    expires_on = forms.DateField(widget=DATE_WIDGET, required=False, label="Expires on")
    expiry_event = forms.CharField(
        max_length=300,
        required=False,
        label="Or expires on this event or condition",
        help_text="e.g. 'on discharge from the program'.",
    )
    signed_by = forms.CharField(max_length=200, required=False, label="Signed by (name)")
    signer_relation = forms.ChoiceField(
        choices=[("", "Choose…"), *SignerRelation.choices], required=False, label="Signer is"
    )
    signer_authority = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Signer's authority",
        help_text="Required when someone other than the patient signs.",
    )
    signed_on = forms.DateField(widget=DATE_WIDGET, required=False, label="Date signed")


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(widget=DATE_WIDGET, label="Revocation received on")
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason (optional)",
    )


class ConsentChoiceField(forms.ModelChoiceField[Consent]):
    def label_from_instance(self, obj: Consent) -> str:
        if obj.expires_on:
            until = f"until {obj.expires_on:%Y-%m-%d}"
        else:
            until = f"until {obj.expiry_event[:60]}" if obj.expiry_event else "no end date"
        return f"{obj.recipient_name} · signed {obj.signed_on:%Y-%m-%d} · {until}"


class ReleaseForm(forms.Form):
    basis = forms.ChoiceField(choices=DisclosureBasis.choices, label="Basis for the disclosure")
    consent = ConsentChoiceField(
        queryset=Consent.objects.none(),
        to_field_name="external_id",
        required=False,
        label="Consent relied on",
        help_text="Only active consents are listed.",
    )
    recipient = forms.CharField(max_length=200, label="Recipient")
    purpose = forms.ChoiceField(choices=Purpose.choices)
    purpose_text = forms.CharField(max_length=500, required=False, label="Purpose described")
    medical_personnel = forms.CharField(
        max_length=200, required=False, help_text="Medical emergency: who received it."
    )
    affiliation = forms.CharField(max_length=200, required=False, label="Their affiliation")
    nature_of_emergency = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    order_reference = forms.CharField(
        max_length=200, required=False, help_text="Court order: docket or order number."
    )

    def __init__(self, *args: Any, consents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["consent"]
        assert isinstance(field, ConsentChoiceField)
        field.queryset = consents

    def basis_details(self) -> dict[str, str]:
        """Only the details filled in: the gate refuses details foreign to the basis."""
        data = self.cleaned_data
        keys = ("medical_personnel", "affiliation", "nature_of_emergency", "order_reference")
        return {key: data[key] for key in keys if data.get(key)}
