"""Typed permission checks. Every view starts with one of these helpers (style rule 11):
outsiders get 404 (the object does not exist for them), members without the permission 403."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from openiop.accounts.models import BreakGlassGrant, Membership, User, UserKind
from openiop.accounts.roles import Perm, Role, role_matrix
from openiop.core import clock
from openiop.core.middleware import current_break_glass
from openiop.programs.models import Program


@dataclass(frozen=True)
class ProgramAccess:
    """What one staff user may do in one program, resolved with a single query."""

    user: User
    program: Program
    roles: frozenset[str]
    break_glass: bool = False

    def can(self, perm: Perm) -> bool:
        matrix = role_matrix()
        return any(matrix.allows(role, perm) for role in self.roles)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise PermissionDenied(f"missing permission {perm.value}")


def program_access(user: User, program_id: uuid.UUID | str) -> ProgramAccess:
    """Resolve the acting user's roles in a program; 404 when they are not a member."""
    if not user.is_authenticated or user.kind != UserKind.STAFF or not user.is_active:
        raise Http404("program not found")
    memberships = list(
        Membership.objects.filter(
            user=user, program__external_id=program_id, is_active=True
        ).select_related("program", "program__organisation")
    )
    if not memberships:
        return _break_glass_access(user, program_id)
    clock.use_program_zone(memberships[0].program)
    return ProgramAccess(
        user=user,
        program=memberships[0].program,
        roles=frozenset(m.role for m in memberships),
    )


def roles_in_program(user: User, program: Program) -> frozenset[str]:
    if user.kind != UserKind.STAFF or not user.is_active:
        return frozenset()
    return frozenset(
        Membership.objects.filter(user=user, program=program, is_active=True).values_list(
            "role", flat=True
        )
    )


def has_perm(user: User, program: Program, perm: Perm) -> bool:
    matrix = role_matrix()
    return any(matrix.allows(role, perm) for role in roles_in_program(user, program))


def _break_glass_access(user: User, program_id: uuid.UUID | str) -> ProgramAccess:
    """Read-only access under an active break-glass grant; every audit event is flagged."""
    grant = (
        BreakGlassGrant.objects.filter(
            user=user,
            program__external_id=program_id,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("program", "program__organisation")
        .first()
    )
    if grant is None:
        raise Http404("program not found")
    current_break_glass.set(True)
    clock.use_program_zone(grant.program)
    return ProgramAccess(
        user=user,
        program=grant.program,
        roles=frozenset({Role.BREAK_GLASS.value}),
        break_glass=True,
    )


# --- Route declarations (AC-01) ---------------------------------------------------------
# Every view says who may use it. The URL-walking tests read these declarations, so a new
# route without one fails the suite, and the role-matrix test checks each declaration
# against what the view actually allows.

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
SIGNED_IN = "signed_in"
# The participant portal: a participant account, and only its own records (AUTH-01).
PARTICIPANT_SELF = "participant_self"


def requires(perm: Perm) -> Callable[[F], F]:
    """Declare the program permission a view checks with `ProgramAccess.require`."""

    def mark(view: F) -> F:
        view.openiop_access = perm  # type: ignore[attr-defined]
        return view

    return mark


def signed_in(view: F) -> F:
    """Any signed-in account (its own settings, log-out, second factor)."""
    view.openiop_access = SIGNED_IN  # type: ignore[attr-defined]
    return view


def participant_self(view: F) -> F:
    """A participant's own portal page; the view resolves the participant from the account
    (`portal.selectors.participant_for`), so no URL can name someone else."""
    view.openiop_access = PARTICIPANT_SELF  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """No log-in needed; also exempts the view from the log-in redirect."""
    from django.contrib.auth.decorators import login_not_required

    view.openiop_access = PUBLIC  # type: ignore[attr-defined]
    return login_not_required(view)


def declared_access(view: Callable[..., Any]) -> str | Perm | None:
    return getattr(view, "openiop_access", None)
