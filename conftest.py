"""Shared fixtures: personas, fast password hashing, and loud failures for missing services."""

from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
import time_machine
from django.test import Client

from openiop.testing import World, build_world, verified_client


@pytest.fixture(autouse=True)
def _empty_cache():
    # The public forms' throttles count in the cache (openiop.core.throttle): each test starts
    # with none spent, whatever ran before it in this process.
    from django.core.cache import cache

    cache.clear()


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


def _flush_past_sqlite_triggers() -> None:
    """Django empties a SQLite test database between transactional tests with DELETE (no
    TRUNCATE there), which the immutability triggers refuse; the flush runs with the
    'bypass' flag row set inside its own transaction (audit migration 0004). PostgreSQL test
    databases allow TRUNCATE instead (audit migration 0003)."""
    from django.db.backends.sqlite3.base import DatabaseOperations  # base first: import cycle

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        return [
            "INSERT OR IGNORE INTO openiop_trigger_flag (name) VALUES ('bypass')",
            *statements,
            "DELETE FROM openiop_trigger_flag WHERE name = 'bypass'",
        ]

    DatabaseOperations.sql_flush = sql_flush


_flush_past_sqlite_triggers()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        default=os.environ.get("OPENIOP_TEST_CLOCK", ""),
        help="run the whole suite with the clock moved to this ISO-8601 instant (it keeps "
        "ticking); CI uses instants chosen to break date code (see .ci/clock-instants)",
    )


def pytest_configure(config: pytest.Config) -> None:
    instant = config.getoption("--clock-at")
    if not instant:
        return
    moment = datetime.fromisoformat(instant)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--clock-at needs an offset, e.g. {instant}+00:00")
    # Started before collection, so module-level values see the shifted clock too; tests that
    # travel themselves nest inside this one.
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    instant = config.getoption("--clock-at")
    return f"clock shifted to {instant} (ticking)" if instant else None


def pytest_sessionstart(session: pytest.Session) -> None:
    # The suite must never silently skip its browser tests where CI expects them.
    if os.environ.get("OPENIOP_REQUIRE_BROWSER") and not shutil.which("chromium"):
        raise pytest.UsageError("chromium is not installed; run `make chromium` (browser tests)")
