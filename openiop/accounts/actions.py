"""Writes for accounts: staff users and memberships."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.programs.models import Program


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ActionError({"password": list(exc.messages)}) from None


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    kind: UserKind = UserKind.STAFF,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    username = username.strip().lower()
    if not username:
        raise ActionError({"username": "Enter a username."})
    if User.objects.filter(username=username).exists():
        raise ActionError({"username": "That username is already taken."}, code="conflict")
    user = User(
        username=username,
        kind=kind,
        first_name=first_name,
        last_name=last_name,
        email=email,
        display_name=f"{first_name} {last_name}".strip(),
    )
    if kind == UserKind.SYSTEM:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    user.save()
    audit_record(actor=actor, action="create", obj=user, detail={"kind": kind})
    return user


@transaction.atomic
def membership_grant(*, actor: User | None, user: User, program: Program, role: Role) -> Membership:
    if user.kind != UserKind.STAFF:
        # AUTH-01: a participant account can never hold a staff role.
        raise ActionError({"user": "Only staff accounts can hold a program role."})
    membership, created = Membership.objects.get_or_create(
        user=user, program=program, role=role, defaults={"created_by": actor}
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="create" if created else "update",
        obj=membership,
        program=program,
        detail={"role": role.value, "user": str(user.external_id)},
    )
    return membership
