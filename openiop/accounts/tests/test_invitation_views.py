"""Invitation and forgotten-password pages, each with its authorisation-failure twins."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import invitations
from openiop.accounts.models import Invitation, User
from openiop.audit.models import AuditEvent
from openiop.testing import PASSWORD, World, admit

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-new-passphrase-for-the-portal"
LINK = re.compile(r"http://testserver(/accounts/\S+)")


def _newcomer(world: World):
    person, _ = admit(
        world.program_a,
        world.track_a,
        world.clinician_a,
        first="Zephyrine",
        last="Quarrendon",
        email="zq@example.org",
    )
    return person


def _invite_url(world: World, person) -> str:
    return f"/p/{world.program_a.external_id}/participants/{person.external_id}/invite/"


def _link_in_last_mail() -> str:
    match = LINK.search(str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def test_clinician_emails_an_invitation_that_names_nothing(world: World, client_for):
    person = _newcomer(world)
    client = client_for(world.clinician_a)
    page = client.get(_invite_url(world, person))
    assert page.status_code == 200 and b"Create invitation" in page.content
    response = client.post(_invite_url(world, person), {"channel": "email"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zq@example.org"]
    text = str(message.subject) + str(message.body)
    for secret in ("Zephyrine", "Quarrendon", world.program_a.name, str(person.external_id)):
        assert secret not in text
    assert "within 3 days" in message.body
    link = _link_in_last_mail()
    assert re.fullmatch(r"/accounts/invite/[A-Za-z0-9_-]{40,}/", link)


def test_printed_code_is_shown_once(world: World, client_for):
    person = _newcomer(world)
    client = client_for(world.intake_a)
    response = client.post(_invite_url(world, person), {"channel": "printed"})
    assert response.status_code == 200
    code = re.search(rb'id="invite-code">([A-Z0-9-]+)<', response.content)
    assert code is not None
    again = client.get(_invite_url(world, person))
    assert code.group(1) not in again.content and b"Pending invitations" in again.content


def test_chart_offers_the_invitation_to_those_who_may(world: World, client_for):
    chart = f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"
    assert b"Invite to portal" in client_for(world.clinician_a).get(chart).content
    assert b"Invite to portal" not in client_for(world.billing_a).get(chart).content


@pytest.mark.parametrize("who", ["billing_a", "clinician_b", "participant_user", None])
def test_invite_page_refuses_outsiders(world: World, client_for, who):
    person = _newcomer(world)
    client = client_for(getattr(world, who) if who else None)
    response = client.post(_invite_url(world, person), {"channel": "printed"})
    expected = {"billing_a": 403, "clinician_b": 404, "participant_user": 404, None: 302}[who]
    assert response.status_code == expected
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("who", ["billing_a", "clinician_b", None])
def test_revoke_refuses_outsiders(world: World, client_for, who):
    issued = invitations.invitation_create_participant(
        actor=world.clinician_a, participant=_newcomer(world), channel="printed"
    )
    path = f"/p/{world.program_a.external_id}/invitations/{issued.invitation.external_id}/revoke/"
    response = client_for(getattr(world, who) if who else None).post(path)
    assert response.status_code == {"billing_a": 403, "clinician_b": 404, None: 302}[who]
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is None
    assert client_for(world.clinician_a).post(path).status_code == 302
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is not None


def test_accept_by_link_lands_in_the_portal(world: World, client_for):
    person = _newcomer(world)
    client_for(world.clinician_a).post(_invite_url(world, person), {"channel": "email"})
    link = _link_in_last_mail()
    phone = Client()
    assert phone.get(link).status_code == 200
    response = phone.post(
        link, {"username": "zq", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert phone.get("/me/").status_code == 200
    used = Client().get(link)
    assert used.status_code == 410 and b"already been used" in used.content


def test_accept_names_the_field_in_errors(world: World):
    issued = invitations.invitation_create_participant(
        actor=world.clinician_a, participant=_newcomer(world), channel="printed"
    )
    response = Client().post(
        "/accounts/invite/",
        {"code": issued.code, "username": "zq", "password": "short", "password_again": "other"},
    )
    assert response.status_code == 422
    assert "Type the password again: The two passwords" in response.content.decode()
    weak = Client().post(
        "/accounts/invite/",
        {"code": issued.code, "username": "zq", "password": "short", "password_again": "short"},
    )
    assert weak.status_code == 422 and "Choose a password: " in weak.content.decode()
    assert invitations.invitation_problem(issued.invitation) is None
    wrong = Client().post(
        "/accounts/invite/",
        {
            "code": "AAAAA-BBBBB",
            "username": "zq",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert "Invitation code: This invitation link or code is not valid" in wrong.content.decode()


def test_accept_offers_an_authenticator_to_participants(world: World):
    issued = invitations.invitation_create_participant(
        actor=world.clinician_a, participant=_newcomer(world), channel="printed"
    )
    response = Client().post(
        "/accounts/invite/",
        {
            "code": issued.code,
            "username": "zq",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "authenticator": "on",
        },
    )
    assert response["Location"] == "/accounts/mfa/setup/?next=/me/"


def test_AUTH_04_invited_staff_enrol_an_authenticator_before_any_page(world: World, client_for):
    client = client_for(world.director_a, stepped_up=True)
    path = f"/p/{world.program_a.external_id}/staff/invitations/"
    response = client.post(
        path, {"email": "new@example.org", "role": "clinician", "channel": "email"}
    )
    assert response.status_code == 302
    assert b"new@example.org" in client.get(path).content
    link = _link_in_last_mail()
    newcomer = Client()
    done = newcomer.post(
        link, {"username": "newbie", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert done["Location"].startswith("/accounts/mfa/setup/")
    home = f"/p/{world.program_a.external_id}/participants/"
    assert newcomer.get(home).status_code == 403  # no clinical page before the second factor
    assert User.objects.get(username="newbie").memberships.get().role == "clinician"


@pytest.mark.parametrize("who", ["clinician_a", "clinician_b", None])
def test_staff_invitations_page_refuses_outsiders(world: World, client_for, who):
    path = f"/p/{world.program_a.external_id}/staff/invitations/"
    client = client_for(getattr(world, who) if who else None, stepped_up=True)
    response = client.post(
        path, {"email": "x@example.org", "role": "clinician", "channel": "email"}
    )
    assert response.status_code == {"clinician_a": 403, "clinician_b": 404, None: 302}[who]
    assert not Invitation.objects.exists() and not mail.outbox


def test_staff_invitation_needs_step_up_and_can_be_revoked(world: World, client_for):
    path = f"/p/{world.program_a.external_id}/staff/invitations/"
    stale = client_for(world.director_a)
    assert stale.get(path).status_code == 200
    body = {"email": "x@example.org", "role": "clinician", "channel": "email"}
    assert stale.post(path, body).status_code == 403
    fresh = client_for(world.director_a, stepped_up=True)
    fresh.post(path, body)
    invitation = Invitation.objects.get()
    revoke = f"{path}{invitation.external_id}/revoke/"
    assert client_for(world.clinician_a).post(revoke).status_code == 403
    assert client_for(world.clinician_b).post(revoke).status_code == 404
    assert fresh.post(revoke).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def _strip_tokens(body: bytes) -> bytes:
    return re.sub(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', rb"\1", body)


# --- forgotten password ----------------------------------------------------------------------


def test_AUTH_03_forgot_password_answers_the_same_for_unknown_addresses(world: World):
    world.participant_user.email = "avery@example.org"
    world.participant_user.save(update_fields=["email"])
    known = Client().post("/accounts/password/forgot/", {"email": "Avery@example.org"})
    unknown = Client().post("/accounts/password/forgot/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _strip_tokens(known.content) == _strip_tokens(unknown.content)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["avery@example.org"]
    assert "Avery" not in mail.outbox[0].body and world.program_a.name not in mail.outbox[0].body
    events = AuditEvent.objects.filter(detail__event="password_reset_requested")
    assert sorted(e.outcome for e in events) == ["failure", "success"]


def test_reset_link_sets_the_password_once(world: World):
    user = world.participant_user
    user.email = "avery@example.org"
    user.save(update_fields=["email"])
    Client().post("/accounts/password/forgot/", {"email": "avery@example.org"})
    link = _link_in_last_mail()
    client = Client()
    assert client.get(link).status_code == 200
    weak = client.post(link, {"new_password": "password", "new_password_again": "password"})
    assert weak.status_code == 422 and "New password:" in weak.content.decode()
    done = client.post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Client().get(link).status_code == 410
    assert AuditEvent.objects.filter(detail__event="password_reset").count() == 1


def test_AUTH_04_staff_still_pass_the_second_factor_after_a_reset(world: World):
    staff = world.clinician_a
    staff.email = "clara@example.org"
    staff.save(update_fields=["email"])
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    Client().post("/accounts/password/forgot/", {"email": "clara@example.org"})
    link = _link_in_last_mail()
    Client().post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    login = Client().post(
        "/accounts/login/", {"username": staff.username, "password": NEW_PASSWORD}
    )
    assert login["Location"].startswith("/accounts/mfa/verify/")
    staff.refresh_from_db()
    assert not staff.check_password(PASSWORD)


def test_reset_link_with_a_bad_token_is_refused(world: World):
    response = Client().get("/accounts/password/reset/bm9wZQ/abc-def/")
    assert response.status_code == 410


# --- throttles (AUTH-03) ----------------------------------------------------------------------


def test_AUTH_03_forgot_password_is_throttled_per_address_with_the_same_answer(world: World):
    from openiop.core.throttle import FORGOT_PER_ADDRESS

    world.participant_user.email = "avery@example.org"
    world.participant_user.save(update_fields=["email"])
    answers = [
        Client().post("/accounts/password/forgot/", {"email": "avery@example.org"}).content
        for _ in range(FORGOT_PER_ADDRESS.attempts + 2)
    ]
    # Mail stops at the limit; the page never changes, so it tells nothing.
    assert len(mail.outbox) == FORGOT_PER_ADDRESS.attempts
    assert len({_strip_tokens(a) for a in answers}) == 1
    # Another address is not held back by this one's limit.
    world.director_a.email = "dana@example.org"
    world.director_a.save(update_fields=["email"])
    Client().post("/accounts/password/forgot/", {"email": "dana@example.org"})
    assert len(mail.outbox) == FORGOT_PER_ADDRESS.attempts + 1


def test_AUTH_03_forgot_password_is_throttled_per_client(world: World):
    from openiop.core.throttle import FORGOT_PER_CLIENT

    client = Client()
    for n in range(FORGOT_PER_CLIENT.attempts):
        client.post("/accounts/password/forgot/", {"email": f"n{n}@example.org"})
    world.participant_user.email = "avery@example.org"
    world.participant_user.save(update_fields=["email"])
    client.post("/accounts/password/forgot/", {"email": "avery@example.org"})
    assert mail.outbox == []  # this client used up its requests on other addresses


def test_AUTH_03_invitation_code_guesses_are_throttled_per_client(world: World):
    from openiop.core.throttle import CODE_GUESSES_PER_CLIENT

    issued = invitations.invitation_create_participant(
        actor=world.clinician_a, participant=_newcomer(world), channel="printed"
    )
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    form = {"username": "zq", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    for _ in range(CODE_GUESSES_PER_CLIENT.attempts):
        wrong = guesser.post("/accounts/invite/", {**form, "code": "ZZZZZ-ZZZ22"})
        assert wrong.status_code == 422
    # Even the right code now waits: the page says what to do next.
    held = guesser.post("/accounts/invite/", {**form, "code": issued.code})
    assert held.status_code == 429
    assert "Wait 15 minutes" in held.content.decode()
    assert Invitation.objects.get().used_at is None
    # Another client (the participant at the front desk) is not held back.
    fine = Client().post("/accounts/invite/", {**form, "code": issued.code})
    assert fine.status_code == 302
