"""Writes for accounts: staff users and memberships."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import BreakGlassGrant, Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.accounts.sessions import sessions_end_others
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.core.middleware import current_break_glass
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


@transaction.atomic
def membership_revoke(*, actor: User, membership: Membership) -> Membership:
    if not membership.is_active:
        raise ActionError({"membership": "This role is already removed."}, code="conflict")
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=membership,
        program=membership.program,
        detail={"role": membership.role, "user": str(membership.user.external_id), "revoked": True},
    )
    return membership


MIN_BREAK_GLASS_REASON = 20


def _break_glass_errors(actor: User, program: Program, reason: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not actor.break_glass_designated or actor.kind != UserKind.STAFF:
        errors["user"] = "Your account is not designated for break-glass access."
    if len(reason.strip()) < MIN_BREAK_GLASS_REASON:
        errors["reason"] = (
            f"Describe the emergency in at least {MIN_BREAK_GLASS_REASON} characters; "
            "it is reported to the program director."
        )
    if Membership.objects.filter(user=actor, program=program, is_active=True).exists():
        errors["program"] = "You already work in this program; no break-glass access is needed."
    same_org = Membership.objects.filter(
        user=actor, is_active=True, program__organisation_id=program.organisation_id
    ).exists()
    if not same_org:
        errors["program"] = "Break-glass reaches only programs of your own organisation."
    return errors


@transaction.atomic
def break_glass_start(*, actor: User, program: Program, reason: str) -> BreakGlassGrant:
    """Open a time-boxed, read-only emergency grant (AC-04). The caller has checked step-up."""
    errors = _break_glass_errors(actor, program, reason)
    if errors:
        raise ActionError(errors)
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=actor,
        program=program,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + settings.OPENIOP_BREAK_GLASS_DURATION,
        created_by=actor,
    )
    token = current_break_glass.set(True)
    try:
        audit_record(
            actor=actor,
            action="create",
            obj=grant,
            program=program,
            detail={"break_glass": "start"},
        )
    finally:
        current_break_glass.reset(token)
    return grant


@transaction.atomic
def break_glass_end(*, actor: User, grant: BreakGlassGrant) -> BreakGlassGrant:
    if grant.ended_at is None:
        grant.ended_at = timezone.now()
        grant.save(update_fields=["ended_at", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=grant,
            program=grant.program,
            detail={"break_glass": "end"},
        )
    return grant


@transaction.atomic
def security_event_record(*, actor: User | None, event: str, outcome: str = "success") -> None:
    """Log-in, log-out, second-factor and re-authentication events for the audit trail.
    `event` is a fixed word (never user input) so nothing personal reaches the detail."""
    audit_record(
        actor=actor,
        action="login" if event != "logout" else "logout",
        outcome=outcome,
        detail={"event": event},
    )


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> User:
    if not actor.check_password(old_password):
        raise ActionError({"old_password": "Your current password is not correct."})
    _check_password(new_password, actor)
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    audit_record(actor=actor, action="update", obj=actor, detail={"event": "password_change"})
    return actor


@transaction.atomic
def mfa_reset(*, actor: User) -> int:
    """Remove every authenticator of the acting user; they set up a new one next."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed: int = TOTPDevice.objects.filter(user=actor).delete()[0]
    audit_record(actor=actor, action="update", obj=actor, detail={"event": "mfa_reset"})
    return removed


@transaction.atomic
def user_set_break_glass(*, actor: User | None, user: User, designated: bool) -> User:
    """Designate (or stop designating) a staff member for break-glass access (AC-04)."""
    if designated and user.kind != UserKind.STAFF:
        raise ActionError({"user": "Only staff accounts can be designated for break-glass."})
    user.break_glass_designated = designated
    user.save(update_fields=["break_glass_designated"])
    audit_record(
        actor=actor, action="update", obj=user, detail={"break_glass_designated": designated}
    )
    return user


def system_user() -> User:
    """The account that automated work (tasks, seeding, escalation) acts as: every audit row
    names an actor, and for work no person did, this is it."""
    existing = User.objects.filter(username="system").first()
    if existing is not None:
        return existing
    return user_create(actor=None, username="system", password="", kind=UserKind.SYSTEM)


@transaction.atomic
def password_reset_request_record(*, user: User | None) -> None:
    """A 'forgot password' request, audited whether or not the address matched an account
    (the page answers the same either way, AUTH-03)."""
    audit_record(
        actor=user,
        action="login",
        outcome="success" if user is not None else "failure",
        detail={"event": "password_reset_requested"},
    )


@transaction.atomic
def password_reset_complete(*, user: User, new_password: str) -> User:
    """Set a new password from an emailed reset link. The caller has checked the one-time
    token; every session of the account ends (AUTH-06) and staff still pass their second
    factor at the next log-in (AUTH-04)."""
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sessions_end_others(user, keep_key=None)
    audit_record(actor=user, action="update", obj=user, detail={"event": "password_reset"})
    return user
