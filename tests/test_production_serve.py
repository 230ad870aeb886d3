"""The production layout end to end (issue 12, "Done means"; docs/operations.md).

`openiop serve` (real gunicorn, production settings) and `openiop worker` (RQ on the machine's
Redis, a database number of its own) run as subprocesses against this test's PostgreSQL
database. Through plain HTTP, as the reverse proxy would forward it: /healthz and /readyz answer,
a hashed, compressed static file comes from WhiteNoise, a clinician logs in through the real
login page with password and authenticator code and opens a chart, a participant logs in and
sends a check-in whose safety answer raises an event, and the worker runs the event's escalation
job. The web server's and the worker's JSON logs never name the participant.

PostgreSQL only: the servers are other processes and need a database they can share.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.accounts.models import User
from openiop.core import clock
from openiop.safety.models import SafetyEvent
from openiop.testing import PASSWORD, build_world

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL (DATABASE_URL): the servers run in other processes",
    ),
    pytest.mark.django_db(transaction=True),
    # One test process runs all of this file (pytest-xdist): its tests share Redis database 13.
    pytest.mark.xdist_group("redis-db-13"),
]

REDIS_URL = "redis://127.0.0.1:6379/13"  # this test's own Redis database, emptied around it
OPENIOP = str(Path(sys.executable).with_name("openiop"))
SECRET = "test-only-" + "s" * 60
# Generous: the test took 40-56 s on this two-core machine while other suites ran, but CI may share
# their cores; a slow start must not leave a process behind (each step is stopped on failure).
STEP_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis():
    import redis

    return redis.Redis.from_url(REDIS_URL)


class Browser:
    """Just enough of a browser behind a TLS-terminating proxy: cookies (the Secure ones
    included, since the proxy speaks HTTPS to the user), X-Forwarded-Proto, Origin and
    Referer for Django's CSRF checks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None, **headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        all_headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Accept-Encoding": "identity",
            **headers,
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = self.origin
            all_headers["Referer"] = self.origin + path
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response, content

    def get(self, path: str, **headers):
        return self.request("GET", path, **headers)

    def form(self, path: str) -> dict[str, str]:
        """The hidden fields of the first form on the page (CSRF token, idempotency key)."""
        response, content = self.get(path)
        assert response.status == 200, (path, response.status)
        html = content.decode()
        return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))

    def post(self, path: str, data: dict[str, str]):
        fields = self.form(path)
        return self.request("POST", path, {**fields, **data})


def _wait_for(browser: Browser, path: str, deadline: float, procs) -> None:
    while True:
        for proc in procs:
            assert proc.poll() is None, f"{proc.args} exited with {proc.returncode}"
        try:
            response, _ = browser.get(path)
            if response.status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{path} did not answer in time"
        time.sleep(0.2)


def _run(args, env, tmp_path: Path, name: str) -> subprocess.Popen:
    out = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [OPENIOP, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's graceful stop
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serve_and_worker_on_postgresql_and_redis(tmp_path, request):
    if request.config.getoption("--clock-at", default=""):
        pytest.skip("the servers run on the real clock, not the test's shifted one")
    started = time.monotonic()
    world = build_world()
    TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
    # The suite hashes passwords with MD5 for speed; the production settings accept Argon2 only.
    argon2 = Argon2PasswordHasher()
    for user in (world.clinician_a, world.participant_user):
        User.objects.filter(pk=user.pk).update(password=argon2.encode(PASSWORD, argon2.salt()))
    participant = world.participant_a
    settings_db = connection.settings_dict
    database_url = (
        f"postgres://{settings_db['USER']}@{settings_db['HOST'] or '127.0.0.1'}:"
        f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
    )
    port = _free_port()
    env = {
        **os.environ,
        "OPENIOP_ENV": "production",
        "OPENIOP_SECRET_KEY": SECRET,
        "OPENIOP_ALLOWED_HOSTS": "127.0.0.1",
        "OPENIOP_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "OPENIOP_TASKS_BACKEND": "rq",
        "OPENIOP_REDIS_URL": REDIS_URL,
        "OPENIOP_WEB_WORKERS": "1",
        "OPENIOP_WEB_THREADS": "4",
        "OPENIOP_LOG_LEVEL": "DEBUG",
    }
    env.pop("OPENIOP_DEBUG", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    _redis().flushdb()
    # The operator's steps (docs/operations.md): migrate (RQ's app adds its own) and collect
    # the static files, at the same time to keep the test short.
    # The worker needs neither, so it starts alongside.
    worker = _run(["worker"], env, tmp_path, "worker")
    steps = [
        _run(["migrate", "--no-input", "-v", "0"], env, tmp_path, "migrate"),
        _run(["collectstatic", "--no-input", "-v", "0"], env, tmp_path, "collectstatic"),
    ]
    try:
        assert [step.wait(timeout=STEP_TIMEOUT) for step in steps] == [0, 0]
    finally:
        for step in steps:
            _stop(step)
    stages = {"migrate and collectstatic": time.monotonic() - started}

    web = _run(["serve", "--bind", f"127.0.0.1:{port}"], env, tmp_path, "web")
    try:
        browser = Browser(port)
        _wait_for(browser, "/healthz", time.monotonic() + STEP_TIMEOUT, [web, worker])
        stages["web up"] = time.monotonic() - started

        response, content = browser.get("/readyz")
        assert response.status == 200, content
        assert json.loads(content)["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "tasks": "ok",
        }

        # A hashed, compressed stylesheet from WhiteNoise, cached for good.
        response, content = browser.get("/accounts/login/")
        assert response.status == 200
        css = re.search(r'href="(/static/openiop/app\.[0-9a-f]{12}\.css)"', content.decode())
        assert css, "the login page does not link the hashed stylesheet"
        response, _ = browser.get(css.group(1), **{"Accept-Encoding": "br, gzip"})
        assert response.status == 200
        assert response.getheader("Content-Encoding") in ("br", "gzip")
        assert "immutable" in (response.getheader("Cache-Control") or "")

        # A clinician: password, then the authenticator code, then the chart.
        staff = Browser(port)
        response, content = staff.post(
            "/accounts/login/",
            {"username": world.clinician_a.username, "password": PASSWORD},
        )
        assert response.status == 302, re.findall(r'role="alert".*?</', content.decode(), re.S)
        verify = response.getheader("Location")
        assert verify.startswith("/accounts/mfa/verify/")
        device = TOTPDevice.objects.get(user=world.clinician_a)
        response, _ = staff.post(verify, {"code": mfa.current_code(device)})
        assert response.status == 302, response.status
        chart = f"/p/{world.program_a.external_id}/participants/{participant.external_id}/"
        response, content = staff.get(chart)
        assert response.status == 200
        assert "Quillby" in content.decode()  # the chart really shows the participant
        assert "script-src 'self'" in response.getheader("Content-Security-Policy")

        # The participant sends a check-in whose safety answer raises an event.
        portal = Browser(port)
        response, _ = portal.post(
            "/accounts/login/",
            {"username": world.participant_user.username, "password": PASSWORD},
        )
        assert response.status == 302
        answers = {
            "kind": "daily",
            "mood": "3",
            "craving": "2",
            "used_since_last": "no",
            "sleep_hours": "6",
            "medication": "taken",
            "safety_concern": "yes",
        }
        response, _ = portal.post("/me/check-in/", answers)
        assert response.status == 302, response.status
        event = SafetyEvent.objects.get(participant=participant)
        assert event.escalation_level == 0

        # The web process put the escalation job on Redis, due in half an hour. Let the half
        # hour pass (the event's clock and the job's due time), and the worker runs it.
        import django_rq  # noqa: F401 - the queue classes below are RQ's
        from rq import Queue
        from rq.registry import ScheduledJobRegistry

        queue = Queue("default", connection=_redis())
        registry = ScheduledJobRegistry(queue=queue)
        (job_id,) = registry.get_job_ids()
        job = queue.fetch_job(job_id)
        assert job.func_name == "openiop.safety.actions.safety_escalate_if_due"
        assert list(job.args) == [event.pk]
        SafetyEvent.objects.filter(pk=event.pk).update(
            created_at=event.created_at - timedelta(hours=1)
        )
        stages["logins, chart and check-in"] = time.monotonic() - started
        registry.schedule(job, clock.now() - timedelta(seconds=1))
        deadline = time.monotonic() + STEP_TIMEOUT
        while SafetyEvent.objects.get(pk=event.pk).escalation_level == 0:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker did not run the escalation"
            time.sleep(0.2)
        stages["escalated by the worker"] = time.monotonic() - started
    finally:
        _stop(web)
        _stop(worker)
        _redis().flushdb()
    stages["stopped"] = time.monotonic() - started

    logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("web", "worker")}
    access = []
    for line in logs["web"].splitlines():
        record = json.loads(line)  # every line is JSON
        if record.get("logger") == "gunicorn.access":
            access.append(record)
        assert record.get("request_id"), line
    assert {r["path"] for r in access} >= {"/healthz", "/readyz", chart, "/me/check-in/"}
    assert not any("?" in r["path"] for r in access), "a query string reached the access log"
    assert "safety_escalate_if_due" in logs["worker"]
    for name, text in logs.items():
        for secret in (participant.legal_last_name, participant.legal_first_name):
            assert secret not in text, f"the {name} log names the participant"
        assert participant.record_number not in text, f"the {name} log has the record number"
    print("production layout test:", ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
