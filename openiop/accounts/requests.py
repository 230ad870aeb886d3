"""Typed access to who is making a request, shared by every view and API endpoint."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from openiop.accounts.models import User


def request_user(request: HttpRequest) -> User:
    """The signed-in account behind `request`.

    The login middleware and the API's authentication run first, so an anonymous user here
    is a routing mistake; it is refused rather than asserted away (asserts vanish under -O).
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("sign in first")
    return user
