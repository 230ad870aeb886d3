"""Log-in, second factor, lock screen, re-authentication, password, break-glass and staff
roles. Every step is audited; nothing here shows clinical data."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from openiop.accounts import actions, mfa
from openiop.accounts.access import ProgramRequest, public, requires, signed_in
from openiop.accounts.forms import (
    BreakGlassForm,
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    ReauthForm,
    RoleGrantForm,
)
from openiop.accounts.models import BreakGlassGrant, Membership, User, UserKind
from openiop.accounts.requests import request_user
from openiop.accounts.roles import ROLE_CHOICES, Perm, Role
from openiop.accounts.sessions import (
    AUTH_AT_KEY,
    LAST_SEEN_KEY,
    session_rotate,
    session_track,
    sessions_end_others,
)
from openiop.accounts.stepup import has_recent_auth, mark_reauthenticated, require_recent_auth
from openiop.core import clock
from openiop.core.confirm import confirm_page, confirmed
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.programs.models import Program


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _start_session(request: HttpRequest, user: User) -> None:
    now = timezone.now().timestamp()
    request.session[AUTH_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    session_track(request, user)


@public
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            assert isinstance(user, User)
            login(request, user)  # Django rotates the session id here (AUTH-06)
            _start_session(request, user)
            actions.security_event_record(actor=user, event="password_ok")
            return _after_password(request, user)
        actions.security_event_record(actor=None, event="login_failed", outcome="failure")
        # AUTH-03: the failure page must be byte-identical for unknown users and wrong
        # passwords, so the typed username is not echoed back (errors are already computed).
        form.data = {**form.data, "username": ""}
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")})


def _after_password(request: HttpRequest, user: User) -> HttpResponse:
    target = _safe_next(request)
    if not mfa.needs_second_factor(user):
        return redirect(target)
    step = "accounts:mfa_verify" if mfa.confirmed_device(user) else "accounts:mfa_setup"
    response = redirect(step)
    response["Location"] += f"?next={target}"
    return response


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any) -> HttpResponse:
    """AUTH-03: the same answer whether or not the account exists."""
    form = LoginForm(request)
    message = (
        "Too many failed attempts. Wait 15 minutes and try again, or ask an administrator "
        "to unlock the account."
    )
    return render(request, "accounts/login.html", {"form": form, "lockout": message}, status=429)


@public
@require_http_methods(["POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user = request_user(request)
        actions.security_event_record(actor=user, event="logout")
        sessions_end_others(user, keep_key=None)  # AUTH-06: logout ends every session
        logout(request)
    return redirect("accounts:login")


@public
@require_http_methods(["GET"])
def locked_view(request: HttpRequest) -> HttpResponse:
    """The lock screen: the session is destroyed and nothing clinical is shown."""
    if request.user.is_authenticated:
        logout(request)
    return render(request, "accounts/locked.html", {})


@require_http_methods(["GET", "POST"])
@signed_in
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if mfa.confirmed_device(user) and not mfa.is_verified(request):
        return redirect("accounts:mfa_verify")
    device = mfa.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_code(device, form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _second_factor_done(request, user, device, event="mfa_enrolled")
        form.add_error(
            "code", "That code did not match. Check the time on your phone and try the newest code."
        )
    context = {
        "form": form,
        "secret": mfa.secret_base32(device),
        "qr": mfa.qr_svg_data_uri(device),
        "next": _safe_next(request),
    }
    return render(request, "accounts/mfa_setup.html", context, status=422 if form.errors else 200)


def _second_factor_done(
    request: HttpRequest, user: User, device: Any, *, event: str
) -> HttpResponse:
    mfa.mark_verified(request, device)
    session_rotate(request, user)  # privilege change: new session id (AUTH-06)
    mark_reauthenticated(request)
    actions.security_event_record(actor=user, event=event)
    return redirect(_safe_next(request))


@require_http_methods(["GET", "POST"])
@signed_in
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    device = mfa.confirmed_device(user)
    if device is None:
        return redirect("accounts:mfa_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_code(device, form.cleaned_data["code"]):
            return _second_factor_done(request, user, device, event="mfa_verified")
        actions.security_event_record(actor=user, event="mfa_failed", outcome="failure")
        form.add_error(
            "code", "That code did not match. Use the newest code from your authenticator app."
        )
    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@signed_in
def reauth_view(request: HttpRequest) -> HttpResponse:
    """AUTH-07 step-up: password and, for staff, a fresh code."""
    user = request_user(request)
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok = (
            authenticate(request, username=user.username, password=form.cleaned_data["password"])
            is not None
        )
        device = mfa.confirmed_device(user)
        if ok and mfa.needs_second_factor(user):
            ok = device is not None and mfa.verify_code(device, form.cleaned_data["code"])
        if ok:
            mark_reauthenticated(request)
            actions.security_event_record(actor=user, event="reauthenticated")
            return redirect(_safe_next(request))
        actions.security_event_record(actor=user, event="reauth_failed", outcome="failure")
        form.add_error(None, "The password or code did not match. Try again.")
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": _safe_next(request)},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@signed_in
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.password_change(actor=user, **form.cleaned_data)
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            # Keep this session, end every other one (AUTH-06), new id for this one.
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request, user)
            session_rotate(request, user)
            sessions_end_others(user, keep_key=request.session.session_key)
            messages.success(request, "Password changed. You were signed out everywhere else.")
            return redirect("home:home")
    return render(
        request, "accounts/password_change.html", {"form": form}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@signed_in
def mfa_reset_view(request: HttpRequest) -> HttpResponse:
    """Replace the authenticator (lost phone): step-up first (AUTH-07)."""
    require_recent_auth(request)
    user = request_user(request)
    if request.method == "POST":
        actions.mfa_reset(actor=user)
        sessions_end_others(user, keep_key=request.session.session_key)
        logout(request)
        messages.info(request, "Your authenticator was removed. Log in again to set up a new one.")
        return redirect("accounts:login")
    return render(request, "accounts/mfa_reset.html", {})


def _break_glass_programs(user: User) -> Any:
    org_ids = Membership.objects.filter(user=user, is_active=True).values(
        "program__organisation_id"
    )
    member_of = Membership.objects.filter(user=user, is_active=True).values("program_id")
    return (
        Program.objects.filter(organisation_id__in=org_ids)
        .exclude(id__in=member_of)
        .order_by("name")
    )


@require_http_methods(["GET", "POST"])
@signed_in
def break_glass_view(request: HttpRequest) -> HttpResponse:
    """AC-04: designated staff open time-boxed read access to another program."""
    user = request_user(request)
    if not user.break_glass_designated or user.kind != UserKind.STAFF:
        return render(request, "accounts/break_glass_denied.html", status=403)
    require_recent_auth(request)
    form = BreakGlassForm(request.POST or None, programs=_break_glass_programs(user))
    if request.method == "POST" and form.is_valid():
        try:
            grant = actions.break_glass_start(actor=user, **form.cleaned_data)
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            session_rotate(request, user)
            messages.warning(
                request,
                f"Break-glass access to {grant.program.name} until "
                f"{clock.local_time(grant.expires_at, grant.program):%H:%M %Z}. "
                "Every page you open is reported.",
            )
            return redirect("participants:list", program_id=grant.program.external_id)
    grants = BreakGlassGrant.objects.filter(user=user).select_related("program")[:10]
    return render(
        request,
        "accounts/break_glass.html",
        {"form": form, "grants": grants},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET"])
@requires(Perm.AUDIT_VIEW)
def break_glass_report(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    """Every break-glass grant on this program, for the director's review."""
    access = request.access
    grants = BreakGlassGrant.objects.filter(program=access.program).select_related("user")[:200]
    return render(
        request,
        "accounts/break_glass_report.html",
        {"program": access.program, "access": access, "grants": grants, "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.STAFF_MANAGE)
def staff_roles(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    """Program staff and their roles; changing a role needs step-up (AUTH-07)."""
    access = request.access
    form = RoleGrantForm(request.POST or None, roles=ROLE_CHOICES)
    if request.method == "POST":
        require_recent_auth(request)
        if form.is_valid():
            target = User.objects.filter(
                username=form.cleaned_data["username"].strip().lower()
            ).first()
            try:
                if target is None:
                    raise ActionError({"username": "No account has that username."})
                actions.membership_grant(
                    actor=request_user(request),
                    user=target,
                    program=access.program,
                    role=Role(form.cleaned_data["role"]),
                )
            except ActionError as error:
                apply_action_errors(form, error)
            else:
                messages.success(request, "Role granted.")
                return redirect("staff:roles", program_id=program_id)
    memberships = (
        Membership.objects.filter(program=access.program, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "role")
    )
    context = {
        "program": access.program,
        "access": access,
        "form": form,
        "memberships": memberships,
        "recent_auth": has_recent_auth(request),
    }
    return render(request, "accounts/staff_roles.html", context, status=422 if form.errors else 200)


@require_http_methods(["POST"])
@requires(Perm.STAFF_MANAGE)
def staff_role_revoke(
    request: ProgramRequest, program_id: UUID, membership_id: UUID
) -> HttpResponse:
    access = request.access
    require_recent_auth(request)
    membership = get_object_or_404(Membership, program=access.program, external_id=membership_id)
    if not confirmed(request):
        return confirm_page(
            request,
            title="Remove this role?",
            question=f"Remove {membership.user}'s role ({membership.get_role_display()}) in "
            f"{access.program.name}?",
            details=["They lose access to this program's records at once."],
            button="Remove the role",
            cancel_url=reverse("staff:roles", kwargs={"program_id": program_id}),
            context={"program": access.program},
        )
    try:
        actions.membership_revoke(actor=request_user(request), membership=membership)
    except ActionError as error:
        messages.error(request, " ".join(m for msgs in error.errors.values() for m in msgs))
    else:
        messages.success(request, "Role removed.")
    return redirect("staff:roles", program_id=program_id)
