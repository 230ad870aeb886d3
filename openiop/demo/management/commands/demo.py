"""`openiop demo`: migrate, seed if empty, print logins, serve with a task worker beside it."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from openiop.demo.seeding import print_demo_logins
from openiop.programs.models import Program


class Command(BaseCommand):
    help = "Run the demo: migrate, seed a demo program if empty, serve on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare only, do not serve")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Applying database migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        if not Program.objects.exists():
            self.stdout.write("Seeding a demo program (takes about a minute)…")
            call_command("seed", participants=60, weeks=16, seed=7)
        else:
            self.print_logins()
        if options["no_serve"]:
            return
        self.serve(options["addrport"])

    def print_logins(self) -> None:
        print_demo_logins(self.stdout.write)

    def serve(self, addrport: str) -> None:
        # The worker runs the Tasks API queue (alerts, reminders) as its own process, as it
        # would in production; it stops when the web server stops.
        worker = subprocess.Popen([sys.executable, "-m", "openiop.cli", "db_worker"])
        # Turn SIGTERM into a normal exit so the `finally` below also stops the worker.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(f"Task worker started (pid {worker.pid}).")
        self.stdout.write(f"Open http://{addrport}/ and log in with one of the accounts above.")
        # The demo is tried as a user would: a missing page or an error shows the site's own
        # 404/500 pages, never Django's debug page with settings and code (DEBUG off; static
        # files are still served by runserver's --insecure).
        settings.DEBUG = False
        try:
            call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
