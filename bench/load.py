"""Load-and-fault benchmark of the production layout (issue 12); not part of the suite.

    .venv/bin/python bench/load.py --participants 5000 --duration 60 --fault-duration 60

1. Setup (unless --reuse): a fresh PostgreSQL database (`--database`, default
   openiop_bench_load), migrated, `openiop seed --participants 60 --weeks 16` for the demo
   world (staff with authenticators, portal logins, today's groups), then participants
   bulk-added to Riverside Adult IOP (openiop.bulkworld) up to --participants, each with 12
   weekly PHQ-9 scores; `collectstatic` into a temporary static root.
2. Growth model off the request path: the model is fitted once (as the worker would), one more
   score makes that fit stale, and with no worker running the measures page is timed at this
   size: it must not fit (the page answers in page time, and exactly one refit is queued).
   Then the worker starts, runs the refit, and the page is timed again.
3. Two `openiop serve` instances (production settings, gunicorn) on two ports and one
   `openiop worker`. Clients log in through the real pages (password, then the TOTP code from
   the demo authenticator; participants by password) with plain http.client connections,
   sending X-Forwarded-Proto: https as the TLS proxy would. Phase "healthz": only /healthz.
   Phase "pages": clinicians open program home, search, a chart, the session runner and the
   measures page; participants check in through the portal API with an Idempotency-Key and
   retry (same key) on a connection error, a timeout or a 5xx. Phase "faults": the same mix
   while web instance 1 and the worker are SIGKILLed and restarted and the database's
   connections are cut (pg_terminate_backend on this database only), or, with
   --restart-postgres, PostgreSQL itself is restarted (`pg_ctlcluster VERSION main restart`:
   needs root or the postgres user, and stops every other database on the server too).
4. Checks: every acknowledged check-in is stored exactly once; every safety event raised by a
   check-in escalates once its (benchmark: 1 minute) escalation falls due, also those raised
   while the worker was down; `openiop audit verify` passes; 5xx responses are listed with
   whether they were in flight on the killed instance.

The settings module bench/load_settings.py is openiop.settings with a 1-minute escalation.
Results go to stdout and, with --write, into docs/benchmarks.md between the load-benchmark
markers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OPENIOP = str(BIN / "openiop")
DOCS = ROOT / "docs" / "benchmarks.md"
PROGRAM = "Riverside Adult IOP"
CLINICIANS = ["casey.clinician", "morgan.clinician", "riley.clinician", "sam.supervisor"]


# docs/benchmarks.md keeps one block per --section (back-to-back users, paced users).
def markers(section: str) -> tuple[str, str]:
    return f"<!-- {section} -->", f"<!-- /{section} -->"


# --------------------------------------------------------------------------- environment


def bench_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "OPENIOP_ENV": "production",
            "OPENIOP_SECRET_KEY": args.secret,
            "OPENIOP_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OPENIOP_SSL_REDIRECT": "0",
            "OPENIOP_STATIC_ROOT": args.static_root,
            "OPENIOP_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "load_settings",
            "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        }
    )
    return env


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- setup


def setup_world(args: argparse.Namespace) -> None:
    """Migrate and seed (unless --reuse), then top the program up to --participants."""
    from django.core.management import call_command

    from openiop.accounts.models import User
    from openiop.bulkworld import bulk_admit
    from openiop.core import clock
    from openiop.participants.models import Participant
    from openiop.programs.models import Program, Track

    log("migrating")
    call_command("migrate", verbosity=0)
    if not args.reuse:
        log("seeding the demo world (60 participants)")
        call_command("seed", participants=60, weeks=16, seed=7, verbosity=0)
    program = Program.objects.get(name=PROGRAM)
    have = Participant.objects.filter(program=program).count()
    if have < args.participants:
        log(f"bulk-adding {args.participants - have} participants with 12 weekly PHQ-9 scores")
        track = Track.objects.filter(program=program).order_by("id").first()
        assert track is not None
        bulk_admit(
            program=program,
            track=track,
            clinician=User.objects.get(username="casey.clinician"),
            count=args.participants - have,
            start=have,
            admitted_on=clock.program_today(program) - timedelta(weeks=12),
            phq9_weekly=12,
            first_at=clock.now() - timedelta(weeks=12, days=1),
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after the bulk load
    log("collectstatic")
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("check", deploy=False, verbosity=0)


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    logfile: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.logfile.open("ab")
        self.popen = subprocess.Popen(
            self.argv, env=self.env, stdout=out, stderr=out, start_new_session=True, cwd=ROOT
        )

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def web(port: int, env: dict[str, str], logdir: Path, args: argparse.Namespace) -> Proc:
    serve = ROOT / "openiop" / "core" / "management" / "commands" / "serve.py"
    if serve.exists():
        argv = [OPENIOP, "serve", "--bind", f"127.0.0.1:{port}"]
        argv += ["--workers", str(args.web_workers), "--threads", str(args.web_threads)]
    else:  # before `openiop serve` existed: gunicorn on the WSGI app, same sizing
        argv = [str(BIN / "gunicorn"), "openiop.wsgi", "-b", f"127.0.0.1:{port}"]
        argv += ["-w", str(args.web_workers), "--threads", str(args.web_threads)]
    return Proc(f"web:{port}", argv, env, logdir / f"web-{port}.log")


def restart_postgres() -> None:
    """Restart the machine's PostgreSQL cluster (Debian's pg_ctlcluster) and wait until it
    accepts connections again."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True
    )
    for _ in range(60):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not come back within 30 s")


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"web on {port} did not come up")


# --------------------------------------------------------------------------- HTTP client


class Client:
    """One simulated user: cookies, CSRF token, a keep-alive connection per port."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.cookies: dict[str, str] = {}
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def _conn(self, port: int, timeout: float) -> http.client.HTTPConnection:
        conn = self.conns.get(port)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            self.conns[port] = conn
        conn.timeout = timeout
        return conn

    def request(
        self,
        method: str,
        path: str,
        port: int,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self._conn(port, timeout)
        base = {
            "X-Forwarded-Proto": "https",
            "Referer": f"https://127.0.0.1:{port}{path}",
            "Host": f"127.0.0.1:{port}",
        }
        if self.cookies:
            base["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        base.update(headers or {})
        reused = getattr(conn, "used", False)
        try:
            conn.request(method, path, body=body, headers=base)
            resp = conn.getresponse()
            data = resp.read()
            conn.used = True  # type: ignore[attr-defined]
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            self.conns.pop(port, None)
            if not reused:
                raise
            # The server closed an idle keep-alive connection: once more on a new one, as
            # every HTTP client library does.
            return self.request(method, path, port, body, headers, timeout)
        except BaseException:
            conn.close()
            self.conns.pop(port, None)
            raise
        for raw in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value in ('""', ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conns.pop(port, None)
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def form_post(self, path: str, port: int, fields: dict[str, str]) -> tuple[int, str]:
        status, _, body = self.request("GET", path, port)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert token is not None, f"no form on {path} ({status})"
        data = {**fields, "csrfmiddlewaretoken": token.group(1).decode()}
        from urllib.parse import urlencode

        status, headers, _ = self.request(
            "POST",
            path,
            port,
            body=urlencode(data).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status, headers.get("location", "")


def login_staff(client: Client, username: str, password: str, code: Callable[[], str]) -> None:
    port = client.ports[0]
    status, location = client.form_post(
        "/accounts/login/", port, {"username": username, "password": password}
    )
    assert status == 302, f"{username}: password step answered {status}"
    if "mfa" in location:
        path = location.split("://", 1)[-1]
        path = path[path.index("/") :] if not location.startswith("/") else location
        status, location = client.form_post(path, port, {"code": code()})
        assert status == 302, f"{username}: code step answered {status}"


def login_participant(client: Client, username: str, password: str) -> None:
    status, _ = client.form_post(
        "/accounts/login/", client.ports[0], {"username": username, "password": password}
    )
    assert status == 302, f"participant login answered {status}"


# --------------------------------------------------------------------------- recording


@dataclass
class Sample:
    phase: str
    page: str
    port: int
    status: int  # 0: connection error / timeout
    started: float
    ended: float
    error: str = ""


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, str] = field(default_factory=dict)  # idempotency key -> check-in id
    given_up: list[str] = field(default_factory=list)
    retries: int = 0
    replayed: int = 0
    events: list[tuple[str, float]] = field(default_factory=list)  # (what, monotonic time)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def timed(
    run: Run, phase: str, page: str, client: Client, port: int, method: str, path: str, **kw: Any
) -> tuple[int, dict[str, str], bytes]:
    started = time.monotonic()
    try:
        status, headers, body = client.request(method, path, port, **kw)
    except (OSError, http.client.HTTPException) as exc:
        run.add(Sample(phase, page, port, 0, started, time.monotonic(), type(exc).__name__))
        raise
    run.add(Sample(phase, page, port, status, started, time.monotonic()))
    return status, headers, body


@dataclass
class World:
    program: str
    session: str
    people: list[str]


def clinician_loop(
    run: Run,
    client: Client,
    world: World,
    phase: Callable[[], str],
    stop: threading.Event,
    think: float = 0.0,
) -> None:
    """Opens the five pages in turn, forever. `think` is the mean pause (exponential) after
    each page, as a person reads it; 0 sends the next request as soon as one is answered."""
    rng = random.Random(id(client))
    base = f"/p/{world.program}"
    i = 0
    while not stop.is_set():
        person = rng.choice(world.people)
        pages = [
            ("program home", f"{base}/"),
            ("search", f"{base}/participants/?q=person{rng.randint(0, 49):02d}"),
            ("chart", f"{base}/participants/{person}/"),
            ("session runner", f"{base}/sessions/{world.session}/"),
            ("measures page", f"{base}/participants/{person}/measures/"),
        ]
        for page, path in pages:
            if stop.is_set():
                return
            port = client.ports[i % len(client.ports)]
            i += 1
            for attempt in range(3):  # as a proxy would: another instance if one is down
                try:
                    status, _, _ = timed(run, phase(), page, client, port, "GET", path)
                    if status != 200 and status < 500:
                        log(f"{page}: unexpected {status}")
                    break
                except (OSError, http.client.HTTPException):
                    port = client.ports[(client.ports.index(port) + 1) % len(client.ports)]
                    time.sleep(0.05 * (attempt + 1))
            if think > 0:
                stop.wait(rng.expovariate(1.0 / think))


def checkin_loop(
    run: Run,
    client: Client,
    phase: Callable[[], str],
    stop: threading.Event,
    safety_every: int,
) -> None:
    rng = random.Random(id(client))
    n = 0
    port = client.ports[0]
    while not stop.is_set():
        n += 1
        key = uuid.uuid4().hex
        body = {
            "kind": "daily",
            "mood": rng.randint(2, 9),
            "craving": rng.randint(0, 6),
            "used_since_last": False,
            "sleep_hours": "7",
            "medication": "taken",
            "safety_concern": safety_every > 0 and n % safety_every == 0,
            "skills_used": [],
        }
        payload = json.dumps(body).encode()
        for attempt in range(8):
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "X-CSRFToken": client.cookies.get("csrftoken", ""),
            }
            try:
                status, resp_headers, data = timed(
                    run,
                    phase(),
                    "check-in (API)",
                    client,
                    port,
                    "POST",
                    "/api/v1/me/check-ins",
                    body=payload,
                    headers=headers,
                    timeout=15,
                )
            except (OSError, http.client.HTTPException):
                status, resp_headers, data = 0, {}, b""
            if status == 201:
                with run.lock:
                    run.acked[key] = json.loads(data)["id"]
                    if resp_headers.get("idempotent-replayed") == "true":
                        run.replayed += 1
                break
            if 400 <= status < 500:
                log(f"check-in refused {status}: {data[:200]!r}")
                break
            with run.lock:
                run.retries += 1
            port = client.ports[(client.ports.index(port) + 1) % len(client.ports)]
            time.sleep(min(2.0, 0.1 * 2**attempt))
        else:
            with run.lock:
                run.given_up.append(key)
        # the portal home now and then, as a participant would
        if n % 3 == 0:
            with contextlib.suppress(OSError, http.client.HTTPException):
                timed(run, phase(), "portal home", client, port, "GET", "/me/")
        time.sleep(args_think)


args_think = 0.2  # seconds between a participant's check-ins (set from --checkin-pause)


def healthz_loop(run: Run, client: Client, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        port = client.ports[i % len(client.ports)]
        i += 1
        try:
            timed(run, "healthz", "/healthz", client, port, "GET", "/healthz")
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)


# --------------------------------------------------------------------------- analysis


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def table(run: Run, phase: str, seconds: float) -> tuple[list[str], dict[str, tuple[float, float]]]:
    rows = ["| page | requests | median (ms) | p95 (ms) | errors |", "|---|---|---|---|---|"]
    stats: dict[str, tuple[float, float]] = {}
    pages = sorted({s.page for s in run.samples if s.phase == phase})
    for page in pages:
        mine = [s for s in run.samples if s.phase == phase and s.page == page]
        ok = [1000 * (s.ended - s.started) for s in mine if 200 <= s.status < 400]
        bad = len(mine) - len(ok)
        med, p95 = statistics.median(ok) if ok else float("nan"), pct(ok, 95)
        stats[page] = (med, p95)
        rows.append(f"| {page} | {len(mine)} | {med:.0f} | {p95:.0f} | {bad} |")
    total = len([s for s in run.samples if s.phase == phase])
    rows.append(f"| all | {total} ({total / seconds:.1f}/s) | | | |")
    return rows, stats


# --------------------------------------------------------------------------- main


def main() -> int:
    global args_think
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--database", default="openiop_bench_load")
    parser.add_argument("--reuse", action="store_true", help="skip setup (database exists)")
    parser.add_argument("--clinicians", type=int, default=6, help="clinician threads")
    parser.add_argument("--participants-online", type=int, default=2, help="check-in threads")
    parser.add_argument("--healthz-duration", type=float, default=15)
    parser.add_argument("--duration", type=float, default=60, help="pages phase (s)")
    parser.add_argument("--fault-duration", type=float, default=60, help="faults phase (s)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--safety-every", type=int, default=10, help="every nth check-in")
    parser.add_argument("--checkin-pause", type=float, default=0.2)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="clinicians' mean pause after each page (s, exponential); 0: back to back",
    )
    parser.add_argument(
        "--section", default="load-benchmark", help="the block of docs/benchmarks.md to write"
    )
    parser.add_argument("--ports", default="8701,8702")
    parser.add_argument("--logdir", default=str(Path(tempfile.gettempdir()) / "openiop-load"))
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="restart the PostgreSQL server in the fault phase instead of cutting connections",
    )
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    args_think = args.checkin_pause
    args.secret = secrets.token_urlsafe(48)
    logdir = Path(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    args.static_root = str(logdir / "static")
    env = bench_env(args)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "bench"))
    if not args.reuse:
        psql(f'DROP DATABASE IF EXISTS "{args.database}"')
        psql(f'CREATE DATABASE "{args.database}"')
    import django

    django.setup()

    from openiop.groupwork.models import Session
    from openiop.participants.models import Participant
    from openiop.programs.models import Program

    t_setup = time.monotonic()
    setup_world(args)
    setup_s = time.monotonic() - t_setup
    program = Program.objects.get(name=PROGRAM)
    n_people = Participant.objects.filter(program=program).count()
    log(f"{n_people} participants in {PROGRAM} (setup {setup_s:.0f} s)")
    from openiop.core import clock

    today_sessions = Session.objects.filter(
        program=program,
        kind="group",
        starts_at__gte=clock.now() - timedelta(hours=12),
    ).order_by("starts_at")
    session = today_sessions.first() or Session.objects.filter(program=program).last()
    assert session is not None
    people = list(
        Participant.objects.filter(program=program, assessments__isnull=False)
        .distinct()
        .values_list("external_id", flat=True)[:300]
    )
    world = World(str(program.external_id), str(session.external_id), [str(p) for p in people])

    ports = [int(p) for p in args.ports.split(",")]
    webs = [web(port, env, logdir, args) for port in ports]
    worker = Proc("worker", [OPENIOP, "worker"], env, logdir / "worker.log")
    try:
        return measure(args, env, program, n_people, world, ports, webs, worker)
    finally:
        for proc in [*webs, worker]:
            proc.stop()


def measure(
    args: argparse.Namespace,
    env: dict[str, str],
    program: Any,
    n_people: int,
    world: World,
    ports: list[int],
    webs: list[Proc],
    worker: Proc,
) -> int:
    from django.db import connection
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tasks_db.models import DBTaskResult

    from openiop.accounts.models import User
    from openiop.bulkworld import bulk_admit
    from openiop.core import clock
    from openiop.demo.constants import DEMO_PASSWORD
    from openiop.measures.actions import growth_refit_run
    from openiop.measures.models import GrowthFit
    from openiop.participants.models import Participant
    from openiop.portal.models import CheckIn, IdempotencyRecord
    from openiop.safety.models import SafetyEvent

    report: list[str] = []

    # ---- growth model off the request path, at this size
    log("fitting the growth model once (as the worker would)")
    fit = growth_refit_run(program_id=program.pk, instrument="phq9")
    assert fit is not None
    first_fit_s = fit.fit_seconds
    casey = Participant.objects.filter(program=program, assessments__isnull=False).first()
    assert casey is not None

    bulk_admit(  # one more participant with a score: the stored fit is now stale
        program=program,
        track=casey.enrollments.first().track,  # type: ignore[union-attr]
        clinician=User.objects.get(username="casey.clinician"),
        count=1,
        start=900000 + int(time.time()) % 90000,
        admitted_on=clock.program_today(program),
        phq9_weekly=1,
        first_at=clock.now(),
    )
    DBTaskResult.objects.filter(task_path__endswith="growth_refit").delete()
    GrowthFit.objects.filter(pk=fit.pk).update(refit_queued_at=None)
    for w in webs:
        w.start()
    for port in ports:
        wait_ready(port)
    devices = {d.user.username: d for d in TOTPDevice.objects.select_related("user")}

    def code_for(username: str) -> Callable[[], str]:
        def make() -> str:
            device = devices[username]
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            totp.time = time.time()
            return f"{totp.token():0{device.digits}d}"

        return make

    staff_clients: list[Client] = []
    for username in CLINICIANS:
        c = Client(ports)
        login_staff(c, username, DEMO_PASSWORD, code_for(username))
        staff_clients.append(c)
    log(f"{len(staff_clients)} staff logged in through the login and code pages")

    timing = Run()
    probe = staff_clients[0]
    page = f"/p/{world.program}/participants/{world.people[0]}/measures/"
    stale_ms = []
    for i in range(10):
        status, _, body = timed(timing, "stale", "measures page", probe, ports[i % 2], "GET", page)
        assert status == 200
        stale_ms.append(1000 * (timing.samples[-1].ended - timing.samples[-1].started))
    said = re.search(rb'class="fit-basis">([^<]+)<', body)
    queued = DBTaskResult.objects.filter(task_path__endswith="growth_refit").count()
    log(f"stale fit: measures page median {statistics.median(stale_ms):.0f} ms, {queued} queued")
    worker.start()
    t0 = time.monotonic()
    while GrowthFit.objects.get(pk=fit.pk).refit_queued_at is not None:
        if time.monotonic() - t0 > 600:
            raise RuntimeError("the worker did not refit within 10 minutes")
        time.sleep(1)
    refit = GrowthFit.objects.get(pk=fit.pk)
    fresh_ms = []
    for i in range(10):
        timed(timing, "fresh", "measures page", probe, ports[i % 2], "GET", page)
        fresh_ms.append(1000 * (timing.samples[-1].ended - timing.samples[-1].started))
    _, _, body2 = probe.request("GET", page, ports[0])
    said2 = re.search(rb'class="fit-basis">([^<]+)<', body2)
    report += [
        f"Growth model at {n_people:,} participants ({refit.n_assessments:,} PHQ-9 scores):",
        "",
        "| | measures page median (ms) | max (ms) | fit in the request |",
        "|---|---|---|---|",
        f"| stale fit, no worker running | {statistics.median(stale_ms):.0f} | "
        f"{max(stale_ms):.0f} | no: {queued} refit queued by 10 views |",
        f"| after the worker's refit | {statistics.median(fresh_ms):.0f} | "
        f"{max(fresh_ms):.0f} | no |",
        "",
        f"The fit itself: {first_fit_s:.1f} s for the stored fit, {refit.fit_seconds:.1f} s "
        f"in the worker (queue to stored: {time.monotonic() - t0:.0f} s). The page said "
        f"\u201c{(said.group(1).decode() if said else '?')}\u201d while stale and "
        f"\u201c{(said2.group(1).decode() if said2 else '?')}\u201d after.",
        "",
    ]

    # ---- participants log in
    portal_users = list(
        Participant.objects.filter(program=program, user__isnull=False).values_list(
            "user__username", flat=True
        )[: args.participants_online]
    )
    portal_clients = []
    for username in portal_users:
        c = Client(ports)
        login_participant(c, username, DEMO_PASSWORD)
        portal_clients.append(c)
    log(f"{len(portal_clients)} participants logged in")

    run = Run()
    phase_name = ["healthz"]

    def phase() -> str:
        return phase_name[0]

    # ---- phase healthz
    stop = threading.Event()
    hz_threads = [
        threading.Thread(target=healthz_loop, args=(run, Client(ports), stop))
        for _ in range(args.clinicians + len(portal_clients))
    ]
    for t in hz_threads:
        t.start()
    time.sleep(args.healthz_duration)
    stop.set()
    for t in hz_threads:
        t.join()

    # ---- phase pages, then faults
    def users(stop: threading.Event) -> list[threading.Thread]:
        threads = []
        for i in range(args.clinicians):
            c = Client(ports)
            c.cookies = dict(staff_clients[i % len(staff_clients)].cookies)
            threads.append(
                threading.Thread(
                    target=clinician_loop, args=(run, c, world, phase, stop, args.think)
                )
            )
        for c in portal_clients:
            threads.append(
                threading.Thread(target=checkin_loop, args=(run, c, phase, stop, args.safety_every))
            )
        return threads

    events_before = SafetyEvent.objects.count()
    checkins_before = CheckIn.objects.count()
    phase_name[0] = "pages"
    stop = threading.Event()
    threads = users(stop)
    for t in threads:
        t.start()
    time.sleep(args.duration)
    phase_name[0] = "faults"
    log("faults phase")
    fault_start = time.monotonic()
    time.sleep(min(5, args.fault_duration / 6))
    kill_at = time.monotonic()
    webs[0].kill()
    worker.kill()
    run.events.append(("SIGKILL web 1 and the worker", kill_at - fault_start))
    log("killed web 1 and the worker")
    time.sleep(min(10, args.fault_duration / 6))
    webs[0].start()
    worker.start()
    wait_ready(ports[0])
    run.events.append(("web 1 and the worker restarted", time.monotonic() - fault_start))
    log("restarted web 1 and the worker")
    time.sleep(min(10, args.fault_duration / 6))
    cut_at = time.monotonic()
    if args.restart_postgres:
        restart_postgres()
        back_at = time.monotonic()
        connection.close()  # this process's connection went with the server
        what = f"PostgreSQL restarted (down and back in {back_at - cut_at:.1f} s)"
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [args.database],
            )
            what = f"{cursor.fetchone()[0]} database connections terminated"
        back_at = cut_at
    run.events.append((what, cut_at - fault_start))
    log(what)
    time.sleep(max(0.0, args.fault_duration - (time.monotonic() - fault_start)))
    stop.set()
    for t in threads:
        t.join()
    fault_s = time.monotonic() - fault_start

    # ---- checks
    log("waiting for every escalation to run (1-minute escalation, after the worker's return)")
    new_events = list(SafetyEvent.objects.order_by("id")[events_before:])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        pending = [
            e
            for e in SafetyEvent.objects.filter(pk__in=[e.pk for e in new_events])
            if e.escalation_level < 1
        ]
        if not pending:
            break
        time.sleep(3)
    escalated = SafetyEvent.objects.filter(
        pk__in=[e.pk for e in new_events], escalation_level__gte=1
    ).count()
    stored = CheckIn.objects.count() - checkins_before
    acked_ids = set(run.acked.values())
    acked_stored = CheckIn.objects.filter(external_id__in=acked_ids).count()
    keys = IdempotencyRecord.objects.filter(key__in=list(run.acked)).values_list("key", flat=True)
    per_key: dict[str, int] = {}
    for k in keys:
        per_key[k] = per_key.get(k, 0) + 1
    verify = subprocess.run(
        [OPENIOP, "audit", "verify"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    for w in webs:
        w.stop()
    worker.stop()

    hz_rows, hz = table(run, "healthz", args.healthz_duration)
    pg_rows, pg = table(run, "pages", args.duration)
    ft_rows, _ = table(run, "faults", fault_s)
    hz_med = hz["/healthz"][0]
    hz_rate = len([s for s in run.samples if s.phase == "healthz"]) / args.healthz_duration
    pg_rate = len([s for s in run.samples if s.phase == "pages"]) / args.duration
    fivexx = [s for s in run.samples if s.status >= 500]
    inflight = [
        s
        for s in fivexx + [s for s in run.samples if s.status == 0]
        if s.port == ports[0] and s.started <= kill_at <= s.ended + 0.5
    ]
    at_cut = [
        s
        for s in run.samples
        if s.status >= 400 and s.started <= back_at + 0.5 and s.ended + 0.5 >= cut_at
    ]
    cut_words = "PostgreSQL restart" if args.restart_postgres else "database connection cut"
    unexpected = [
        s
        for s in fivexx
        if not (s.port == ports[0] and s.started <= kill_at <= s.ended + 0.5) and s not in at_cut
    ]
    refused = [s for s in run.samples if s.status == 0 and s not in inflight]
    concurrency = args.clinicians + len(portal_clients)
    exact = set(per_key.values()) <= {1} and len(per_key) == len(run.acked)
    once = "all exactly 1" if exact else str(per_key)
    worst = max(v[1] for k, v in pg.items())
    report += [
        f"Load: {concurrency} concurrent users ({args.clinicians} clinicians, "
        f"{len(portal_clients)} participants checking in; clinicians "
        + (
            f"pause {args.think:g} s on average after each page"
            if args.think > 0
            else "send each request as soon as the last is answered"
        )
        + "), two `openiop serve` instances "
        f"({args.web_workers} workers x {args.web_threads} threads each), one worker, "
        f"PostgreSQL with {n_people:,} participants.",
        "",
        f"/healthz alone, {concurrency} threads, {args.healthz_duration:.0f} s:",
        "",
        *hz_rows,
        "",
        f"Pages, {args.duration:.0f} s (no faults):",
        "",
        *pg_rows,
        "",
        f"- Throughput: {pg_rate:.1f} requests/s against /healthz's {hz_rate:.1f}/s "
        f"({pg_rate / hz_rate:.2f}x).",
        f"- Target p95 \u2264 250 ms at {concurrency} users: worst page p95 {worst:.0f} ms "
        f"({'met' if worst <= 250 else 'NOT met'}).",
        f"- Chart and runner within 10x /healthz's median ({hz_med:.0f} ms): chart median "
        f"{pg['chart'][0]:.0f} ms ({pg['chart'][0] / hz_med:.1f}x), runner "
        f"{pg['session runner'][0]:.0f} ms ({pg['session runner'][0] / hz_med:.1f}x).",
        "",
        f"Faults, {fault_s:.0f} s: "
        + "; ".join(f"{what} at {at:.0f} s" for what, at in run.events)
        + ".",
        "",
        *ft_rows,
        "",
        f"- Check-ins acknowledged: {len(run.acked)} (client retries {run.retries}, "
        f"replayed answers {run.replayed}, given up {len(run.given_up)}); check-ins stored "
        f"during the run: {stored}; acknowledged ones found stored: {acked_stored}; "
        f"idempotency records per acknowledged key: {once}.",
        f"- Safety events raised by check-ins: {len(new_events)}; escalated after their "
        f"1-minute period (worker killed and restarted, database "
        f"{'restarted' if args.restart_postgres else 'connections cut'} meanwhile): "
        f"{escalated}.",
        f"- `openiop audit verify`: exit {verify.returncode} ({verify.stdout.strip()[-120:]}).",
        f"- 5xx responses: {len(fivexx)}; in flight on the killed instance (5xx or dropped "
        f"connection): {len(inflight)}; other 5xx: {len(unexpected)} "
        f"({', '.join(sorted({f'{s.page} {s.status}' for s in unexpected})) or 'none'}); "
        f"connections refused by the down instance and retried on the other: {len(refused)}; "
        f"errors of requests in flight during the {cut_words}: {len(at_cut)} "
        f"({', '.join(sorted({f'{s.page} {s.status}' for s in at_cut})) or 'none'}).",
    ]
    text = "\n".join(report)
    print(text)
    if args.write:
        write_docs(args, text)
    return 0 if verify.returncode == 0 else 1


def write_docs(args: argparse.Namespace, text: str) -> None:
    doc = DOCS.read_text()
    command = (
        f".venv/bin/python bench/load.py {'--reuse ' if args.reuse else ''}"
        f"--participants {args.participants} --healthz-duration {args.healthz_duration:g} "
        f"--duration {args.duration:g} --fault-duration {args.fault_duration:g}"
        f"{f' --think {args.think:g}' if args.think else ''}"
        f"{f' --section {args.section}' if args.section != 'load-benchmark' else ''}"
        f"{' --restart-postgres' if args.restart_postgres else ''} --write"
    )
    start, end = markers(args.section)
    block = (
        f"{start}\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`. "
        f"Machine: {os.cpu_count()} cores; load average {args.load_before:.1f} just before "
        "the run (the load generator, both web instances, the worker and PostgreSQL share "
        "these cores).\n\n"
        f"{text}\n{end}"
    )
    if start in doc:
        head, rest = doc.split(start, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc += "\n" + block + "\n"
    DOCS.write_text(doc)


if __name__ == "__main__":
    sys.exit(main())
