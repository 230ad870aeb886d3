"""`openiop serve`: gunicorn running the Django WSGI application, configured for production.

The settings come from flags, then environment variables, then defaults sized from the CPU count
(docs/operations.md). The access log is one JSON object per request with the method, the path
*without its query string*, the status, the size, the duration and the request id; no address,
no user agent, no referrer (AU-04: an IP address identifies a person as much as a name).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger
from pythonjsonlogger.json import JsonFormatter

from openiop.core.logs import JSON_RESERVED_ATTRS, RequestIdFilter


class ServeRefused(Exception):
    """A production setting is missing or unsafe; the message says which and what to set."""


def preflight(environ: Mapping[str, str]) -> list[str]:
    """Reasons not to serve, from the environment alone (before the settings are loaded,
    because the settings module itself refuses a production start without a key)."""
    problems = []
    if environ.get("OPENIOP_ENV") != "production":
        problems.append(
            "OPENIOP_ENV is not 'production': `openiop serve` runs only the production "
            "configuration (use `openiop demo` or `openiop runserver` to develop)"
        )
    if len(environ.get("OPENIOP_SECRET_KEY", "")) < 50:
        problems.append("OPENIOP_SECRET_KEY is not set (it must be 50 or more random characters)")
    hosts = [h for h in environ.get("OPENIOP_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts:
        problems.append("OPENIOP_ALLOWED_HOSTS is not set (the host names users type)")
    debug = environ.get("OPENIOP_DEBUG", "").strip().lower()
    if debug in {"1", "true", "yes", "on"}:
        problems.append("OPENIOP_DEBUG is on: debug pages would show data to anyone")
    return problems


@dataclass(frozen=True)
class ServeConfig:
    bind: str
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    keepalive: int
    max_requests: int
    max_requests_jitter: int
    forwarded_allow_ips: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: str | int | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ServeRefused(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ServeRefused(f"{name} must be at least 1, not {number}")
    return number


def serve_config(
    environ: Mapping[str, str],
    *,
    cpu_count: int | None = None,
    bind: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> ServeConfig:
    """Flags win over the environment, which wins over the defaults: one process per core plus
    one (a request that waits on the database leaves the core to another) with four threads
    each (gthread), so two cores take 12 requests at once."""
    cpus = cpu_count or os.cpu_count() or 1

    def env(name: str) -> int | None:
        return _int(environ.get(name), name)

    return ServeConfig(
        bind=bind or environ.get("OPENIOP_WEB_BIND") or "127.0.0.1:8000",
        workers=_int(workers, "--workers") or env("OPENIOP_WEB_WORKERS") or cpus + 1,
        threads=_int(threads, "--threads") or env("OPENIOP_WEB_THREADS") or 4,
        timeout=env("OPENIOP_WEB_TIMEOUT") or 60,
        graceful_timeout=env("OPENIOP_WEB_GRACEFUL_TIMEOUT") or 30,
        keepalive=5,
        max_requests=env("OPENIOP_WEB_MAX_REQUESTS") or 2000,
        max_requests_jitter=200,
        forwarded_allow_ips=environ.get("OPENIOP_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    )


def _json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=JSON_RESERVED_ATTRS,
    )


class JsonLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own lines and its access log as JSON, like the application's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(_json_formatter())
                    handler.addFilter(RequestIdFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        request_id = "-"
        for name, value in resp.headers:
            if name.lower() == "x-request-id":
                request_id = value
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),  # never QUERY_STRING
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "request_id": request_id,
            },
        )


class OpenIOPServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": [self.config.bind],
            "workers": self.config.workers,
            "threads": self.config.threads,
            "worker_class": "gthread",
            "timeout": self.config.timeout,
            "graceful_timeout": self.config.graceful_timeout,
            "keepalive": self.config.keepalive,
            "max_requests": self.config.max_requests,
            "max_requests_jitter": self.config.max_requests_jitter,
            "forwarded_allow_ips": self.config.forwarded_allow_ips,
            "accesslog": "-",
            "errorlog": "-",
            "logger_class": JsonLogger,
            "proc_name": "openiop",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """settings.WSGI_APPLICATION (openiop.wsgi.application), as Django's own servers do."""
        from django.core.servers.basehttp import get_internal_wsgi_application

        return get_internal_wsgi_application()


def describe(config: ServeConfig) -> str:
    return json.dumps(config.as_dict(), sort_keys=True)
