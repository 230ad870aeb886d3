"""Where the main pages spend their time at benchmark size, in Python and in SQL (issue 12).

    .venv/bin/python bench/profile_pages.py --database openiop_bench_load [--page chart]

Needs the database bench/load.py sets up (5,000 participants in Riverside Adult IOP). Loads
each page in-process with Django's test client (a verified staff or portal session, DEBUG
off as in production), reports the median wall time of --repeat loads and how much of it was
SQL, then profiles one more load with cProfile and prints the functions with the most
cumulative time. Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="openiop_bench_load")
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    parser.add_argument("--repeat", type=int, default=15, help="timed loads per page")
    parser.add_argument("--top", type=int, default=25, help="profile lines per page")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from openiop.accounts.models import User
    from openiop.groupwork.models import Session
    from openiop.participants.models import Participant
    from openiop.programs.models import Program
    from openiop.testing import verified_client

    program = Program.objects.get(name="Riverside Adult IOP")
    person = Participant.objects.filter(program=program, assessments__isnull=False).first()
    portal_person = Participant.objects.filter(program=program, user__isnull=False).first()
    session = Session.objects.filter(program=program, kind="group").order_by("-starts_at").first()
    assert person and portal_person and session and portal_person.user
    a = program.external_id
    staff = User.objects.get(username="casey.clinician")
    pages = {
        "program home": (staff, f"/p/{a}/"),
        "search": (staff, f"/p/{a}/participants/?q=person"),
        "chart": (staff, f"/p/{a}/participants/{person.external_id}/"),
        "runner": (staff, f"/p/{a}/sessions/{session.external_id}/"),
        "measures": (staff, f"/p/{a}/participants/{person.external_id}/measures/"),
        "portal home": (portal_person.user, "/me/"),
        "healthz": (staff, "/healthz"),
    }
    chosen = args.page or list(pages)
    sql_seconds = 0.0

    def timed_sql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal sql_seconds
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds += time.perf_counter() - start

    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, DEBUG=False):
        for name in chosen:
            user, path = pages[name]
            client: Any = verified_client(user)
            client.get(path, secure=True)  # warm caches, templates, imports
            walls, sqls = [], []
            for _ in range(args.repeat):
                sql_seconds = 0.0
                start = time.perf_counter()
                with connection.execute_wrapper(timed_sql):
                    response = client.get(path, secure=True)
                walls.append(time.perf_counter() - start)
                sqls.append(sql_seconds)
                assert response.status_code == 200, (name, response.status_code)
            wall, sql = statistics.median(walls), statistics.median(sqls)
            print(
                f"{name}: median {1000 * wall:.1f} ms, of which SQL {1000 * sql:.1f} ms "
                f"(min {1000 * min(walls):.1f} ms)"
            )
            if args.no_profile:
                continue
            profiler = cProfile.Profile()
            profiler.enable()
            client.get(path, secure=True)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
