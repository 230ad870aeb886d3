"""Accounts: one user table with distinct kinds, and per-program staff memberships."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models

from openiop.accounts.roles import ROLE_CHOICES
from openiop.core.models import BaseModel


class UserKind(models.TextChoices):
    STAFF = "staff", "Staff"
    PARTICIPANT = "participant", "Participant"
    # Seed scripts and background jobs act as a system account so that every audit event
    # still names an actor.
    SYSTEM = "system", "System"


class User(AbstractUser):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=UserKind.choices, default=UserKind.STAFF)
    display_name = models.CharField(max_length=150, blank=True)
    # Designated by an administrator: may open a time-boxed emergency grant (AC-04).
    break_glass_designated = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_kind_valid", condition=models.Q(kind__in=UserKind.values)
            ),
            # Only staff may reach the configuration admin (AUTH-01: a participant never
            # holds a staff permission).
            models.CheckConstraint(
                name="user_only_staff_is_staff",
                condition=models.Q(is_staff=False) | models.Q(kind=UserKind.STAFF),
            ),
            models.CheckConstraint(
                name="user_only_staff_is_superuser",
                condition=models.Q(is_superuser=False) | models.Q(kind=UserKind.STAFF),
            ),
        ]

    @property
    def is_staff_kind(self) -> bool:
        return self.kind == UserKind.STAFF

    @property
    def is_participant_kind(self) -> bool:
        return self.kind == UserKind.PARTICIPANT

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(BaseModel):
    """A staff user's role in one program. Roles are a data matrix (roles.json)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    is_active = models.BooleanField(default=True)
    # On-call designation is used by later safety escalation; harmless to hold here.
    is_on_call = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program", "role"], name="membership_unique_role_per_program"
            ),
            models.CheckConstraint(
                name="membership_role_valid",
                condition=models.Q(role__in=[c[0] for c in ROLE_CHOICES]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.program_id}"


class UserSession(models.Model):
    """The server sessions a user holds, so logout and password change can end the others
    (AUTH-06)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class BreakGlassGrant(BaseModel):
    """Emergency read access to a program the user is not a member of: reasoned, step-up
    authenticated, time-boxed, and every event under it is flagged in the audit log."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="break_glass_expires_after_start",
                condition=models.Q(expires_at__gt=models.F("started_at")),
            )
        ]
        ordering = ["-started_at"]


class InvitationKind(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    STAFF = "staff", "Staff"


class InvitationChannel(models.TextChoices):
    EMAIL = "email", "Email link"
    # A short code printed at the front desk. There is no SMS sender in OpenIOP yet, so SMS
    # is not offered.
    PRINTED = "printed", "Printed code"


class Invitation(BaseModel):
    """A one-time invitation to set up an account: a participant's portal account (from the
    chart) or a staff account with a role (from the director's page). Only hashes of the link
    token and of the printed code are stored; the raw values exist once, in the email or on
    the printed slip."""

    kind = models.CharField(max_length=16, choices=InvitationKind.choices)
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="invitations"
    )
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations",
    )
    role = models.CharField(max_length=32, blank=True, choices=ROLE_CHOICES)
    channel = models.CharField(max_length=16, choices=InvitationChannel.choices)
    # Where the link went (staff: the address typed by the director). Not shown in lists.
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations_used"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="invitation_kind_valid", condition=models.Q(kind__in=InvitationKind.values)
            ),
            models.CheckConstraint(
                name="invitation_channel_valid",
                condition=models.Q(channel__in=InvitationChannel.values),
            ),
            # A participant invitation names its participant and no role; a staff invitation
            # names a role and no participant.
            models.CheckConstraint(
                name="invitation_participant_or_role",
                condition=(
                    models.Q(kind="participant", participant__isnull=False, role="")
                    | models.Q(kind="staff", participant__isnull=True) & ~models.Q(role="")
                ),
            ),
            models.CheckConstraint(
                name="invitation_expires_after_creation",
                condition=models.Q(expires_at__gt=models.F("created_at")),
            ),
            models.UniqueConstraint(
                fields=["code_hash"],
                condition=~models.Q(code_hash=""),
                name="invitation_unique_code_hash",
            ),
        ]
        ordering = ["-created_at"]

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at

    def is_pending(self, at: datetime) -> bool:
        return not self.is_used and not self.is_revoked and not self.is_expired(at)
