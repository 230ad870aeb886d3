"""Forms for the staff UI. Field names match the action arguments so errors land in place."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings

from openiop.accounts.models import User
from openiop.participants.models import (
    DischargeReason,
    Phase,
    PortalLanguage,
    SexForScoring,
    StepDownDestination,
)
from openiop.participants.selectors import Status
from openiop.programs.models import Track

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class DemographicsForm(forms.Form):
    legal_first_name = forms.CharField(max_length=100)
    legal_last_name = forms.CharField(max_length=100)
    preferred_name = forms.CharField(max_length=100, required=False)
    pronouns = forms.CharField(max_length=40, required=False, help_text="e.g. she/her, they/them")
    date_of_birth = forms.DateField(widget=DATE_WIDGET)
    sex_for_scoring = forms.ChoiceField(
        choices=SexForScoring.choices,
        initial=SexForScoring.UNKNOWN,
        help_text="Used only for instruments with sex-specific cut-offs.",
    )
    gender_identity = forms.CharField(max_length=100, required=False)
    language = forms.ChoiceField(
        label="Preferred language",
        choices=PortalLanguage.choices,
        initial=PortalLanguage.ENGLISH,
        required=False,
        help_text="The language of the participant's portal; they can change it there too.",
    )
    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(required=False)
    address = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    emergency_contact_name = forms.CharField(max_length=200, required=False)
    emergency_contact_relationship = forms.CharField(max_length=100, required=False)
    emergency_contact_phone = forms.CharField(max_length=32, required=False)

    def clean_language(self) -> str:
        # Left out of a post (an older client or form): keep what the record has.
        chosen = self.cleaned_data.get("language")
        return str(chosen or self.initial.get("language") or PortalLanguage.ENGLISH)


class EpisodeForm(forms.Form):
    track = forms.ModelChoiceField(queryset=Track.objects.none(), to_field_name="external_id")
    admitted_on = forms.DateField(widget=DATE_WIDGET, label="Admission date")
    primary_clinician = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="external_id"
    )
    phase = forms.ChoiceField(choices=Phase.choices, initial=Phase.ENGAGEMENT)

    def __init__(self, *args: Any, tracks: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track_field = self.fields["track"]
        assert isinstance(track_field, forms.ModelChoiceField)
        track_field.queryset = tracks
        clinician_field = self.fields["primary_clinician"]
        assert isinstance(clinician_field, forms.ModelChoiceField)
        clinician_field.queryset = clinicians


class AdmitForm(DemographicsForm, EpisodeForm):
    part2_notice_given = forms.BooleanField(
        required=False, label="Participant received the 42 CFR Part 2 notice (§2.22)"
    )


class EditForm(DemographicsForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class PhaseChangeForm(forms.Form):
    to_phase = forms.ChoiceField(choices=Phase.choices, label="New phase")
    effective_on = forms.DateField(widget=DATE_WIDGET, label="Effective from")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class DischargeForm(forms.Form):
    discharged_on = forms.DateField(widget=DATE_WIDGET, label="Discharge date")
    # No silent default: "Completed program" is preselected only late in the episode
    # (discharge_initial); otherwise the reason is chosen.
    reason = forms.ChoiceField(
        choices=[("", "Choose why the episode ends"), *DischargeReason.choices],
        error_messages={"required": "Choose why the episode ends."},
    )
    step_down_destination = forms.ChoiceField(
        choices=StepDownDestination.choices, label="Step-down destination"
    )
    note = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    keep_alumni = forms.BooleanField(
        required=False,
        label="Keep the portal as an alumni account",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep_alumni"].help_text = (
            "The participant keeps check-ins, their safety plan and 'Get help now' for "
            f"{settings.OPENIOP_ALUMNI_DAYS} days (no goals, diary, homework or questionnaires); "
            "their alerts go to on-call staff. Without it, discharge ends portal access."
        )


class FilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    track = forms.ModelChoiceField(
        queryset=Track.objects.none(), to_field_name="external_id", required=False
    )
    phase = forms.ChoiceField(choices=[("", "Any phase"), *Phase.choices], required=False)
    clinician = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="external_id", required=False
    )
    status = forms.ChoiceField(choices=Status.CHOICES, required=False, initial=Status.ACTIVE)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, tracks: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track_field = self.fields["track"]
        assert isinstance(track_field, forms.ModelChoiceField)
        track_field.queryset = tracks
        track_field.empty_label = "Any track"
        clinician_field = self.fields["clinician"]
        assert isinstance(clinician_field, forms.ModelChoiceField)
        clinician_field.queryset = clinicians
        clinician_field.empty_label = "Any clinician"


def phase_change_initial(current: str, today: date) -> dict[str, Any]:
    """The change-phase form's defaults: today, and the phase after the current one (TIP 47
    order); the last phase offers no default move."""
    order = list(Phase.values)
    index = order.index(current) if current in order else -1
    following = order[index + 1] if 0 <= index < len(order) - 1 else ""
    return {"effective_on": today, "to_phase": following}


def discharge_initial(phase: str, today: date) -> dict[str, Any]:
    """The discharge form's defaults: today, outpatient step-down, and "Completed program"
    only once the participant is in maintenance or community integration."""
    late = phase in (Phase.MAINTENANCE, Phase.COMMUNITY_INTEGRATION)
    return {
        "discharged_on": today,
        "reason": DischargeReason.COMPLETED if late else "",
        "step_down_destination": StepDownDestination.OUTPATIENT,
    }
