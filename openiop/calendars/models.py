"""Calendar feed tokens: revocable secret links a phone calendar can subscribe to.

Only the SHA-256 of the secret is stored; the secret itself is shown once, at creation.
A token belongs to exactly one owner, a participant or a staff user, in one program.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class FeedKind(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    CLINICIAN = "clinician", "Clinician"


class FeedToken(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="feedtoken_exactly_one_owner",
                condition=Q(participant__isnull=False, user__isnull=True)
                | Q(participant__isnull=True, user__isnull=False),
            ),
            # Creating a new feed revokes the old one, so at most one is live per owner.
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(revoked_at__isnull=True, participant__isnull=False),
                name="feedtoken_one_live_per_participant",
            ),
            models.UniqueConstraint(
                fields=["user", "program"],
                condition=Q(revoked_at__isnull=True, user__isnull=False),
                name="feedtoken_one_live_per_user_program",
            ),
        ]

    def __str__(self) -> str:
        # Opaque: never the secret, its hash or the owner's name (AU-04).
        return f"FeedToken {self.external_id}"

    @property
    def kind(self) -> FeedKind:
        return FeedKind.PARTICIPANT if self.participant_id else FeedKind.CLINICIAN

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
