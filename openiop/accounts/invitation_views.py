"""Pages for invitations and the forgotten-password flow (docs/accounts.md).

Staff pages are program-scoped (`@requires`); the accept and reset pages are public and know
the person only by the one-time secret in the link or the printed code.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.http import require_http_methods

from openiop.accounts import actions, invitations
from openiop.accounts.access import ProgramRequest, public, requires
from openiop.accounts.forms import (
    InviteAcceptForm,
    PasswordForgotForm,
    PasswordResetForm,
    PortalInviteForm,
    StaffInviteForm,
)
from openiop.accounts.models import Invitation, InvitationKind, User, UserKind
from openiop.accounts.requests import request_user
from openiop.accounts.roles import ROLE_CHOICES, Perm
from openiop.accounts.sessions import AUTH_AT_KEY, LAST_SEEN_KEY, session_track
from openiop.accounts.stepup import has_recent_auth, require_recent_auth
from openiop.audit.actions import audit_record
from openiop.core import clock, throttle
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _accept_link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(
        reverse("accounts:invite_accept", kwargs={"invite_token": token})
    )


# --- participant invitations (chart) ---------------------------------------------------------


def _deliver(
    request: ProgramRequest,
    issued: invitations.IssuedInvitation,
    *,
    back_url: str,
    participant: Participant | None = None,
) -> HttpResponse:
    """Hand a new invitation over: a printed code is shown once on its own page; a link is
    e-mailed, and staff go back to `back_url`."""
    program = request.access.program
    if issued.code:
        context = {
            "program": program,
            "participant": participant,
            "issued": issued,
            "enter_url": request.build_absolute_uri(reverse("accounts:invite")),
            "chart_url": back_url,
            "expires": clock.local_time(issued.invitation.expires_at, program),
        }
        return render(request, "accounts/invite_code.html", context)
    invitations.invitation_send_email(issued=issued, link=_accept_link(request, issued.token))
    messages.success(request, "Invitation sent by email. The link works once.")
    return redirect(back_url)


@require_http_methods(["GET", "POST"])
@requires(Perm.PORTAL_INVITE)
def portal_invite(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    """Invite a participant to the portal: an emailed link, or a code shown once to print."""
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    # The page names the participant: a read of their record (AU-01).
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "invite"}
    )
    chart_url = reverse(
        "participants:chart",
        kwargs={"program_id": program_id, "participant_id": participant.external_id},
    )
    form = PortalInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = invitations.invitation_create_participant(
                actor=request_user(request),
                participant=participant,
                channel=form.cleaned_data["channel"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            return _deliver(request, issued, back_url=chart_url, participant=participant)
    pending = Invitation.objects.filter(
        participant=participant,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    )
    context = {
        "program": access.program,
        "access": access,
        "participant": participant,
        "form": form,
        "pending": pending,
        "chart_url": chart_url,
        "has_account": participant.user is not None and participant.user.is_active,
    }
    return render(
        request, "accounts/portal_invite.html", context, status=422 if form.errors else 200
    )


def _revoke(request: ProgramRequest, invitation: Invitation, back: str) -> HttpResponse:
    try:
        invitations.invitation_revoke(actor=request_user(request), invitation=invitation)
    except ActionError as error:
        messages.error(request, " ".join(m for msgs in error.errors.values() for m in msgs))
    else:
        messages.success(request, "Invitation revoked; its link and code no longer work.")
    return redirect(back)


@require_http_methods(["POST"])
@requires(Perm.PORTAL_INVITE)
def portal_invite_revoke(
    request: ProgramRequest, program_id: UUID, invitation_id: UUID
) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.select_related("participant"),
        program=request.access.program,
        kind=InvitationKind.PARTICIPANT,
        external_id=invitation_id,
    )
    assert invitation.participant is not None
    back = reverse(
        "staff:portal_invite",
        kwargs={"program_id": program_id, "participant_id": invitation.participant.external_id},
    )
    return _revoke(request, invitation, back)


@require_http_methods(["POST"])
@requires(Perm.STAFF_MANAGE)
def staff_invitation_revoke(
    request: ProgramRequest, program_id: UUID, staff_invitation_id: UUID
) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation,
        program=request.access.program,
        kind=InvitationKind.STAFF,
        external_id=staff_invitation_id,
    )
    return _revoke(
        request, invitation, reverse("staff:invitations", kwargs={"program_id": program_id})
    )


# --- staff invitations (director) ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires(Perm.STAFF_MANAGE)
def staff_invitations(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    """Invite staff with a role (step-up first, AUTH-07); list and revoke pending ones."""
    access = request.access
    form = StaffInviteForm(request.POST or None, roles=ROLE_CHOICES)
    if request.method == "POST":
        require_recent_auth(request)
        if form.is_valid():
            try:
                issued = invitations.invitation_create_staff(
                    actor=request_user(request), program=access.program, **form.cleaned_data
                )
            except ActionError as error:
                apply_action_errors(form, error)
            else:
                back = reverse("staff:invitations", kwargs={"program_id": program_id})
                return _deliver(request, issued, back_url=back)
    pending = Invitation.objects.filter(
        program=access.program,
        kind=InvitationKind.STAFF,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    )
    context = {
        "program": access.program,
        "access": access,
        "form": form,
        "pending": pending,
        "recent_auth": has_recent_auth(request),
    }
    return render(
        request, "accounts/staff_invitations.html", context, status=422 if form.errors else 200
    )


# --- accepting (public) ----------------------------------------------------------------------


def _start_session(request: HttpRequest, user: User) -> None:
    login(request, user, backend=MODEL_BACKEND)  # new session id (AUTH-06)
    now = clock.now().timestamp()
    request.session[AUTH_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    session_track(request, user)


def _too_many_codes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/invite_problem.html",
        {
            "problem": "Too many codes that did not match were typed here. Wait 15 minutes and "
            "try again, or ask the front desk for help."
        },
        status=429,
    )


def _accept(request: HttpRequest, token: str | None) -> HttpResponse:
    client = throttle.client_of(request)
    if request.method == "POST" and throttle.exceeded(throttle.CODE_GUESSES_PER_CLIENT, client):
        return _too_many_codes(request)
    invitation = invitations.invitation_find(token) if token else None
    if token is not None:
        problem = invitations.invitation_problem(invitation)
        if problem is not None:
            return render(request, "accounts/invite_problem.html", {"problem": problem}, status=410)
    assert invitation is not None or token is None
    offer_mfa = invitation is None or invitation.kind == InvitationKind.PARTICIPANT
    form = InviteAcceptForm(
        request.POST or None,
        with_code=token is None,
        with_username=invitation is None or invitations.invitation_needs_username(invitation),
        offer_mfa=offer_mfa,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = invitations.invitation_accept(
                secret=token or data["code"],
                username=data.get("username", ""),
                password=data["password"],
            )
        except ActionError as error:
            if "invitation" in error.errors:  # a code or link that matched nothing usable
                throttle.count(throttle.CODE_GUESSES_PER_CLIENT, client)
            apply_action_errors(
                form,
                error,
                field_for=lambda n: (
                    "code"
                    if n == "invitation" and token is None
                    else (n if n in form.fields else None)
                ),
            )
        else:
            _start_session(request, user)
            actions.security_event_record(actor=user, event="invitation_login")
            return _after_accept(request, user, wants_mfa=bool(data.get("authenticator")))
    return render(
        request,
        "accounts/invite_accept.html",
        {"form": form, "staff": invitation is not None and not offer_mfa},
        status=422 if form.errors else 200,
    )


def _after_accept(request: HttpRequest, user: User, *, wants_mfa: bool) -> HttpResponse:
    if user.kind == UserKind.STAFF:
        # AUTH-04: staff enrol their authenticator before anything else.
        membership = user.memberships.filter(is_active=True).select_related("program").first()
        target = (
            reverse(
                "participants:program_home", kwargs={"program_id": membership.program.external_id}
            )
            if membership
            else "/"
        )
        return redirect(f"{reverse('accounts:mfa_setup')}?next={target}")
    if wants_mfa:
        return redirect(f"{reverse('accounts:mfa_setup')}?next={reverse('portal:home')}")
    messages.success(request, "Your account is ready. Welcome.")
    return redirect("portal:home")


@public
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, invite_token: str) -> HttpResponse:
    return _accept(request, invite_token)


@public
@require_http_methods(["GET", "POST"])
def invite_code(request: HttpRequest) -> HttpResponse:
    """The printed-code route: the same page with a field for the code."""
    return _accept(request, None)


# --- forgotten password (public) ------------------------------------------------------------


def _user_for_email(email: str) -> User | None:
    return (
        User.objects.filter(
            email__iexact=email.strip(),
            is_active=True,
            kind__in=[UserKind.STAFF, UserKind.PARTICIPANT],
        )
        .order_by("id")
        .first()
    )


@public
@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Always the same answer, whether or not the address has an account (AUTH-03)."""
    form = PasswordForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        # Throttled requests get the same answer and send nothing (AUTH-03): the page must not
        # tell whether the address has an account, nor that a limit was reached for it.
        within = throttle.spend(throttle.FORGOT_PER_CLIENT, throttle.client_of(request))
        within = throttle.spend(throttle.FORGOT_PER_ADDRESS, email) and within
        user = _user_for_email(email) if within else None
        actions.password_reset_request_record(user=user)
        if user is not None and user.has_usable_password():
            uid = urlsafe_base64_encode(force_bytes(str(user.external_id)))
            token = default_token_generator.make_token(user)
            link = request.build_absolute_uri(
                reverse("accounts:password_reset", kwargs={"uidb64": uid, "token": token})
            )
            invitations.password_reset_send_email(email=user.email, link=link)
        return render(request, "accounts/password_forgot_sent.html", {})
    return render(
        request, "accounts/password_forgot.html", {"form": form}, status=422 if form.errors else 200
    )


def _user_from_uid(uidb64: str) -> User | None:
    try:
        external_id = UUID(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError):
        return None
    return User.objects.filter(external_id=external_id, is_active=True).first()


@public
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set a new password from the emailed one-time link. The token is Django's: it is bound
    to the current password hash, so it stops working once used, and after an hour."""
    user = _user_from_uid(uidb64)
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "accounts/password_reset_invalid.html", {}, status=410)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.password_reset_complete(
                user=user, new_password=form.cleaned_data["new_password"]
            )
        except ActionError as error:
            apply_action_errors(
                form, error, field_for=lambda n: "new_password" if n == "password" else None
            )
        else:
            note = (
                " After the password you will be asked for the code from your authenticator app."
                if user.kind == UserKind.STAFF
                else ""
            )
            messages.success(request, "Your password was changed. Log in with it now." + note)
            return redirect("accounts:login")
    return render(
        request, "accounts/password_reset.html", {"form": form}, status=422 if form.errors else 200
    )
