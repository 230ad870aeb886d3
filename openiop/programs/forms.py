"""The program settings page's form (the actions validate again; the form gives the fields)."""

from __future__ import annotations

from django import forms

from openiop.programs.actions import NOT_ON_TRACK_IMPROVEMENT_RANGE, SAFETY_HIGH_ESCALATE_RANGE


class ProgramSettingsForm(forms.Form):
    not_on_track_improvement_percent = forms.IntegerField(
        label="Not-on-track standard: improvement required by week 4 (%)",
        min_value=NOT_ON_TRACK_IMPROVEMENT_RANGE[0],
        max_value=NOT_ON_TRACK_IMPROVEMENT_RANGE[1],
        help_text=(
            "A participant is flagged when their questionnaire trend shows less than this "
            "share of their intake score gone by week 4. The table beside it shows the trade-off."
        ),
    )
    portal_shows_severity = forms.BooleanField(
        label="Show participants severity labels in the portal",
        required=False,
        help_text="Off by default: the portal shows scores and the trend in plain words.",
    )
    safety_high_escalate_minutes = forms.IntegerField(
        label="Minutes before an unacknowledged high-severity safety event escalates",
        min_value=SAFETY_HIGH_ESCALATE_RANGE[0],
        max_value=SAFETY_HIGH_ESCALATE_RANGE[1],
    )
    video_link_template = forms.CharField(
        label="Video link template for virtual and hybrid groups",
        required=False,
        max_length=300,
        help_text="Your video provider's room address with {room} where the room goes, e.g. "
        '"https://video.example.org/{room}". The room is a code made from the session, never a '
        "name.",
    )
    in_person_place_of_service = forms.CharField(
        label="Place-of-service code for in-person sessions",
        required=False,
        max_length=2,
        help_text="11 (office) unless your billing uses another; video sessions use 10.",
    )
