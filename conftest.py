"""Shared fixtures: personas, fast password hashing, and loud failures for missing services."""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client

from openiop.testing import World, build_world, verified_client


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is exercised by its own tests; elsewhere it would only slow the suite down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def client_for():
    """client_for(user) logs in with a verified second factor (as a real staff log-in would);
    client_for(user, stepped_up=True) also has a fresh re-authentication."""

    def make(user, stepped_up: bool = False) -> Client:
        return verified_client(user, stepped_up=stepped_up)

    return make


@pytest.fixture
def password_only_client():
    """A staff session that passed the password but not the second factor."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def pytest_sessionstart(session: pytest.Session) -> None:
    # The suite must never silently skip its browser tests where CI expects them.
    if os.environ.get("OPENIOP_REQUIRE_BROWSER") and not shutil.which("chromium"):
        raise pytest.UsageError("chromium is not installed; run `make chromium` (browser tests)")
