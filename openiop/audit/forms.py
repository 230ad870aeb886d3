"""The audit report's filter form. Dates are whole days in the program's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet

from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.selectors import AuditFilters, participant_ref
from openiop.core import clock
from openiop.programs.models import Program


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        to_field_name="external_id",
        required=False,
        label="User",
        empty_label="Anyone",
    )
    participant = forms.CharField(
        required=False,
        max_length=64,
        label="Participant",
        help_text="Record number or participant id.",
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditAction.choices], required=False, label="Action"
    )
    break_glass = forms.BooleanField(required=False, label="Break-glass only")
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, program: Program, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = staff

    def clean_participant(self) -> str:
        text: str = self.cleaned_data.get("participant") or ""
        if text.strip():
            found = participant_ref(program=self.program, text=text)
            if found is None:
                raise forms.ValidationError(
                    "No participant of this program has that record number or id."
                )
            self.cleaned_data["participant_id"] = found
        return text.strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” must be the same day as “From” or later.")
        return data

    def filters(self) -> AuditFilters:
        """The validated filters; an unbound form means no filters."""
        if not self.is_bound:
            return AuditFilters()
        data = self.cleaned_data
        zone = clock.zone(self.program)
        user = data.get("user")
        return AuditFilters(
            start=_day_start(data.get("date_from"), zone),
            end=_day_start(data["date_to"] + timedelta(days=1), zone)
            if data.get("date_to")
            else None,
            actor_id=user.pk if user is not None else None,
            participant=data.get("participant_id"),
            action=data.get("action") or "",
            break_glass_only=bool(data.get("break_glass")),
        )


def _day_start(day: date | None, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=zone) if day else None
