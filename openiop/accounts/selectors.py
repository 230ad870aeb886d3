from __future__ import annotations

from django.db.models import QuerySet

from openiop.accounts.models import Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.programs.models import Program


def programs_for_user(*, user: User) -> QuerySet[Program]:
    if user.kind != UserKind.STAFF:
        return Program.objects.none()
    return (
        Program.objects.filter(memberships__user=user, memberships__is_active=True)
        .select_related("organisation")
        .distinct()
        .order_by("name")
    )


def clinicians_for_program(*, program: Program) -> QuerySet[User]:
    """Staff who can carry a caseload: clinicians, supervisors and directors."""
    roles = [Role.CLINICIAN, Role.SUPERVISOR, Role.PROGRAM_DIRECTOR]
    ids = Membership.objects.filter(program=program, is_active=True, role__in=roles).values(
        "user_id"
    )
    return User.objects.filter(id__in=ids, kind=UserKind.STAFF, is_active=True).order_by(
        "last_name", "first_name"
    )
