"""The JSON API under /api/v1: one error envelope for every failure.

Envelope: {"error": {"code": str, "message": str, "fields": {field: [messages]}}}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from openiop.accounts.stepup import ReauthRequired
from openiop.consent.api import router as consent_router
from openiop.core.errors import ActionError
from openiop.groupwork.api import router as groupwork_router
from openiop.measures.api import router as measures_router
from openiop.participants.api import router as participants_router
from openiop.portal.api import router as portal_router
from openiop.portal.measures_api import router as portal_measures_router
from openiop.programs.api import router as programs_router
from openiop.safety.api import router as safety_router
from openiop.treatment.api import router as treatment_router

api = NinjaAPI(
    title="OpenIOP API",
    version="1",
    description="Programs, participants and episodes of care. Every write calls the same "
    "actions as the web UI and is audited.",
    auth=django_auth,
    urls_namespace="api",
    docs_url="/docs",
    # No badge from validator.swagger.io: the page loads nothing from another origin.
    docs=Swagger(settings={"validatorUrl": None}),
)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return api.create_response(request, body, status=status)


def _field_name(loc: list[object]) -> str:
    # Drop ninja's wrappers ("body", "payload", "query") so the name matches the schema field.
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "filters")]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        name = _field_name(list(err.get("loc", [])))
        message = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            message = "This field is not accepted here."
        fields.setdefault(name, []).append(message)
    first = next(iter(fields), "body")
    return error_response(request, 422, "validation_error", f"Check the field '{first}'.", fields)


@api.exception_handler(ActionError)
def on_action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    status = 409 if exc.code == "conflict" else 422
    first = next(iter(exc.errors), "body")
    return error_response(request, status, exc.code, f"Check the field '{first}'.", exc.errors)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(ReauthRequired)
def on_reauth_required(request: HttpRequest, exc: ReauthRequired) -> HttpResponse:
    return error_response(request, 403, "reauth_required", "Re-authenticate, then try again.")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", "Your role does not allow this.")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthenticated", "Log in first.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", str(exc))


api.add_router("/programs", programs_router)
api.add_router("/programs", participants_router)
api.add_router("/programs", consent_router)
api.add_router("/programs", treatment_router)
api.add_router("/programs", measures_router)
api.add_router("/programs", groupwork_router)
api.add_router("/programs", safety_router)
api.add_router("/me", portal_router)
api.add_router("/me", portal_measures_router)
