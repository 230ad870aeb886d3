"""Writes for organisations, programs and tracks (used by seed, admin and tests)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.programs.models import (
    Organisation,
    Program,
    Track,
    validate_rule_pack,
    validate_time_zone,
)


def _full_clean(obj: Program | Track | Organisation) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ActionError(exc.message_dict) from None


def _check_program_settings(program: Program) -> None:
    errors: dict[str, str | list[str]] = {}
    for field, validator in (("time_zone", validate_time_zone), ("rule_pack", validate_rule_pack)):
        try:
            validator(getattr(program, field))
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    if errors:
        raise ActionError(errors)


@transaction.atomic
def organisation_create(*, actor: User | None, name: str) -> Organisation:
    org = Organisation(name=name.strip(), created_by=actor)
    _full_clean(org)
    org.save()
    audit_record(actor=actor, action="create", obj=org)
    return org


@transaction.atomic
def program_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    level_of_care: str,
    population: str,
    time_zone: str,
    rule_pack: str,
    record_prefix: str = "P",
) -> Program:
    program = Program(
        organisation=organisation,
        name=name.strip(),
        level_of_care=level_of_care,
        population=population,
        time_zone=time_zone,
        rule_pack=rule_pack,
        record_prefix=record_prefix,
        created_by=actor,
    )
    _full_clean(program)
    _check_program_settings(program)
    program.save()
    audit_record(actor=actor, action="create", obj=program, program=program)
    return program


@transaction.atomic
def track_create(
    *, actor: User | None, program: Program, name: str, code: str, focus: str, description: str = ""
) -> Track:
    track = Track(
        program=program,
        name=name.strip(),
        code=code.strip().upper(),
        focus=focus,
        description=description,
        created_by=actor,
    )
    _full_clean(track)
    track.save()
    audit_record(actor=actor, action="create", obj=track, program=program)
    return track


def _set_program_setting(*, actor: User, program: Program, field: str, value: object) -> Program:
    """Write one validated program setting on the locked row, keep the caller's instance in
    step, and audit the change as [before, after]."""
    locked = Program.objects.select_for_update().get(pk=program.pk)
    before = getattr(locked, field)
    setattr(locked, field, value)
    locked.save(update_fields=[field, "updated_at"])
    setattr(program, field, value)
    audit_record(
        actor=actor, action="update", obj=locked, program=locked, detail={field: [before, value]}
    )
    return locked


SAFETY_HIGH_ESCALATE_RANGE = (1, 60)


@transaction.atomic
def program_safety_settings_update(
    *, actor: User, program: Program, high_escalate_minutes: int
) -> Program:
    """How many minutes an unacknowledged high-severity safety event waits before it
    escalates (clinical.md section 6). Kept short: the default is 5."""
    low, high = SAFETY_HIGH_ESCALATE_RANGE
    value = high_escalate_minutes
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(
            {"safety_high_escalate_minutes": f"Choose a whole number of minutes, {low}-{high}."}
        )
    return _set_program_setting(
        actor=actor, program=program, field="safety_high_escalate_minutes", value=value
    )


@transaction.atomic
def program_portal_settings_update(
    *, actor: User, program: Program, shows_severity: bool
) -> Program:
    """Whether the portal shows participants the severity label beside each questionnaire
    score. Off by default (clinicians' choice, docs/measures.md): turning it on is a
    deliberate, audited decision of the program."""
    if not isinstance(shows_severity, bool):
        raise ActionError({"portal_shows_severity": "Choose yes or no."})
    return _set_program_setting(
        actor=actor, program=program, field="portal_shows_severity", value=shows_severity
    )


def _video_template_error(template: str) -> str:
    if not template:
        return ""
    if not template.startswith("https://") or "{room}" not in template:
        return 'Give the provider\'s https:// address with "{room}" where the room goes.'
    if len(template) > 300 or any(ch.isspace() for ch in template):
        return "Give one address, without spaces, of at most 300 characters."
    return ""


@transaction.atomic
def program_telehealth_settings_update(
    *, actor: User, program: Program, video_link_template: str, in_person_place_of_service: str
) -> Program:
    """The video provider's link template for virtual and hybrid sessions, and the
    place-of-service code of in-person sessions (docs/self-sign-in.md)."""
    template = video_link_template.strip()
    errors = {}
    if message := _video_template_error(template):
        errors["video_link_template"] = message
    pos = in_person_place_of_service.strip()
    if not (len(pos) == 2 and pos.isdigit()):
        errors["in_person_place_of_service"] = "Give the two-digit place-of-service code (11)."
    if errors:
        raise ActionError(errors)
    for field, value in (("video_link_template", template), ("in_person_place_of_service", pos)):
        if getattr(program, field) != value:
            _set_program_setting(actor=actor, program=program, field=field, value=value)
    return program


NOT_ON_TRACK_IMPROVEMENT_RANGE = (4, 30)  # the constraint program_not_on_track_improvement_range


@transaction.atomic
def program_outcome_settings_update(
    *, actor: User, program: Program, improvement_percent: int
) -> Program:
    """The not-on-track standard: the share of the intake an episode's trend must show gone
    by week 4 (openiop.measures.outcomes.TrendSignal). The validation's trade-off is shown
    beside the setting (docs/outcomes-validation.md)."""
    low, high = NOT_ON_TRACK_IMPROVEMENT_RANGE
    value = improvement_percent
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(
            {"not_on_track_improvement_percent": f"Choose a whole percentage, {low}-{high}."}
        )
    return _set_program_setting(
        actor=actor, program=program, field="not_on_track_improvement_percent", value=value
    )


@transaction.atomic
def program_settings_update(
    *,
    actor: User,
    program: Program,
    improvement_percent: int,
    shows_severity: bool,
    high_escalate_minutes: int,
    video_link_template: str | None = None,
    in_person_place_of_service: str | None = None,
) -> Program:
    """The program settings page's save: all settings or none. Only the settings that
    changed are written (and audited)."""
    errors: dict[str, list[str]] = {}

    def attempt(write: Callable[[], Program]) -> None:
        try:
            write()
        except ActionError as error:
            errors.update(error.errors)

    if program.not_on_track_improvement_percent != improvement_percent:
        attempt(
            partial(
                program_outcome_settings_update,
                actor=actor,
                program=program,
                improvement_percent=improvement_percent,
            )
        )
    if program.portal_shows_severity != shows_severity:
        attempt(
            partial(
                program_portal_settings_update,
                actor=actor,
                program=program,
                shows_severity=shows_severity,
            )
        )
    if program.safety_high_escalate_minutes != high_escalate_minutes:
        attempt(
            partial(
                program_safety_settings_update,
                actor=actor,
                program=program,
                high_escalate_minutes=high_escalate_minutes,
            )
        )
    if video_link_template is not None or in_person_place_of_service is not None:
        attempt(
            partial(
                program_telehealth_settings_update,
                actor=actor,
                program=program,
                video_link_template=program.video_link_template
                if video_link_template is None
                else video_link_template,
                in_person_place_of_service=in_person_place_of_service
                or program.in_person_place_of_service,
            )
        )
    if errors:
        raise ActionError(errors)  # rolls back any setting already written
    return program
