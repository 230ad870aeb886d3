"""What every portal page and portal API endpoint starts from: who is asking, read audit,
idempotent submission. One public module, so the questionnaire views and API do not reach into
the private helpers of other modules."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from openiop.accounts.models import User
from openiop.accounts.requests import request_user
from openiop.audit.actions import audit_record
from openiop.home.errors import ExplainedRefusal
from openiop.participants.models import Participant
from openiop.portal import selectors
from openiop.portal.alumni import ALUMNI_API_PATHS, ALUMNI_VIEWS, Standing, portal_standing
from openiop.portal.idempotency import KEY_FIELD, Outcome, run_once

KEY_HEADER = "Idempotency-Key"


def participant_request(request: HttpRequest) -> tuple[User, Participant]:
    """The participant account and its own record; 404 for anyone else (AUTH-01)."""
    user = request_user(request)
    me = selectors.participant_for(user)
    _check_standing(request, me)
    return user, me


def _check_standing(request: HttpRequest, me: Participant) -> None:
    """After discharge the portal is open only to alumni, and only its alumni pages (issue 15
    §4). `me.is_alumni` tells the templates which links to offer."""
    standing, membership = portal_standing(me)
    me.is_alumni = standing is Standing.ALUMNI  # type: ignore[attr-defined]
    me.alumni_membership = membership  # type: ignore[attr-defined]
    if standing is Standing.ENDED:
        # Discharged without alumni access, or the alumni period is over.
        raise Http404("portal access ended")
    if standing is Standing.ALUMNI and not _alumni_may_open(request):
        raise ExplainedRefusal(str(ALUMNI_REFUSAL))


ALUMNI_REFUSAL = gettext_lazy(
    "This page is for people in the program. Your alumni account keeps check-ins, your safety "
    "plan and 'Get help now'."
)


def _alumni_may_open(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is not None and match.view_name in ALUMNI_VIEWS:
        return True
    return request.path.rstrip("/") in ALUMNI_API_PATHS


def audit_portal_read(user: User, participant: Participant, view: str) -> None:
    audit_record(actor=user, action="read", obj=participant, detail={"view": view})


def new_form_key() -> dict[str, str]:
    """A fresh idempotency key for a form, so a double tap or a resend stores one row."""
    return {KEY_FIELD: uuid.uuid4().hex}


def render_form_page(
    request: HttpRequest, template: str, context: dict[str, Any], form: Any = None
) -> HttpResponse:
    """The page, with 422 when the form it shows carries errors."""
    status = 422 if form is not None and form.errors else 200
    return render(request, template, context, status=status)


def api_run_once(
    request: HttpRequest, response: HttpResponse, scope: str, payload: Any, perform: Any
) -> Outcome:
    """Run a portal API write once per Idempotency-Key; a replay says so in a header."""
    user, _ = participant_request(request)
    outcome = run_once(
        user=user,
        key=request.headers.get(KEY_HEADER),
        scope=scope,
        payload=payload,
        perform=perform,
    )
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return outcome
