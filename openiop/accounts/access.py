"""Typed permission checks. Every view starts with one of these (style rule 11): outsiders
get 404 (the object does not exist for them), members without the permission 403. Program
pages get both from `@requires(Perm.X)`, which resolves the program and hands the view a
typed `ProgramAccess` on `request.access`."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone

from openiop.accounts.models import BreakGlassGrant, Membership, User, UserKind
from openiop.accounts.requests import request_user
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
P = ParamSpec("P")
R = TypeVar("R")
PUBLIC = "public"
SIGNED_IN = "signed_in"
# The participant portal: a participant account, and only its own records (AUTH-01).
PARTICIPANT_SELF = "participant_self"


class ProgramRequest(HttpRequest):
    """A request that `@requires` has let through: `access` is the acting user's resolved
    access to the program named by the URL's `program_id`. Only for type checking; the
    object is Django's own request with the attribute set."""

    access: ProgramAccess


def requires(
    perm: Perm,
) -> Callable[
    [Callable[Concatenate[ProgramRequest, P], R]], Callable[Concatenate[HttpRequest, P], R]
]:
    """Declare and enforce the program permission a view needs.

    The program comes from the URL's `program_id`: outsiders get 404, members without
    `perm` 403, before the view runs. The view then finds the resolved access on
    `request.access` (annotate the parameter as `ProgramRequest`). A view that needs a
    further permission for one method checks it with `request.access.require(...)`.
    """

    def decorate(
        view: Callable[Concatenate[ProgramRequest, P], R],
    ) -> Callable[Concatenate[HttpRequest, P], R]:
        @functools.wraps(view)
        def enforced(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if "program_id" not in kwargs:
                raise TypeError(f"{view.__qualname__}: @requires needs a program_id URL kwarg")
            access = program_access(request_user(request), kwargs["program_id"])  # type: ignore[arg-type]
            access.require(perm)
            program_request = cast(ProgramRequest, request)
            program_request.access = access
            return view(program_request, *args, **kwargs)

        enforced.openiop_access = perm  # type: ignore[attr-defined]
        return enforced

    return decorate


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
