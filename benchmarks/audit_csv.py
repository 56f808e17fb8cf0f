"""Benchmark: the site audit log's CSV download streams in flat memory.

Builds `ecrf_bench_audit` (on DATABASE_URL's server, else the embedded one) with three sites
whose trails hold 1,000, 100,000 and 1,000,000 audit events (visit snapshots written
straight into the event table, several changes per visit, as a long trial's trail would
hold), then streams each site's CSV through the view's own generator in a fresh process
and prints the time, the rows written and the process's peak memory (ru_maxrss) before and
after. Goal: the peak grows by a few MB at most from 1,000 to 1,000,000 events.

    python benchmarks/audit_csv.py                 # every size
    python benchmarks/audit_csv.py 1000 100000     # some sizes
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import recreate, setup_django, urls  # noqa: E402

DATABASE = "ecrf_bench_audit"
SIZES = (1_000, 100_000, 1_000_000)
VISITS_PER_PARTICIPANT = 7
EVENTS_PER_VISIT = 20


def site_code(size: int) -> str:
    return f"A{size}"


def seed(sizes: tuple[int, ...]) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from trials import services
    from trials.models import Membership, Role, Site
    from trials.protocols import PROTOCOLS
    from visits.models import Visit

    call_command("migrate", verbosity=0)
    trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    user = get_user_model().objects.create(username="bench")
    events = Visit.pgh_event_model  # type: ignore[attr-defined]
    columns = [
        f.column
        for f in events._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.column is not None
    ]
    listed = ", ".join(columns)
    snapshot = ", ".join("v.actual_date + g" if c == "actual_date" else f"v.{c}" for c in columns)
    with connection.cursor() as cursor:
        # Straight into the tables: no audit triggers while filling (replica role).
        cursor.execute("SET session_replication_role = replica")
        # Every event row carries its own context (settings.PGHISTORY_CONTEXT_FIELD).
        context = json.dumps(
            {"actor_id": user.pk, "reason": "=HYPERLINK(1)", "path": "page", "url": "/sites/x/"}
        )
        for size in sizes:
            site = Site.objects.create(code=site_code(size), name=f"Bench {size}", country="Iran")
            Membership.objects.create(user=user, site=site, role=Role.MONITOR)
            participants = max(1, size // (VISITS_PER_PARTICIPANT * EVENTS_PER_VISIT))
            cursor.execute(
                """
                INSERT INTO participants_participant (site_id, trial_id, screening_number,
                    study_id, status, status_date, screened_on, enrolled_on, created_at,
                    created_by_id)
                SELECT %s, %s, %s || '-' || n, %s || '-' || lpad(n::text, 6, '0'), 'enrolled',
                    DATE '2024-01-01', DATE '2023-12-01', DATE '2024-01-01', now(), %s
                FROM generate_series(1, %s) AS n
                """,
                [site.pk, trial.pk, site.code, site.code, user.pk, participants],
            )
            cursor.execute(
                """
                INSERT INTO visits_visit (participant_id, code, sequence, position,
                    unscheduled_reason, target_date, window_start, window_end, actual_date,
                    status, missed_reason, days_from_target, updated_at)
                SELECT p.id, 'M' || lpad((v * 6)::text, 2, '0'), 0, v, '', DATE '2024-01-01'
                    + v * 182, DATE '2024-01-01' + v * 182 - 28, DATE '2024-01-01' + v * 182
                    + 28, DATE '2024-01-01' + v * 182, 'done', '', 0, now()
                FROM participants_participant p CROSS JOIN generate_series(1, %s) AS v
                WHERE p.site_id = %s
                """,
                [VISITS_PER_PARTICIPANT, site.pk],
            )
            per_visit = max(1, size // (participants * VISITS_PER_PARTICIPANT))
            cursor.execute(
                f"""
                INSERT INTO {events._meta.db_table} ({listed}, pgh_created_at, pgh_label,
                    pgh_obj_id, pgh_context_id, pgh_context)
                SELECT {snapshot}, now() - (g || ' minutes')::interval,
                    CASE WHEN g = 1 THEN 'insert' ELSE 'update' END, v.id,
                    gen_random_uuid(), %s::jsonb
                FROM visits_visit v JOIN participants_participant p ON p.id = v.participant_id
                CROSS JOIN generate_series(1, %s) AS g
                WHERE p.site_id = %s
                """,
                [context, per_visit, site.pk],
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")


def measure(size: int) -> dict[str, float]:
    """In a fresh process: stream one site's CSV to nowhere; time and peak memory."""
    from audit import selectors, views
    from trials.models import Site

    site = Site.objects.get(code=site_code(size))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    lines = 0
    written = 0
    rows = selectors.log_rows(site, selectors.Filters(), identifiers=True)
    for chunk in views._csv_lines(selectors.CSV_HEADER, rows):
        written += len(chunk)
        lines += 1
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with __import__("django.db").db.connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM visits_visitevent e JOIN visits_visit v ON v.id = e.pgh_obj_id"
            " JOIN participants_participant p ON p.id = v.participant_id WHERE p.site_id = %s",
            [site.pk],
        )
        events = cursor.fetchone()[0]
    return {
        "events": events,
        "csv_lines": lines - 2,
        "mb_written": written / 1e6,
        "seconds": elapsed,
        "peak_rss_mb_before": before / 1024,
        "peak_rss_mb_after": after / 1024,
    }


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        url, _maintenance = urls(DATABASE)
        setup_django(url)
        print(json.dumps(measure(int(sys.argv[2]))))
        return 0
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    url, maintenance = urls(DATABASE)
    recreate(maintenance, DATABASE)
    setup_django(url)
    started = time.perf_counter()
    seed(sizes)
    print(
        f"seeded {', '.join(f'{s:,}' for s in sizes)} events in {time.perf_counter() - started:.1f} s"
    )
    for size in sizes:
        result = subprocess.run(
            [sys.executable, __file__, "--measure", str(size)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"{r['events']:>9,} events: {r['csv_lines']:>9,} CSV rows ({r['mb_written']:.1f} MB)"
            f" in {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb_before']:.1f} MB before,"
            f" {r['peak_rss_mb_after']:.1f} MB after streaming"
            f" (+{r['peak_rss_mb_after'] - r['peak_rss_mb_before']:.1f} MB)",
            flush=True,
        )
    recreate(maintenance, DATABASE, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
