"""Creating and revoking calendar feeds. Each write and its audit event commit together."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from openiop.accounts.access import has_perm
from openiop.accounts.models import Membership, User, UserKind
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record
from openiop.calendars.models import FeedKind, FeedToken
from openiop.core.errors import ActionError
from openiop.participants.models import Participant
from openiop.programs.models import Program

PARTICIPANT_LABEL = "Participant sessions"
CLINICIAN_LABEL = "My sessions"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def _revoke_live(actor: User, live: list[FeedToken]) -> None:
    now = timezone.now()
    for token in live:
        token.revoked_at = now
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=token,
            detail={"feed": token.kind.value, "revoked": True, "reason": "replaced"},
        )


def feed_create_for_participant(*, actor: User, participant: Participant) -> tuple[FeedToken, str]:
    """A new feed of the participant's own sessions; any earlier feed stops working."""
    if not has_perm(actor, participant.program, Perm.FEED_MANAGE):
        raise ActionError(
            {"participant": "You may not manage calendar feeds in this program."},
            code="forbidden",
        )
    return _new_participant_feed(actor=actor, participant=participant)


def feed_create_for_self(*, actor: User, participant: Participant) -> tuple[FeedToken, str]:
    """A participant makes (or replaces) the feed of their own sessions from the portal."""
    if participant.user_id is None or participant.user_id != actor.pk:
        raise ActionError(
            {"participant": "You may only make your own calendar link."}, code="forbidden"
        )
    return _new_participant_feed(actor=actor, participant=participant)


def _new_participant_feed(*, actor: User, participant: Participant) -> tuple[FeedToken, str]:
    secret, digest = _new_secret()
    with transaction.atomic():
        live = list(
            FeedToken.objects.select_for_update()
            .select_related("participant")
            .filter(participant=participant, revoked_at__isnull=True)
        )
        _revoke_live(actor, live)
        token = FeedToken.objects.create(
            program=participant.program,
            participant=participant,
            token_hash=digest,
            label=PARTICIPANT_LABEL,
            created_by=actor,
        )
        audit_record(
            actor=actor, action="create", obj=token, detail={"feed": FeedKind.PARTICIPANT.value}
        )
    return token, secret


def feed_create_for_clinician(
    *, actor: User, user: User, program: Program
) -> tuple[FeedToken, str]:
    """A new feed of the sessions `user` runs in `program`. People create their own."""
    if actor.pk != user.pk:
        raise ActionError({"user": "Staff create their own calendar feed."}, code="forbidden")
    is_member = (
        user.kind == UserKind.STAFF
        and user.is_active
        and Membership.objects.filter(user=user, program=program, is_active=True).exists()
    )
    if not is_member:
        raise ActionError({"user": "Only staff of this program can have its calendar feed."})
    secret, digest = _new_secret()
    with transaction.atomic():
        live = list(
            FeedToken.objects.select_for_update().filter(
                user=user, program=program, revoked_at__isnull=True
            )
        )
        _revoke_live(actor, live)
        token = FeedToken.objects.create(
            program=program,
            user=user,
            token_hash=digest,
            label=CLINICIAN_LABEL,
            created_by=actor,
        )
        audit_record(
            actor=actor, action="create", obj=token, detail={"feed": FeedKind.CLINICIAN.value}
        )
    return token, secret


def _may_revoke(actor: User, token: FeedToken) -> bool:
    if token.user_id is not None and token.user_id == actor.pk:
        return True
    # Participants' feeds are managed by staff; a director may also stop a colleague's feed.
    return has_perm(actor, token.program, Perm.FEED_MANAGE) and (
        token.participant_id is not None or has_perm(actor, token.program, Perm.STAFF_MANAGE)
    )


def feed_revoke(*, actor: User, token: FeedToken) -> FeedToken:
    """Stop a feed at once: the next fetch of its link gets 404."""
    if not _may_revoke(actor, token):
        raise ActionError({"token": "You may not revoke this calendar feed."}, code="forbidden")
    with transaction.atomic():
        locked = FeedToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ActionError({"token": "This calendar feed was already revoked."})
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=locked,
            detail={"feed": locked.kind.value, "revoked": True},
        )
    token.revoked_at = locked.revoked_at
    return token


def feed_use_record(*, token: FeedToken, at: datetime) -> FeedToken:
    """A calendar app fetched the feed at `at`: its last use and an "export" audit event,
    together. No user acts (the secret in the address is the only key), so the event has no
    actor. A feed revoked since it was looked up is refused: the fetch must answer 404."""
    if at.tzinfo is None:
        raise ActionError({"at": "The time of the fetch must be an aware datetime."})
    with transaction.atomic():
        locked = FeedToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ActionError({"token": "This calendar feed was revoked."})
        # A fetch is not an edit of the feed: `updated_at` stays as the last change.
        locked.last_used_at = at
        locked.save(update_fields=["last_used_at"])
        audit_record(actor=None, action="export", obj=locked, detail={"feed": locked.kind.value})
    token.last_used_at = at
    return token
