"""The slowest SQL of the main pages at benchmark size, with PostgreSQL's EXPLAIN (issue 12).

    .venv/bin/python bench/explain_pages.py --database openiop_bench_load

Needs the database bench/load.py sets up (5,000 participants in Riverside Adult IOP). Opens
program home, participant search, a chart, the session runner, the measures page and the
portal home in-process (Django's test client, a verified staff session), times every query
each page runs, and prints the slowest ones with EXPLAIN (ANALYZE, BUFFERS). Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="openiop_bench_load")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="page loads, the best counts")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

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
        "participant search": (staff, f"/p/{a}/participants/?q=person"),
        "chart": (staff, f"/p/{a}/participants/{person.external_id}/"),
        "session runner": (staff, f"/p/{a}/sessions/{session.external_id}/"),
        "measures page": (staff, f"/p/{a}/participants/{person.external_id}/measures/"),
        "portal home": (portal_person.user, "/me/"),
    }
    slow: list[tuple[float, str, str]] = []
    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
        for name, (user, path) in pages.items():
            client: Any = verified_client(user)
            best: dict[str, float] = {}
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(path, secure=True)
                assert response.status_code == 200, (name, response.status_code)
                for q in ctx.captured_queries:
                    sql = q["sql"]
                    best[sql] = min(best.get(sql, 1e9), float(q["time"]))
            total = sum(best.values())
            print(f"{name}: {len(ctx.captured_queries)} queries, {1000 * total:.1f} ms in SQL")
            slow += [(t, name, sql) for sql, t in best.items()]
    slow.sort(reverse=True)
    for t, name, sql in slow[: args.top]:
        print(f"\n=== {name}: {1000 * t:.1f} ms\n{sql[:600]}")
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                for (line,) in cursor.fetchall():
                    print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
