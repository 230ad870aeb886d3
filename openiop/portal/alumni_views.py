"""The alumni account's pages (issue 15 §4): its own home, and the page that shows how long the
account lasts and ends it at the participant's request. The check-in, safety-plan and help
pages are the portal's usual ones (openiop.portal.views); `requests.participant_request` keeps
alumni to those."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import participant_self
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants.models import Participant
from openiop.portal import selectors
from openiop.portal.alumni import alumni_end
from openiop.portal.models import AlumniEndReason, CheckIn
from openiop.portal.requests import audit_portal_read, participant_request, render_form_page


class AlumniEndForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I want to end my alumni account now"),
        error_messages={
            "required": gettext_lazy("Tick the box to confirm, or go back to keep your account.")
        },
    )


def home(request: HttpRequest, me: Participant) -> HttpResponse:
    """The alumni home: check in, the safety plan, help, and when the account ends."""
    context = {
        "me": me,
        "membership": me.alumni_membership,  # type: ignore[attr-defined]
        "last_checkin": CheckIn.objects.filter(participant=me).order_by("-created_at").first(),
        "today": selectors.today_for(me),
    }
    return render(request, "portal/alumni_home.html", context)


@require_http_methods(["GET", "POST"])
@participant_self
def alumni(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    membership = getattr(me, "alumni_membership", None)
    if membership is None:
        # In care: nothing to end here; the page says how alumni accounts work.
        audit_portal_read(user, me, "portal.alumni")
        return render(request, "portal/alumni.html", {"me": me, "membership": None})
    form = AlumniEndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            alumni_end(actor=user, membership=membership, reason=AlumniEndReason.REQUESTED)
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            logout(request)
            messages.success(
                request, gettext("Your alumni account has ended. Thank you for being with us.")
            )
            return redirect("accounts:login")
    if request.method == "GET":
        audit_portal_read(user, me, "portal.alumni")
    context = {"me": me, "membership": membership, "form": form}
    return render_form_page(request, "portal/alumni.html", context, form)
