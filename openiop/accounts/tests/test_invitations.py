"""Invitations: hashed at rest, once only, expiring at the edge, revocable, audited; and
discharge ends portal access (issue 15 §6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from openiop.accounts import invitations
from openiop.accounts.models import Invitation, Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.participants import actions as participant_actions
from openiop.participants.models import Participant
from openiop.testing import PASSWORD, World, admit, today

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-new-passphrase-for-the-portal"


def _newcomer(world: World, *, email: str = "newcomer@example.org") -> Participant:
    person, _ = admit(
        world.program_a, world.track_a, world.clinician_a, first="Rowan", last="Tillet", email=email
    )
    return person


def _invite(world: World, person: Participant, channel: str = "email"):
    return invitations.invitation_create_participant(
        actor=world.clinician_a, participant=person, channel=channel
    )


def _events(invitation: Invitation) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="accounts.invitation", object_id=str(invitation.external_id)
        ).order_by("seq")
    )


def test_token_and_code_are_stored_hashed(world: World):
    issued = _invite(world, _newcomer(world), channel="printed")
    row = Invitation.objects.get(pk=issued.invitation.pk)
    stored = " ".join(str(getattr(row, f.attname)) for f in Invitation._meta.concrete_fields)
    assert issued.token not in stored
    assert invitations.normalise_code(issued.code) not in stored
    assert row.token_hash and row.code_hash and len(row.token_hash) == 64
    assert invitations.invitation_find(issued.token) == row
    assert invitations.invitation_find(issued.code.lower().replace("-", " ")) == row


def test_accept_creates_linked_participant_account_once_and_audits(world: World):
    person = _newcomer(world)
    issued = _invite(world, person)
    user = invitations.invitation_accept(
        secret=issued.token, username="Rowan.T", password=NEW_PASSWORD
    )
    person.refresh_from_db()
    assert person.user == user and user.kind == UserKind.PARTICIPANT
    assert user.username == "rowan.t" and user.check_password(NEW_PASSWORD)
    assert user.email == "newcomer@example.org"
    events = _events(issued.invitation)
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].detail == {"event": "invitation_accepted"} and events[1].actor == user
    with pytest.raises(ActionError) as refused:
        invitations.invitation_accept(secret=issued.token, username="other", password=NEW_PASSWORD)
    assert refused.value.errors["invitation"] == [invitations.USED]
    assert "Forgot your password" in invitations.USED


def test_expiry_at_the_edge(world: World):
    issued = _invite(world, _newcomer(world))
    expires = issued.invitation.expires_at
    assert expires - issued.invitation.created_at == pytest.approx(
        settings.OPENIOP_INVITATION_TTL, abs=timedelta(seconds=5)
    )
    with time_machine.travel(expires, tick=False), pytest.raises(ActionError) as refused:
        invitations.invitation_accept(secret=issued.token, username="r", password=NEW_PASSWORD)
    assert refused.value.errors["invitation"] == [invitations.EXPIRED]
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        user = invitations.invitation_accept(
            secret=issued.token, username="rowan", password=NEW_PASSWORD
        )
    assert user.is_active


def test_revoked_invitation_is_refused_and_audited(world: World):
    issued = _invite(world, _newcomer(world))
    invitations.invitation_revoke(actor=world.intake_a, invitation=issued.invitation)
    with pytest.raises(ActionError) as refused:
        invitations.invitation_accept(secret=issued.token, username="r", password=NEW_PASSWORD)
    assert refused.value.errors["invitation"] == [invitations.REVOKED]
    assert _events(issued.invitation)[-1].detail == {"revoked": True}
    with pytest.raises(ActionError):
        invitations.invitation_revoke(actor=world.clinician_a, invitation=issued.invitation)


def test_a_new_invitation_revokes_the_pending_one(world: World):
    person = _newcomer(world)
    first = _invite(world, person)
    second = _invite(world, person, channel="printed")
    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None
    assert invitations.invitation_problem(second.invitation) is None


def test_unknown_secret_is_refused(world: World):
    with pytest.raises(ActionError) as refused:
        invitations.invitation_accept(secret="nope", username="r", password=NEW_PASSWORD)
    assert refused.value.errors["invitation"] == [invitations.NOT_FOUND]


def test_weak_password_is_refused_by_field_and_the_invitation_stays_usable(world: World):
    issued = _invite(world, _newcomer(world))
    with pytest.raises(ActionError) as refused:
        invitations.invitation_accept(secret=issued.token, username="rowan", password="password")
    assert "password" in refused.value.errors
    assert invitations.invitation_problem(issued.invitation) is None
    assert not User.objects.filter(username="rowan").exists()


def test_email_invitation_needs_an_address_on_record(world: World):
    with pytest.raises(ActionError) as refused:
        _invite(world, _newcomer(world, email=""))
    assert "Edit details" in refused.value.errors["channel"][0]


def test_billing_cannot_invite_and_existing_accounts_are_not_reinvited(world: World):
    with pytest.raises(ActionError):
        invitations.invitation_create_participant(
            actor=world.billing_a, participant=_newcomer(world), channel="printed"
        )
    with pytest.raises(ActionError, match="already has a portal account"):
        _invite(world, world.participant_a, channel="printed")


def test_staff_invitation_creates_staff_account_with_the_role(world: World):
    issued = invitations.invitation_create_staff(
        actor=world.director_a,
        program=world.program_a,
        role=Role.INTAKE.value,
        email="New.Staff@example.org",
        channel="email",
    )
    assert issued.invitation.email == "new.staff@example.org"
    user = invitations.invitation_accept(
        secret=issued.token, username="newstaff", password=NEW_PASSWORD
    )
    assert user.kind == UserKind.STAFF
    assert Membership.objects.get(user=user).role == Role.INTAKE.value
    with pytest.raises(ActionError):
        invitations.invitation_create_staff(
            actor=world.clinician_a,
            program=world.program_a,
            role=Role.CLINICIAN.value,
            email="x@example.org",
            channel="email",
        )


def _discharge(world: World) -> None:
    participant_actions.enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(world.program_a),
        reason="completed",
        step_down_destination="outpatient",
    )


def test_discharge_ends_portal_access_and_a_new_episode_can_be_reinvited(world: World):
    user = world.participant_user
    assert user.check_password(PASSWORD)
    _discharge(world)
    user.refresh_from_db()
    assert not user.is_active
    ended = AuditEvent.objects.filter(object_id=str(user.external_id)).order_by("-seq").first()
    assert ended is not None and ended.detail == {"event": "portal_access_ended"}
    with pytest.raises(ActionError, match="open episode"):
        _invite(world, world.participant_a, channel="printed")
    participant_actions.enrollment_readmit(
        actor=world.clinician_a,
        participant=world.participant_a,
        track=world.track_a,
        admitted_on=today(world.program_a),
        primary_clinician=world.clinician_a,
    )
    issued = _invite(world, world.participant_a, channel="printed")
    assert not invitations.invitation_needs_username(issued.invitation)
    again = invitations.invitation_accept(secret=issued.code, username="", password=NEW_PASSWORD)
    assert again == user and again.is_active and again.check_password(NEW_PASSWORD)


def test_discharge_revokes_a_pending_invitation(world: World):
    person = _newcomer(world)
    issued = _invite(world, person)
    episode = person.enrollments.get()
    participant_actions.enrollment_discharge(
        actor=world.clinician_a,
        enrollment=episode,
        discharged_on=clock.program_today(world.program_a),
        reason="completed",
        step_down_destination="outpatient",
    )
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is not None
