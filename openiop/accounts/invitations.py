"""Invitations to set up an account (issue 15 §6): writes, and the mail that carries a link.

A clinician invites a participant from the chart, by an emailed one-time link or a printed
code handed over at the front desk; a director invites staff with a role the same way. Only
keyed hashes of the link token and of the code are stored. An invitation works once, expires
(`OPENIOP_INVITATION_TTL`), can be revoked, and every step is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from openiop.accounts.access import has_perm
from openiop.accounts.actions import _check_password, membership_grant, user_create
from openiop.accounts.models import (
    Invitation,
    InvitationChannel,
    InvitationKind,
    User,
    UserKind,
)
from openiop.accounts.roles import ASSIGNABLE_ROLES, Perm, Role
from openiop.accounts.sessions import sessions_end_others
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import Participant
from openiop.participants.selectors import current_episode
from openiop.programs.models import Program

# No 0/O, 1/I/L: a code read aloud or typed from paper should survive.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its raw secrets, which exist only here: show or send them once."""

    invitation: Invitation
    token: str
    code: str


def _digest(secret: str) -> str:
    # Keyed: a leaked table cannot be brute-forced for the short codes without the key.
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _new_secrets(with_code: bool) -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) if with_code else ""
    return token, code


def _revoke_pending(actor: User, pending: list[Invitation]) -> None:
    now = clock.now()
    for old in pending:
        old.revoked_at = now
        old.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor, action="update", obj=old, program=old.program, detail={"revoked": True}
        )


def _pending_for(**filters: object) -> list[Invitation]:
    return list(
        Invitation.objects.select_for_update().filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=clock.now(), **filters
        )
    )


def _issue(
    *,
    actor: User,
    program: Program,
    kind: InvitationKind,
    channel: str,
    email: str,
    participant: Participant | None = None,
    role: str = "",
) -> IssuedInvitation:
    token, code = _new_secrets(with_code=channel == InvitationChannel.PRINTED)
    invitation = Invitation.objects.create(
        kind=kind,
        program=program,
        participant=participant,
        role=role,
        channel=channel,
        email=email,
        token_hash=_digest(token),
        code_hash=_digest(normalise_code(code)) if code else "",
        expires_at=clock.now() + settings.OPENIOP_INVITATION_TTL,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=invitation,
        program=program,
        detail={"kind": kind.value, "channel": channel, "role": role},
    )
    return IssuedInvitation(
        invitation=invitation, token=token, code=format_code(code) if code else ""
    )


def _check_channel(channel: str) -> None:
    if channel not in InvitationChannel.values:
        raise ActionError({"channel": "Choose an email link or a printed code."})


@transaction.atomic
def invitation_create_participant(
    *, actor: User, participant: Participant, channel: str
) -> IssuedInvitation:
    """Invite a participant to the portal; an earlier pending invitation is revoked."""
    program = participant.program
    if not has_perm(actor, program, Perm.PORTAL_INVITE):
        raise ActionError({"participant": "You cannot invite participants in this program."})
    _check_channel(channel)
    if current_episode(participant) is None:
        raise ConflictError(
            {"participant": "Only a participant in an open episode can be invited to the portal."}
        )
    if participant.user is not None and participant.user.is_active:
        raise ConflictError({"participant": "This participant already has a portal account."})
    if channel == InvitationChannel.EMAIL and not participant.email:
        raise ActionError(
            {
                "channel": "There is no email address on record. Add one with 'Edit details', "
                "or print a code instead."
            }
        )
    _revoke_pending(actor, _pending_for(participant=participant))
    return _issue(
        actor=actor,
        program=program,
        kind=InvitationKind.PARTICIPANT,
        channel=channel,
        email=participant.email if channel == InvitationChannel.EMAIL else "",
        participant=participant,
    )


@transaction.atomic
def invitation_create_staff(
    *, actor: User, program: Program, role: str, email: str, channel: str
) -> IssuedInvitation:
    """Invite a new staff member with a role; their first log-in sets the password and the
    authenticator."""
    if not has_perm(actor, program, Perm.STAFF_MANAGE):
        raise ActionError({"role": "You cannot invite staff to this program."})
    _check_channel(channel)
    errors: dict[str, str] = {}
    if role not in {r.value for r in ASSIGNABLE_ROLES}:
        errors["role"] = "Choose a role from the list."
    email = email.strip().lower()
    if channel == InvitationChannel.EMAIL and not email:
        errors["email"] = "Enter the email address to send the invitation to."
    if errors:
        raise ActionError(errors)
    if email:
        _revoke_pending(actor, _pending_for(program=program, email=email, kind="staff"))
    return _issue(
        actor=actor,
        program=program,
        kind=InvitationKind.STAFF,
        channel=channel,
        email=email,
        role=role,
    )


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    perm = Perm.PORTAL_INVITE if locked.kind == InvitationKind.PARTICIPANT else Perm.STAFF_MANAGE
    if not has_perm(actor, locked.program, perm):
        raise ActionError({"invitation": "You cannot revoke invitations in this program."})
    if locked.used_at is not None or locked.revoked_at is not None:
        raise ConflictError({"invitation": "This invitation was already used or revoked."})
    _revoke_pending(actor, [locked])
    return locked


@transaction.atomic
def portal_access_end(*, actor: User, participant: Participant) -> None:
    """Discharge ends a participant's portal access: pending invitations are revoked, the
    account is deactivated and its sessions end. There is no 'alumni' choice yet; when there
    is, a participant who chooses it keeps the account (issue 15 §6)."""
    _revoke_pending(actor, _pending_for(participant=participant))
    user = participant.user
    if user is None or not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    sessions_end_others(user, keep_key=None)
    audit_record(
        actor=actor,
        action="update",
        obj=user,
        program=participant.program,
        detail={"event": "portal_access_ended"},
    )


# --- accepting -----------------------------------------------------------------------------

NOT_FOUND = (
    "This invitation link or code is not valid. Check it (codes look like ABCDE-FGH23), or ask "
    "the program for a new invitation."
)
USED = (
    "This invitation has already been used. Log in with the username and password you chose; "
    "if you forgot the password, use 'Forgot your password?' on the log-in page."
)
REVOKED = "This invitation was cancelled. Ask the program for a new invitation."
EXPIRED = "This invitation has expired. Ask the program to send or print a new one."
CLOSED = "This invitation can no longer be used. Ask the program for a new invitation."


def invitation_find(secret: str) -> Invitation | None:
    """The invitation a link token or a printed code belongs to, or None."""
    secret = secret.strip()
    if not secret:
        return None
    by_token = Invitation.objects.filter(token_hash=_digest(secret)).first()
    if by_token is not None:
        return by_token
    code = normalise_code(secret)
    if len(code) != CODE_LENGTH:
        return None
    return Invitation.objects.filter(code_hash=_digest(code)).first()


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why this invitation cannot be accepted now (a sentence saying what to do), or None."""
    if invitation is None:
        return NOT_FOUND
    if invitation.used_at is not None:
        return USED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.is_expired(clock.now()):
        return EXPIRED
    if invitation.kind == InvitationKind.PARTICIPANT:
        assert invitation.participant is not None
        if current_episode(invitation.participant) is None:
            return CLOSED
    return None


def _accept_participant(invitation: Invitation, username: str, password: str) -> User:
    participant = invitation.participant
    assert participant is not None
    existing = participant.user
    if existing is not None:
        # Readmitted after discharge: the same account, a new password, active again.
        _check_password(password, existing)
        existing.set_password(password)
        existing.is_active = True
        existing.save(update_fields=["password", "is_active"])
        return existing
    user = user_create(
        actor=None,
        username=username,
        password=password,
        kind=UserKind.PARTICIPANT,
        first_name=participant.preferred_name or participant.legal_first_name,
        email=invitation.email or participant.email,
    )
    participant.user = user
    participant.save(update_fields=["user", "updated_at"])
    return user


@transaction.atomic
def invitation_accept(*, secret: str, username: str, password: str) -> User:
    """Set up the account an invitation offers: works once, refuses expired, revoked and used
    invitations with a message saying what to do next. The caller logs the user in; staff
    then enrol an authenticator before anything else (AUTH-04)."""
    found = invitation_find(secret)
    invitation = (
        Invitation.objects.select_for_update().get(pk=found.pk) if found is not None else None
    )
    problem = invitation_problem(invitation)
    if problem is not None or invitation is None:
        raise ActionError({"invitation": problem or NOT_FOUND}, code="gone")
    if invitation.kind == InvitationKind.PARTICIPANT:
        user = _accept_participant(invitation, username, password)
    else:
        user = user_create(
            actor=None,
            username=username,
            password=password,
            kind=UserKind.STAFF,
            email=invitation.email,
        )
        membership_grant(
            actor=invitation.created_by,
            user=user,
            program=invitation.program,
            role=Role(invitation.role),
        )
    invitation.used_at = clock.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user", "updated_at"])
    audit_record(
        actor=user,
        action="update",
        obj=invitation,
        program=invitation.program,
        detail={"event": "invitation_accepted"},
    )
    return user


def invitation_needs_username(invitation: Invitation) -> bool:
    """A readmitted participant keeps the username they had."""
    participant = invitation.participant
    return not (participant is not None and participant.user is not None)


# --- mail ----------------------------------------------------------------------------------


def _days(hours: float) -> str:
    days = hours / 24
    return f"{days:g} days" if days >= 2 else f"{hours:g} hours"


def invitation_send_email(*, issued: IssuedInvitation, link: str) -> None:
    """The invitation email. It names no person, no program and nothing clinical: being in a
    substance-use program is itself protected (42 CFR Part 2)."""
    ttl = settings.OPENIOP_INVITATION_TTL.total_seconds() / 3600
    body = (
        "Hello,\n\n"
        "You have been invited to set up your account. "
        f"Open this link within {_days(ttl)}:\n\n{link}\n\n"
        "The link works once. If you did not expect this message, you can ignore it.\n"
    )
    send_mail(
        "Set up your account",
        body,
        None,
        [issued.invitation.email],
    )


def password_reset_send_email(*, email: str, link: str) -> None:
    body = (
        "Hello,\n\n"
        "Someone asked to reset the password of the account that uses this address. "
        f"Open this link within one hour to choose a new password:\n\n{link}\n\n"
        "The link works once. If you did not ask, ignore this message; your password stays "
        "as it is.\n"
    )
    send_mail("Reset your password", body, None, [email])
