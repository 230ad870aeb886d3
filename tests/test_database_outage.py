"""While the database is away (PostgreSQL restarting), a failed request answers 503 with
Retry-After, in words for people (with 988 for anyone in crisis) and in JSON for the API, so
clients and the proxy retry instead of showing a 500 or Django's 400 "session interrupted".
With the database up, a 400 or 500 stays what it is."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connections
from django.http import HttpResponse
from django.test import RequestFactory

from openiop.core import middleware
from openiop.core.middleware import DatabaseUnavailableMiddleware

pytestmark = pytest.mark.django_db


def _failing(status: int) -> DatabaseUnavailableMiddleware:
    return DatabaseUnavailableMiddleware(lambda request: HttpResponse("failed", status=status))


@pytest.mark.parametrize("status", [400, 500])
def test_a_request_failed_by_a_database_outage_is_503_with_retry_after(monkeypatch, status):
    monkeypatch.setattr(middleware, "database_answers", lambda alias="default": False)
    page = _failing(status)(RequestFactory().get("/p/x/participants/"))
    assert page.status_code == 503 and page["Retry-After"] == "5"
    text = page.content.decode()
    assert "Back in a moment" in text and "988" in text
    api = _failing(status)(RequestFactory().post("/api/v1/me/checkins"))
    assert api.status_code == 503 and api["Content-Type"] == "application/json"
    assert "retry" in api.content.decode()


def test_with_the_database_up_failures_stay_as_they_are():
    assert _failing(400)(RequestFactory().get("/x/")).status_code == 400
    assert _failing(500)(RequestFactory().get("/x/")).status_code == 500
    assert _failing(404)(RequestFactory().get("/x/")).status_code == 404


def test_database_answers_tries_a_fresh_connection(monkeypatch):
    """An unusable connection outside a transaction is closed and a new one tried; it fails
    while the server is down."""
    connection = connections["default"]
    monkeypatch.setattr(connection, "in_atomic_block", False)
    monkeypatch.setattr(connection, "is_usable", lambda: False)

    def refuse() -> None:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(connection, "close", lambda: None)
    monkeypatch.setattr(connection, "ensure_connection", refuse)
    assert middleware.database_answers() is False
    monkeypatch.setattr(connection, "ensure_connection", lambda: None)
    assert middleware.database_answers() is True


def test_a_connection_cut_mid_request_is_503_even_with_the_database_back(monkeypatch):
    """pg_terminate_backend or a failover breaks the request's connection while the server
    stays up: the session save then fails and Django answers 400 "session interrupted". The
    load benchmark's connection-cut fault saw those; they are a database outage too."""
    connection = connections["default"]
    monkeypatch.setattr(middleware, "database_answers", lambda alias="default": True)
    monkeypatch.setattr(connection, "errors_occurred", True)
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    assert _failing(400)(RequestFactory().get("/p/x/sessions/y/")).status_code == 503
    assert _failing(500)(RequestFactory().get("/p/x/")).status_code == 503


def test_an_error_on_a_working_connection_stays_a_500(monkeypatch):
    """A bad query marks the connection too, but it still answers: that is a bug to see."""
    connection = connections["default"]
    monkeypatch.setattr(connection, "errors_occurred", True)
    monkeypatch.setattr(connection, "is_usable", lambda: True)
    assert _failing(500)(RequestFactory().get("/p/x/")).status_code == 500
    assert _failing(400)(RequestFactory().get("/p/x/")).status_code == 400
