"""Alumni accounts (issue 15 §4): after discharge a participant may keep a portal account with
check-ins, the safety plan and "get help now", and nothing clinical.

The choice is made at discharge (`participants.actions.enrollment_discharge(keep_alumni=True)`);
without it, discharge ends portal access. An alumni membership ends when the participant asks
(the portal's "End my alumni account"), when staff end it, or after the program's alumni period
(settings.OPENIOP_ALUMNI_DAYS, counted in the program's time zone). The expiry is enforced on
every portal request (`portal_standing`), so a late worker never extends access; the worker's
sweep (`alumni_end_expired`) then deactivates the account and records why.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django_tasks import task

from openiop.accounts.actions import system_user
from openiop.accounts.invitations import portal_access_end
from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import Enrollment, Participant
from openiop.portal.models import AlumniEndReason, AlumniMembership

# Portal pages an alumni account may open (URL names). Everything else in the portal answers
# 403 with a page that says what alumni access keeps: goals, diary card, homework and
# questionnaires belong to an episode of care, and clinical notes never reach the portal.
ALUMNI_VIEWS = frozenset(
    {
        "portal:home",
        "portal:checkin",
        "portal:help",
        "portal:help_sent",
        "portal:safety_plan",
        "portal:safety_plan_edit",
        "portal:alumni",
        "portal:language",
    }
)
# The JSON twins of the same pages (openiop/portal/api.py), by path: ninja's operations have
# no stable view names.
ALUMNI_API_PATHS = frozenset(
    {"/api/v1/me", "/api/v1/me/check-ins", "/api/v1/me/safety-plan", "/api/v1/me/help"}
)


class Standing(enum.Enum):
    """Where a participant account stands in the portal."""

    IN_CARE = "in_care"  # an open episode of care
    ALUMNI = "alumni"  # discharged, alumni membership current
    ENDED = "ended"  # discharged without (or after) an alumni membership


def alumni_period() -> timedelta:
    return timedelta(days=settings.OPENIOP_ALUMNI_DAYS)


def current_membership(participant: Participant, today: date) -> AlumniMembership | None:
    """The participant's alumni membership that has not ended and whose last day is not past."""
    return (
        AlumniMembership.objects.filter(
            participant=participant, ended_at__isnull=True, ends_on__gte=today
        )
        .order_by("-started_on")
        .first()
    )


def portal_standing(participant: Participant) -> tuple[Standing, AlumniMembership | None]:
    """In care while any episode is open (a readmitted alumnus is in care again); otherwise
    alumni while a membership is current; otherwise ended."""
    has_open = Enrollment.objects.filter(
        participant=participant, discharged_on__isnull=True
    ).exists()
    has_any = has_open or Enrollment.objects.filter(participant=participant).exists()
    if has_open or not has_any:
        # No episode at all yet: an invited participant before admission keeps the portal.
        return Standing.IN_CARE, None
    membership = current_membership(participant, clock.program_today(participant.program))
    if membership is not None:
        return Standing.ALUMNI, membership
    return Standing.ENDED, None


# --- actions -------------------------------------------------------------------------------


def alumni_start(*, actor: User, enrollment: Enrollment) -> AlumniMembership:
    """Open an alumni membership for a discharged episode. Called inside the discharge's
    transaction; the portal account stays active. Without a portal account there is nothing
    to keep: the discharge form tells staff to invite the participant first."""
    participant = enrollment.participant
    if participant.user_id is None:
        raise ActionError(
            {
                "keep_alumni": "This participant has no portal account to keep. Discharge "
                "without the alumni choice, or invite them to the portal first."
            }
        )
    assert enrollment.discharged_on is not None
    membership = AlumniMembership.objects.create(
        participant=participant,
        enrollment=enrollment,
        started_on=enrollment.discharged_on,
        ends_on=enrollment.discharged_on + alumni_period(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=membership,
        program=participant.program,
        detail={"ends_on": membership.ends_on.isoformat()},
    )
    return membership


@transaction.atomic
def alumni_end(*, actor: User, membership: AlumniMembership, reason: str) -> AlumniMembership:
    """End an alumni membership and, unless the participant is back in care, the portal
    account with it (sessions end, the account is deactivated)."""
    if reason not in AlumniEndReason.values:
        raise ActionError({"reason": f"Choose one of: {', '.join(AlumniEndReason.values)}."})
    locked = AlumniMembership.objects.select_for_update().get(pk=membership.pk)
    if locked.ended_at is not None:
        raise ConflictError({"membership": "This alumni account has already ended."})
    locked.ended_at = clock.now()
    locked.end_reason = reason
    locked.save(update_fields=["ended_at", "end_reason", "updated_at"])
    participant = locked.participant
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        program=participant.program,
        detail={"ended": reason},
    )
    back_in_care = Enrollment.objects.filter(
        participant=participant, discharged_on__isnull=True
    ).exists()
    if not back_in_care:
        portal_access_end(actor=actor, participant=participant)
    return locked


@task()
def alumni_end_expired() -> int:
    """The worker's sweep: end every membership whose last day has passed in its program's
    zone. Portal requests already refuse such accounts; this records the end and deactivates
    the account."""
    actor = system_user()
    ended = 0
    candidates = AlumniMembership.objects.filter(ended_at__isnull=True).select_related(
        "participant__program"
    )
    for membership in candidates:
        if membership.ends_on < clock.program_today(membership.participant.program):
            alumni_end(actor=actor, membership=membership, reason=AlumniEndReason.EXPIRED)
            ended += 1
    return ended
