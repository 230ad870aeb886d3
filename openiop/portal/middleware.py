"""The participant's language for every page a participant account sees (docs/portal.md,
"Languages"). Staff and anonymous requests keep the default (English): the browser's
Accept-Language is never consulted, so a shared clinic computer never switches staff pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from openiop.accounts.models import UserKind
from openiop.participants.models import Participant


class ParticipantLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = participant_language(request)
        if language is None:
            return self.get_response(request)
        translation.activate(language)
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
            return response
        finally:
            # Threads serve many requests: never leave one participant's language behind.
            translation.deactivate()


def participant_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != UserKind.PARTICIPANT:
        return None
    found = Participant.objects.filter(user=user).values_list("language", flat=True).first()
    return found or None
