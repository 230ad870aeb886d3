"""Reads for calendar feeds: which token a secret names, and the sessions a feed shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from openiop.accounts.models import Membership, User, UserKind
from openiop.calendars.actions import hash_secret
from openiop.calendars.models import FeedToken
from openiop.groupwork.models import Session
from openiop.participants.models import Participant
from openiop.programs.models import Program

WINDOW_BEFORE = timedelta(days=14)
WINDOW_AFTER = timedelta(days=90)


def feed_token_for_secret(secret: str) -> FeedToken | None:
    """The live token a secret names, or None. Looking up the hash (never the secret) keeps
    the comparison free of timing differences in the secret itself."""
    token = (
        FeedToken.objects.select_related("program", "participant", "user")
        .filter(token_hash=hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.user is not None and not _still_staff(token.user, token.program)):
        return None
    return token


def _still_staff(user: User, program: Program) -> bool:
    """A clinician's feed stops when they leave the program, even if nobody revoked it."""
    return (
        user.is_active
        and user.kind == UserKind.STAFF
        and Membership.objects.filter(user=user, program=program, is_active=True).exists()
    )


def live_participant_feed(*, program: Program, participant: Participant) -> FeedToken | None:
    return FeedToken.objects.filter(
        program=program, participant=participant, revoked_at__isnull=True
    ).first()


def live_user_feed(*, program: Program, user: User) -> FeedToken | None:
    return FeedToken.objects.filter(program=program, user=user, revoked_at__isnull=True).first()


def _window(now: datetime) -> Q:
    return Q(starts_at__gte=now - WINDOW_BEFORE, starts_at__lte=now + WINDOW_AFTER)


def participant_feed_sessions(*, token: FeedToken, now: datetime) -> QuerySet[Session]:
    """The sessions the participant is on (not taken off the roster), in one query."""
    return (
        Session.objects.filter(
            _window(now),
            program=token.program,
            attendance__participant=token.participant,
            attendance__removed=False,
        )
        .select_related("program")
        .order_by("starts_at", "id")
    )


def clinician_feed_sessions(*, token: FeedToken, now: datetime) -> QuerySet[Session]:
    """Sessions the user facilitates or co-facilitates, each with its roster size, in one
    query (the count is annotated, never a name)."""
    return (
        Session.objects.filter(
            _window(now),
            Q(facilitator=token.user) | Q(co_facilitator=token.user),
            program=token.program,
        )
        .select_related("program")
        .annotate(roster_size=Count("attendance", filter=Q(attendance__removed=False)))
        .order_by("starts_at", "id")
    )
