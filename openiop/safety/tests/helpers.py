"""Tiny builders for safety tests: the real actions underneath (style rule 18)."""

from __future__ import annotations

from openiop.accounts.models import Membership
from openiop.accounts.roles import Role
from openiop.safety import actions
from openiop.safety.models import SafetyEvent
from openiop.testing import World, make_staff


def on_call(world: World):
    """A second clinician in program A who is on call."""
    user = make_staff(world.program_a, Role.CLINICIAN, first="Oona")
    Membership.objects.filter(user=user, program=world.program_a).update(is_on_call=True)
    return user


def raise_event(world: World, *, severity: str = "urgent", source: str = "staff") -> SafetyEvent:
    return actions.safety_event_raise(
        actor=world.clinician_a,
        participant=world.participant_a,
        source=source,
        severity=severity,
        detail="Said they had thoughts of not being here.",
    )
