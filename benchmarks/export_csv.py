"""Benchmark: the CSV long export of ALSFRS-R against PostgreSQL COPY of the same query,
and the export's peak memory at 1,000 and 10,000 participants.

Seeds a dedicated database (`ecrf_bench_exports`) on the embedded server with bulk SQL:
10,000 transplanted participants at two sites (1,000 at B1K, 9,000 at B9K), 7 visits
each and ALSFRS-R records at 6 of them (60,000 records). Goals: export time <= 2 x COPY;
peak memory within 20 % between 1,000 and 10,000 participants and under 200 MB.

    python benchmarks/export_csv.py          # seed, time, measure; prints the figures
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ecrf_bench_exports"
SMALL, LARGE = 1_000, 10_000
sys.path.insert(0, str(ROOT))

from _database import setup_django  # noqa: E402


def database_uri(fresh: bool) -> str:
    import psycopg

    from config import embedded

    admin = embedded.postgres_uri(database="postgres")
    if fresh:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return embedded.postgres_uri(database=DATABASE)


VISITS = (
    "('SCR',0,-40),('BL',1,-7),('TX',2,0),('M06',3,182),('M12',4,365),('M18',5,547),('M24',6,730)"
)
ITEMS = [
    "q1_speech",
    "q2_salivation",
    "q3_swallowing",
    "q4_handwriting",
    "q5a_cutting_no_gastrostomy",
    "q6_dressing_hygiene",
    "q7_turning_in_bed",
    "q8_walking",
    "q9_climbing_stairs",
    "q10_dyspnoea",
    "q11_orthopnoea",
    "q12_respiratory_insufficiency",
]


def seed() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from crfs.alsfrs_r.models import AlsfrsR
    from trials import services
    from trials.models import Site
    from trials.protocols import PROTOCOLS

    call_command("migrate", verbosity=0)
    trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    user = get_user_model().objects.create(username="bench")
    small = Site.objects.create(code="B1K", name="Bench 1k", country="Iran")
    large = Site.objects.create(code="B9K", name="Bench 9k", country="Iran")
    items = ", ".join(ITEMS)
    item_values = ", ".join(
        "NULL" if name == "q9_climbing_stairs" else f"(v.id + {i}) %% 5"
        for i, name in enumerate(ITEMS)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no audit triggers while seeding
        cursor.execute(
            """
            INSERT INTO participants_participant (site_id, trial_id, screening_number, study_id,
                status, status_date, screened_on, enrolled_on, created_at, created_by_id)
            SELECT CASE WHEN n <= %s THEN %s ELSE %s END, %s, 'S' || n, 'B-' || lpad(n::text, 6, '0'),
                'transplanted', DATE '2020-01-01' + (n %% 365), DATE '2020-01-01' + (n %% 365) - 40,
                DATE '2020-01-01' + (n %% 365) - 35, now(), %s
            FROM generate_series(1, %s) AS n
            """,
            [SMALL, small.pk, large.pk, trial.pk, user.pk, LARGE],
        )
        cursor.execute(
            """
            INSERT INTO visits_transplantation (participant_id, performed_at, performed_on, route,
                injection_level, cell_dose, viability_percent, volume_ml, cell_lot, needle_type,
                needle_gauge, operator, immediate_complications, recorded_by_id, created_at,
                updated_at)
            SELECT id, status_date + TIME '10:00', status_date, 'both', 'L3-L4', 100000000, 95.0,
                10.0, 'LOT', 'atraumatic', 25, 'Operator', '', %s, now(), now()
            FROM participants_participant
            """,
            [user.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO visits_visit (participant_id, code, sequence, position, unscheduled_reason,
                target_date, window_start, window_end, actual_date, status, missed_reason,
                days_from_target, updated_at)
            SELECT p.id, v.code, 0, v.pos, '', p.status_date + v.off, p.status_date + v.off - 28,
                p.status_date + v.off + 28, p.status_date + v.off + ((p.id % 41) - 20)::int,
                CASE WHEN abs((p.id % 41) - 20) <= 28 THEN 'done' ELSE 'done_out_of_window' END,
                '', ((p.id % 41) - 20)::int, now()
            FROM participants_participant p CROSS JOIN (VALUES {VISITS}) AS v(code, pos, off)
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {AlsfrsR._meta.db_table} (visit_id, status, version, missing_reasons, created_at,
                updated_at, updated_by_id, completed_at, {items}, total, bulbar, fine_motor,
                gross_motor, respiratory, kings_stage, mitos_stage, instrument_version,
                scoring_version)
            SELECT v.id, 'complete', 1, '{{"q9_climbing_stairs": "not_done"}}'::jsonb, now(), now(),
                %s, now(), {item_values}, NULL, 9, 8, 7, 6, '', NULL,
                'ALSFRS-R (Cedarbaum 1999)', ''
            FROM visits_visit v WHERE v.code <> 'TX'
            """,
            [user.pk],
        )
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE")


def options(sites: list[str], fmt: str = "csv"):
    from exports.options import ExportOptions
    from exports.tables import visit_codelist
    from participants.choices import ParticipantStatus
    from trials.models import Site

    return ExportOptions(
        forms=("alsfrs_r",),
        visits=tuple(code for code, _label in visit_codelist().items),
        site_ids=tuple(Site.objects.filter(code__in=sites).values_list("pk", flat=True)),
        statuses=tuple(ParticipantStatus.values),
        fmt=fmt,
    )


def time_export_vs_copy(folder: Path) -> dict:
    import psycopg
    from django.db import connection, transaction

    from exports import tables
    from exports.writers.csv_writer import write_table_csv

    table = tables.build_tables(options(["B1K", "B9K"]))[0]
    results: dict[str, list[float]] = {"export": [], "copy": []}
    for _round in range(3):
        with transaction.atomic():
            start = time.perf_counter()
            rows = write_table_csv(table, folder / "export.csv", lambda n: None)
            results["export"].append(time.perf_counter() - start)
        connection.ensure_connection()
        raw = connection.connection
        query = psycopg.ClientCursor(raw).mogrify(table.sql, table.params)
        start = time.perf_counter()
        statement = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        with (
            (folder / "copy.csv").open("wb") as out,
            raw.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for block in copy:
                out.write(block)
        raw.commit()
        results["copy"].append(time.perf_counter() - start)
    export_s, copy_s = min(results["export"]), min(results["copy"])
    return {
        "rows": rows,
        "export_s": round(export_s, 3),
        "copy_s": round(copy_s, 3),
        "ratio": round(export_s / copy_s, 2),
        "export_bytes": (folder / "export.csv").stat().st_size,
        "copy_bytes": (folder / "copy.csv").stat().st_size,
    }


def child(sites: str, folder: str, fmt: str = "csv") -> None:
    """Run one whole bundle export and report its peak memory (RSS and Python heap)."""
    setup_django(database_uri(fresh=False))
    from exports.bundle import build_bundle

    opts = options(sites.split(","), fmt)
    start = time.perf_counter()
    result = build_bundle(opts, Path(folder) / f"bundle-{sites}-{fmt}.zip", requested_by="bench")
    elapsed = time.perf_counter() - start
    rss_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "participants": SMALL if sites == "B1K" else LARGE,
                "rows": result.row_counts,
                "seconds": round(elapsed, 2),
                "rss_peak_mb": round(rss_peak_kb / 1024, 1),
            }
        )
    )


def main() -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    print(f"seeding {LARGE} participants (database {DATABASE}) ...", flush=True)
    start = time.perf_counter()
    setup_django(database_uri(fresh=True))
    seed()
    print(f"seeded in {time.perf_counter() - start:.1f} s", flush=True)

    timing = time_export_vs_copy(folder)
    print(
        f"CSV long export of ALSFRS-R, {timing['rows']} rows: export {timing['export_s']} s, "
        f"COPY of the same query {timing['copy_s']} s, ratio {timing['ratio']}x (goal <= 2x)"
    )

    for fmt in ("csv", "odm", "xlsx"):
        measure(folder, fmt)


def measure(folder: Path, fmt: str) -> list[dict]:
    measured = []
    for sites in ("B1K", "B1K,B9K"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", sites, str(folder), fmt],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ | {"DJANGO_DEBUG": "true"},
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        measured.append(figures)
        print(
            f"{fmt} bundle export, {figures['participants']} participants ({figures['rows']} rows): "
            f"{figures['seconds']} s, peak RSS {figures['rss_peak_mb']} MB"
        )
    small, large = measured
    growth = (large["rss_peak_mb"] - small["rss_peak_mb"]) / small["rss_peak_mb"] * 100
    print(
        f"{fmt}: peak RSS growth 1,000 -> 10,000 participants: {growth:+.1f} % "
        f"(goal within 20 %, under 200 MB: {'yes' if abs(growth) <= 20 and large['rss_peak_mb'] < 200 else 'no'})"
    )
    return measured


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "csv")
    else:
        main()
