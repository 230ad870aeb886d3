"""The production serving pieces without a server: `openiop serve`'s refusals and sizing, the
JSON access log, /readyz, the request id on every log line and WhiteNoise's hashed files.
(tests/test_production_serve.py runs the real thing on PostgreSQL and Redis.)"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, override_settings
from django.urls import reverse

from openiop.core import health
from openiop.core.logs import RequestIdFilter
from openiop.core.serving import JsonLogger, ServeRefused, preflight, serve_config
from openiop.core.storage import StaticStorage

KEY = "k" * 60
PRODUCTION_ENV = {
    "OPENIOP_ENV": "production",
    "OPENIOP_SECRET_KEY": KEY,
    "OPENIOP_ALLOWED_HOSTS": "iop.example.org",
}


# --- Refusals --------------------------------------------------------------------------------


def test_preflight_accepts_a_production_environment():
    assert preflight(PRODUCTION_ENV) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"OPENIOP_ENV": "development"}, "OPENIOP_ENV"),
        ({"OPENIOP_SECRET_KEY": ""}, "OPENIOP_SECRET_KEY"),
        ({"OPENIOP_SECRET_KEY": "short"}, "OPENIOP_SECRET_KEY"),
        ({"OPENIOP_ALLOWED_HOSTS": " , "}, "OPENIOP_ALLOWED_HOSTS"),
        ({"OPENIOP_DEBUG": "1"}, "OPENIOP_DEBUG"),
    ],
)
def test_preflight_names_what_is_missing(change, named):
    problems = preflight({**PRODUCTION_ENV, **change})
    assert len(problems) == 1 and named in problems[0]


def test_cli_refuses_before_loading_the_settings(monkeypatch, capsys):
    from openiop import cli

    for name in PRODUCTION_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENIOP_ENV", "production")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "refused to start" in err and "OPENIOP_SECRET_KEY" in err
    assert "OPENIOP_ALLOWED_HOSTS" in err and "Traceback" not in err


def test_serve_command_refuses_debug(monkeypatch):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    err = io.StringIO()
    with override_settings(DEBUG=True, PRODUCTION=True), pytest.raises(SystemExit) as exited:
        call_command("serve", "--print-config", stderr=err)
    assert exited.value.code == 2
    assert "DEBUG is on" in err.getvalue()


def test_serve_command_refuses_uncollected_static_files(monkeypatch, tmp_path):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    err = io.StringIO()
    with (
        override_settings(DEBUG=False, PRODUCTION=True, STATIC_ROOT=tmp_path),
        pytest.raises(SystemExit),
    ):
        call_command("serve", "--print-config", stderr=err)
    assert "collectstatic" in err.getvalue()


def test_serve_command_prints_its_configuration(monkeypatch, tmp_path):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENIOP_WEB_THREADS", "8")
    (tmp_path / "staticfiles.json").write_text("{}")
    out = io.StringIO()
    with override_settings(DEBUG=False, PRODUCTION=True, STATIC_ROOT=tmp_path):
        call_command("serve", "--print-config", "--workers", "2", stdout=out)
    config = json.loads(out.getvalue())
    assert config["workers"] == 2 and config["threads"] == 8


# --- Sizing ----------------------------------------------------------------------------------


def test_sized_from_the_cpu_count():
    config = serve_config({}, cpu_count=2)
    assert (config.workers, config.threads, config.bind) == (3, 4, "127.0.0.1:8000")
    assert config.graceful_timeout == 30
    assert serve_config({}, cpu_count=8).workers == 9


def test_environment_overrides_and_flags_override_the_environment():
    env = {"OPENIOP_WEB_WORKERS": "5", "OPENIOP_WEB_THREADS": "2", "OPENIOP_WEB_BIND": "0:9000"}
    config = serve_config(env, cpu_count=2)
    assert (config.workers, config.threads, config.bind) == (5, 2, "0:9000")
    config = serve_config(env, cpu_count=2, workers=7, threads=1, bind="127.0.0.1:1")
    assert (config.workers, config.threads, config.bind) == (7, 1, "127.0.0.1:1")


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_bad_sizes_are_refused_by_name(value):
    with pytest.raises(ServeRefused, match="OPENIOP_WEB_WORKERS"):
        serve_config({"OPENIOP_WEB_WORKERS": value})


# --- Access log ------------------------------------------------------------------------------


def test_access_log_is_json_without_the_query_string():
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "abc123")], sent=1234)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/p/x/participants/",
        "QUERY_STRING": "q=Quillby",
        "RAW_URI": "/p/x/participants/?q=Quillby",
        "REMOTE_ADDR": "203.0.113.9",
    }
    logger.access(response, None, environ, timedelta(milliseconds=12))
    line = stream.getvalue().strip()
    record = json.loads(line)
    assert record["path"] == "/p/x/participants/" and record["status"] == 200
    assert record["request_id"] == "abc123" and record["duration_ms"] == 12.0
    assert "Quillby" not in line and "203.0.113.9" not in line


# --- /readyz ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_memo(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


@pytest.mark.django_db
def test_readyz_is_ready_without_logging_in(fresh_memo):
    response = Client().get(reverse("home:readyz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "tasks": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_pending_migrations(fresh_memo, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["0099"])
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["migrations"]


@pytest.mark.django_db
def test_readyz_without_the_database(monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: "unavailable")
    body = Client().get("/readyz").json()
    assert body["checks"] == {
        "database": "unavailable",
        "migrations": "skipped",
        "tasks": "skipped",
    }


@pytest.mark.django_db
def test_readyz_names_an_unreachable_redis(fresh_memo):
    rq = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:1/0"}},
    }
    with override_settings(**rq):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["tasks"]


@pytest.mark.django_db
def test_readyz_reaches_the_machines_redis(fresh_memo):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/14").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    rq = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:6379/14"}},
    }
    with override_settings(**rq):
        assert Client().get("/readyz").status_code == 200


# --- Logs ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_log_line_of_a_request_carries_its_request_id():
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client().get("/accounts/login/nowhere/")  # a 404, which Django logs
        logging.getLogger("openiop").warning("outside any request")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all(line["request_id"] == response["X-Request-ID"] for line in lines)


def test_production_log_configuration_is_json():
    from django.conf import settings

    formatter = settings.LOGGING["formatters"]["json"]
    assert formatter["()"] == "pythonjsonlogger.json.JsonFormatter"
    assert "request_id" in settings.LOGGING["handlers"]["console"]["filters"]


# --- Static files ----------------------------------------------------------------------------


class UncompressedStaticStorage(StaticStorage):
    """The production storage minus the gzip/brotli copies, which take seconds of CPU; the
    PostgreSQL run (tests/test_production_serve.py) fetches a compressed file for real."""

    def compress_files(self, paths):
        return iter(())


PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "tests.test_serving.UncompressedStaticStorage"},
}


def test_collectstatic_writes_hashed_files_that_templates_use(tmp_path):
    """The production storage collects every app's files (the vendored Chart.js names a source
    map it does not ship, which must not stop it) and {% static %} gives the hashed name."""
    template = Template("{% load static %}{% static 'openiop/app.css' %}")
    assert template.render(Context()) == "/static/openiop/app.css"  # development: as is
    with override_settings(STORAGES=PRODUCTION_STORAGES, STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--no-input", verbosity=0)
        hashed = template.render(Context())
    assert hashed.startswith("/static/openiop/app.") and hashed != "/static/openiop/app.css"
    assert (tmp_path / hashed.removeprefix("/static/")).exists()
    assert list((tmp_path / "vendor").glob("chart.umd.min.*.js"))


def test_whitenoise_runs_right_after_the_security_middleware():
    from django.conf import settings

    assert settings.MIDDLEWARE[:3] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "csp.middleware.CSPMiddleware",
    ]
