"""The clinician entry form: one radio group per item, option labels from the data file.
Its base, `ItemsForm`, also builds the participant's form in the portal.

Critical items come first so they are never skipped at the bottom of a long form. The form
carries no ids, author, status or program (AC-05): only answers, time and sex for scoring.
"""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import WallClockDateTimeField
from openiop.measures.instruments import SEXES, Instrument, Item, Option


class ItemRadios(forms.RadioSelect):
    """Radios whose group id is the fieldset's, so the error summary links to the item."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return id_ if index is None else super().id_for_label(id_, index)


def item_field_name(item: Item) -> str:
    return f"item_{item.name}" if isinstance(item.ref, str) else f"item_{item.number}"


def ordered_items(instrument: Instrument) -> list[tuple[int, Item]]:
    """(position, item) with critical items first, each group in item order."""
    indexed = list(enumerate(instrument.items))
    return [p for p in indexed if p[1].critical] + [p for p in indexed if not p[1].critical]


def critical_warning(item: Item) -> str:
    return f"Item {item.ref} endorsed: follow the safety workflow."


class ItemsForm(forms.Form):
    """One radio group per item of `instrument`, option labels from the data file. Subclasses
    choose the order and wording (clinician or participant); `answers()` is always in item
    order, as the scoring core takes it."""

    item_help = ""

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in self.item_order():
            self.fields[item_field_name(item)] = forms.TypedChoiceField(
                label=self.item_label(item),
                choices=[(o.code, self.option_label(o)) for o in item.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=ItemRadios,
                help_text=self.item_help,
            )

    def item_order(self) -> list[Item]:
        return list(self.instrument.items)

    def item_label(self, item: Item) -> str:
        return item.label

    def option_label(self, option: Option) -> str:
        return option.label

    def answers(self) -> list[int | None]:
        return [self.cleaned_data.get(item_field_name(item)) for item in self.instrument.items]

    def raw_answers(self) -> list[int | None]:
        """The submitted codes in item order before validation (None where blank or not a
        number), so that a critical answer is acted on even when another field is wrong."""
        names = [self.add_prefix(item_field_name(item)) for item in self.instrument.items]
        raw = [str(self.data.get(name) or "") for name in names]
        return [int(value) if value.isdigit() else None for value in raw]

    def field_for_error(self, key: str) -> str | None:
        """Map an action's error key (`answers[3]`, `sex`) to this form's field."""
        if key.startswith("answers[") and key.endswith("]"):
            index = int(key[len("answers[") : -1])
            if 0 <= index < len(self.instrument.items):
                return item_field_name(self.instrument.items[index])
            return None
        return key if key in self.fields else None


class AssessmentEntryForm(ItemsForm):
    administered_at = WallClockDateTimeField(
        label="Completed at",
        help_text="Date and time the participant completed it (YYYY-MM-DD HH:MM).",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    item_help = "Leave blank if skipped or not answered."

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, instrument=instrument, **kwargs)
        if instrument.needs_sex:
            self.fields["sex"] = forms.ChoiceField(
                label="Sex used for scoring",
                choices=[("", "As recorded for the participant")] + [(s, s) for s in SEXES],
                required=False,
                help_text="The positive-screen cutoff of this instrument depends on it.",
            )

    def item_order(self) -> list[Item]:
        return [item for _, item in ordered_items(self.instrument)]

    def item_label(self, item: Item) -> str:
        label = f"Item {item.ref}: {item.label}"
        return label if item.scored else f"{label} (not scored)"

    def option_label(self, option: Option) -> str:
        return f"{option.code} — {option.label}"

    def endorsed_critical(self) -> list[str]:
        """Warnings for critical items endorsed in the submitted data (bound forms only)."""
        if not self.is_bound:
            return []
        warnings = []
        for item in self.instrument.items:
            raw = str(self.data.get(self.add_prefix(item_field_name(item))) or "")
            if item.critical and raw.isdigit() and item.critical.holds(int(raw)):
                warnings.append(critical_warning(item))
        return warnings


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label="Why was this entered in error?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label="Instrument")
    cadences = forms.MultipleChoiceField(
        label="When to give it",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Choose none to stop giving it. Cadences must fit the recall window.",
    )

    def __init__(
        self,
        *args: Any,
        instruments: list[tuple[str, str]],
        cadences: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = instruments  # type: ignore[attr-defined]
        self.fields["cadences"].choices = cadences  # type: ignore[attr-defined]
