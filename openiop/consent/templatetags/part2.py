"""`access|can:"consent.view"`: lets a template shared with another app show a link only to
members whose role grants the permission, without that app's view knowing about it."""

from __future__ import annotations

from django import template

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm

register = template.Library()


@register.filter
def can(access: ProgramAccess | None, perm: str) -> bool:
    return access is not None and access.can(Perm(perm))
