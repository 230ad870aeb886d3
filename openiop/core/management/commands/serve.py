"""`openiop serve`: the production web server (gunicorn; docs/operations.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from openiop.core.serving import OpenIOPServer, ServeRefused, describe, preflight, serve_config


def settings_problems() -> list[str]:
    """What the loaded settings would make unsafe or broken in production."""
    problems = []
    if settings.DEBUG:
        problems.append("DEBUG is on: debug pages would show data to anyone")
    if not getattr(settings, "PRODUCTION", False):
        problems.append("the settings are not the production ones (OPENIOP_ENV=production)")
    if not settings.ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is empty (set OPENIOP_ALLOWED_HOSTS)")
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        problems.append(
            f"static files are not collected ({manifest} is missing): run "
            "`openiop collectstatic --no-input`"
        )
    return problems


class Command(BaseCommand):
    help = "Serve OpenIOP in production with gunicorn (refuses a development configuration)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", help="address:port (OPENIOP_WEB_BIND; 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, help="processes (OPENIOP_WEB_WORKERS; CPUs + 1)")
        parser.add_argument("--threads", type=int, help="threads each (OPENIOP_WEB_THREADS; 4)")
        parser.add_argument(
            "--print-config", action="store_true", help="print the settings as JSON and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = preflight(os.environ) + settings_problems()
        if problems:
            self.stderr.write("openiop serve refused to start:")
            for problem in dict.fromkeys(problems):
                self.stderr.write(f"  - {problem}")
            sys.exit(2)
        try:
            config = serve_config(
                os.environ,
                bind=options["bind"],
                workers=options["workers"],
                threads=options["threads"],
            )
        except ServeRefused as refused:
            self.stderr.write(f"openiop serve refused to start: {refused}")
            sys.exit(2)
        if options["print_config"]:
            self.stdout.write(describe(config))
            return
        OpenIOPServer(config).run()
