"""Portal forms: they parse what the browser sends into plain values; the actions decide
what is valid (ranges, enums, the treatment-plan link), so the web and API agree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from openiop.core.forms import WallClockDateTimeField
from openiop.curriculum.schema import HomeworkField
from openiop.measures.forms import ItemsForm
from openiop.measures.instruments import Item, Option
from openiop.portal.models import (
    DIARY_EMOTIONS,
    SAFETY_PLAN_STEPS,
    CheckInKind,
    GoalStatus,
    Medication,
)

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(label: _StrOrPromise, **kwargs: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        **kwargs,
    )


def _scale(label: _StrOrPromise, top: int) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[(str(i), str(i)) for i in range(top + 1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class IdempotentForm(forms.Form):
    # A fresh key per rendered form; a resend of the same form reuses it (REL-01).
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def _set_skills(self, skills: list[str]) -> None:
        field = self.fields["skills_used"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(s, s) for s in skills]


class CheckInForm(IdempotentForm):
    kind = forms.ChoiceField(
        label=_("This check-in is"), choices=CheckInKind.choices, widget=forms.RadioSelect
    )
    mood = _scale(_("Mood right now (0 = worst, 10 = best)"), 10)
    craving = _scale(_("Craving right now (0 = none, 10 = strongest)"), 10)
    used_since_last = _yes_no(_("Have you used alcohol or drugs since your last check-in?"))
    use_what = forms.CharField(label=_("What did you use?"), required=False, max_length=200)
    use_when = WallClockDateTimeField(
        label=_("When?"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    sleep_hours = forms.DecimalField(
        label=_("Hours slept last night"), min_value=0, max_value=24, decimal_places=1
    )
    skills_used = forms.MultipleChoiceField(
        label=_("Skills you used"), required=False, widget=forms.CheckboxSelectMultiple
    )
    medication = forms.ChoiceField(
        label=_("Did you take your medication as prescribed?"),
        choices=Medication.choices,
        widget=forms.RadioSelect,
    )
    safety_concern = _yes_no(
        _(
            "Are you having thoughts of harming yourself or ending your life, or do you feel "
            "unsafe right now?"
        )
    )
    bring_to_group = forms.CharField(
        label=_("What I want to bring to group today"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args: Any, skills: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_skills(skills)


class GoalForm(IdempotentForm):
    text = forms.CharField(label=_("My goal this week"), max_length=300)
    objective = forms.ChoiceField(label=_("It works towards"), required=False)
    share_in_group = _yes_no(_("Share my progress on this goal in group?"), initial="yes")

    def __init__(self, *args: Any, objectives: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["objective"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Choose an objective"))] + [
            (str(o.external_id), o.statement) for o in objectives
        ]


class GoalUpdateForm(IdempotentForm):
    status = forms.ChoiceField(
        label=_("How did it go?"),
        choices=[(s.value, s.label) for s in GoalStatus if s != GoalStatus.OPEN],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What happened (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    share_in_group = _yes_no(_("Share this update in group?"), initial="yes")


class DiaryForm(IdempotentForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    urge_use = _scale(_("Urge to use (0-5)"), 5)
    urge_self_harm = _scale(_("Urge to harm myself (0-5)"), 5)
    suicidal_ideation = _scale(_("Thoughts of ending my life (0 = none, 5 = strongest)"), 5)
    used_substance = _yes_no(_("Did you use alcohol or drugs?"))
    self_harm_action = _yes_no(_("Did you harm yourself?"))
    actions_taken = forms.CharField(
        max_length=2000,
        label=_("Other actions I took"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    skills_used = forms.MultipleChoiceField(
        label=_("Skills I used"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        max_length=2000, label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, skills: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in DIARY_EMOTIONS:
            self.fields[f"emotion_{name}"] = _scale(f"{gettext(label)} (0-5)", 5)
        self._set_skills(skills)

    def emotion_fields(self) -> list[forms.BoundField]:
        return [self[f"emotion_{name}"] for name, _ in DIARY_EMOTIONS]

    def emotions(self) -> dict[str, int]:
        return {name: self.cleaned_data[f"emotion_{name}"] for name, _ in DIARY_EMOTIONS}


class WorksheetForm(IdempotentForm):
    """Built from the plan's homework template; every field optional (a worksheet can be
    sent part-done), at least one filled in (checked by the action)."""

    def __init__(self, *args: Any, fields: tuple[HomeworkField, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in fields:
            self.fields[spec.name] = _worksheet_field(spec)

    def answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "idempotency_key"}


def _worksheet_field(spec: HomeworkField) -> forms.Field:
    if spec.type == "text":
        return forms.CharField(
            label=spec.label, required=False, widget=forms.Textarea(attrs={"rows": 2})
        )
    if spec.type in ("number_0_10", "number_0_100"):
        top = 10 if spec.type == "number_0_10" else 100
        return forms.IntegerField(
            label=spec.label,
            required=False,
            min_value=0,
            max_value=top,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )
    if spec.type == "choice":
        return forms.ChoiceField(
            label=spec.label,
            required=False,
            choices=[("", gettext("Choose"))] + [(c, c) for c in spec.choices],
        )
    return WallClockDateTimeField(
        label=spec.label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M"],
    )


class SafetyPlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, heading, prompt in SAFETY_PLAN_STEPS:
            self.fields[name] = forms.CharField(
                label=gettext(heading),
                help_text=gettext(prompt),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def steps(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name, _, _ in SAFETY_PLAN_STEPS}


class ParticipantSafetyPlanForm(SafetyPlanForm, IdempotentForm):
    pass


class MeasureForm(ItemsForm, IdempotentForm):
    """An outcome measure the participant completes themself: the staff form's radio groups,
    in the instrument's own order and in plain words, with no codes, time or sex to give.
    Every answer given is kept, including one to a question the form's skip logic would have
    skipped, and a partly answered form is stored (`actions.measure_complete`)."""

    def item_label(self, item: Item) -> str:
        return f"{item.number}. {capfirst(item.label)}"

    def option_label(self, option: Option) -> str:
        return str(capfirst(option.label))
