"""The participant's "Reminders" page (/me/reminders/) and the SMS provider's inbound webhook
(STOP and START replies). Sending happens only in the worker (openiop.notifications.tasks)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import participant_self, public
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.notifications.actions import reminder_settings_save
from openiop.notifications.inbound import record_reply, valid_signature
from openiop.notifications.models import Channel, ContactConsent, ContactPreference
from openiop.portal.requests import audit_portal_read, participant_request, render_form_page

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class RemindersForm(forms.Form):
    email_on = forms.BooleanField(label=_("Remind me by email"), required=False)
    email_consent = forms.BooleanField(label=_("I agree to get reminders by email"), required=False)
    sms_on = forms.BooleanField(label=_("Remind me by text message"), required=False)
    sms_consent = forms.BooleanField(
        label=_("I agree to get reminders by text message (reply STOP at any time to stop)"),
        required=False,
    )
    day_before_at = forms.TimeField(label=_("Day-before reminder at"), widget=TIME)
    quiet_start = forms.TimeField(label=_("Quiet hours from"), widget=TIME, required=False)
    quiet_end = forms.TimeField(label=_("Quiet hours until"), widget=TIME, required=False)


def _initial(pref: ContactPreference) -> dict[str, object]:
    return {
        "email_on": pref.email_on,
        "sms_on": pref.sms_on,
        "day_before_at": pref.day_before_at,
        "quiet_start": pref.quiet_start,
        "quiet_end": pref.quiet_end,
    }


@require_http_methods(["GET", "POST"])
@participant_self
def reminders(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    pref = ContactPreference.objects.filter(participant=me).first() or ContactPreference(
        participant=me
    )
    form = RemindersForm(request.POST if request.method == "POST" else None, initial=_initial(pref))
    if request.method == "POST" and form.is_valid():
        try:
            reminder_settings_save(actor=user, participant=me, **form.cleaned_data)
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, gettext("Your reminder choices are saved."))
            return redirect("portal:reminders")
    if request.method == "GET":
        audit_portal_read(user, me, "portal.reminders")
    consented = set(
        ContactConsent.objects.filter(participant=me, withdrawn_at__isnull=True).values_list(
            "channel", flat=True
        )
    )
    context = {
        "me": me,
        "form": form,
        "has_email": bool(me.email.strip()),
        "has_phone": bool(me.phone.strip()),
        "email_agreed": Channel.EMAIL in consented,
        "sms_agreed": Channel.SMS in consented,
    }
    return render_form_page(request, "notifications/reminders.html", context, form)


@public
@csrf_exempt  # the provider cannot send a CSRF token; its HMAC signature is checked instead
@require_http_methods(["POST"])
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """Replies to our texts (Twilio's webhook): STOP stops all texts to that number, START
    allows them again. Unsigned or wrongly signed requests are refused."""
    params = request.POST.dict()
    signature = request.headers.get("X-Twilio-Signature", "")
    url = request.build_absolute_uri()
    if not valid_signature(url, params, signature, settings.OPENIOP_SMS_TWILIO_AUTH_TOKEN):
        return HttpResponseForbidden("invalid signature")
    record_reply(params.get("From", ""), params.get("Body", ""))
    # An empty TwiML answer: the provider sends its own standard STOP/START confirmations.
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml"
    )
