"""Benchmark: the whole study (every form) in every export format, long and wide, at 1,000
and 10,000 participants: seconds, peak RSS and the ratio to PostgreSQL COPY of the same rows.

Each export runs as `manage.py export_dataset` would (all forms, all visits, every status)
in a child process of its own; its peak RSS is the child's, read with os.wait4. The COPY
figure is `COPY (<each table's query>) TO STDOUT` of the same options, streamed to a file.

The data: database `ecrf_bench_exports_study` (on the server of DATABASE_URL, else on the
embedded PostgreSQL of `make run`). It is made, in this order, from
- the database itself when a previous run kept it (the default: it is kept);
- `--template DB`: a clone of a seeded database (CREATE DATABASE ... TEMPLATE DB);
- otherwise `setup_demo` and `seed_demo --participants 100` through the services;
then, when the database has fewer than 10,000 participants, they are copied with bulk SQL
(every table that hangs off a participant, ids shifted) until it has.
Participants after the first 1,000 of the demo site are moved to a site of their own
(BXL), so the 1,000-participant export is the demo site and the 10,000 one both sites.

Goals (issue 20): XLSX within 10x of CSV, SPSS/Stata/SAS within 5x, peak RSS flat from
1,000 to 10,000 participants (within 20 %) and under 200 MB.

    python benchmarks/export_study.py [--template ecrf_seed10k] [--formats csv,sav]
        [--layouts long,wide] [--code-root DIR] [--drop]

--code-root runs the exports from another checkout (e.g. `git archive` of an older commit)
against the same data, for before/after figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate, urls  # noqa: E402

DATABASE = "ecrf_bench_exports_study"
SEED = 100  # participants seeded through the services; copied with SQL up to 10,000
SMALL, LARGE = 1_000, 10_000
DEMO_SITE, REST_SITE = "ISF", "BXL"
FORMATS = ("csv", "xlsx", "sav", "dta", "xpt", "odm")
GOAL_VS_CSV = {"xlsx": 10.0, "sav": 5.0, "dta": 5.0, "xpt": 5.0}
RSS_LIMIT_MB, RSS_GROWTH = 200.0, 0.20


def _psql(maintenance: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql)


def _exists(maintenance: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def _participants(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM participants_participant").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


def _manage(url: str, *args: str) -> None:
    env = os.environ | {"DATABASE_URL": url, "DJANGO_DEBUG": "true"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_database(template: str, participants: int) -> str:
    url, maintenance = urls(DATABASE)
    print(f"database {DATABASE}", flush=True)
    if template:
        recreate(maintenance, DATABASE, drop_only=True)
        for attempt in range(30):  # the clone fails while anyone is connected to the template
            try:
                _psql(maintenance, f'CREATE DATABASE "{DATABASE}" TEMPLATE "{template}"')
                break
            except Exception as error:
                if attempt == 29:
                    raise
                print(f"clone of {template} not yet possible ({error}); retrying", flush=True)
                time.sleep(5)
        print(f"cloned {template} into {DATABASE}", flush=True)
    elif _exists(maintenance, DATABASE) and _participants(url) > 0:
        print(f"reusing {DATABASE} ({_participants(url)} participants)", flush=True)
    else:
        print(f"seeding {SEED} participants through the services ...", flush=True)
        start = time.perf_counter()
        recreate(maintenance, DATABASE)
        _manage(url, "migrate", "-v0")
        _manage(url, "setup_demo")
        _manage(url, "seed_demo", "--participants", str(SEED), "--jobs", "2")
        print(f"seeded in {time.perf_counter() - start:.0f} s", flush=True)
    have = _participants(url)
    if have < participants:
        start = time.perf_counter()
        times = -(-participants // have)
        multiply(url, times)
        print(
            f"copied the {have} participants {times - 1} times with bulk SQL "
            f"({_participants(url)} now) in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
    split_sites(url)
    return url


# Tables a participant owns but the default export does not read are not copied.
NOT_COPIED = ("queries_", "review_", "reminders_", "reports_", "exports_")


def multiply(url: str, times: int) -> None:
    """Copy every participant, with everything that hangs off it (visits, forms, safety
    logs, ...: the tables whose foreign keys lead to the participant), `times - 1` times.
    Ids are shifted by a power of ten; unique text is suffixed (study ID .2, ...)."""
    import psycopg

    with psycopg.connect(url) as conn:
        keys = conn.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            """
        ).fetchall()
        owned = {"participants_participant"}
        grown = True
        while grown:
            grown = False
            for table, _column, target in keys:
                if target in owned and table not in owned and not table.startswith(NOT_COPIED):
                    owned.add(table)
                    grown = True
        shifted = {t: {c for t2, c, target in keys if t2 == t and target in owned} for t in owned}
        key = {}
        for table in owned:
            has_id = conn.execute(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = %s AND column_name = 'id'",
                [table],
            ).fetchone()
            key[table] = "id" if has_id else sorted(shifted[table])[0]  # a one-to-one's key
        largest = max(
            conn.execute(f'SELECT coalesce(max("{key[t]}"), 0) FROM "{t}"').fetchone()[0]
            for t in owned
        )
        offset = 10 ** len(str(largest))
        conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        for table in sorted(owned):
            columns = conn.execute(
                """
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = %s AND is_generated = 'NEVER'
                ORDER BY ordinal_position
                """,
                [table],
            ).fetchall()
            unique = set()
            for (names,) in conn.execute(
                """
                SELECT array_agg(a.attname::text) FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = %s::regclass AND i.indisunique AND NOT i.indisprimary
                GROUP BY i.indexrelid
                """,
                [table],
            ).fetchall():
                if not set(names) & (shifted[table] | {"id"}):
                    unique |= set(names)
            picks = []
            for name, kind in columns:
                if name == "id" or name in shifted[table]:
                    picks.append(f'src."{name}" + copies.k * {offset}')
                elif name in unique and kind == "uuid":
                    picks.append(f'md5(src."{name}"::text || copies.k)::uuid')
                elif name in unique and kind in ("character varying", "text"):
                    picks.append(f"src.\"{name}\" || '.' || copies.k")
                else:
                    picks.append(f'src."{name}"')
            names = ", ".join(f'"{name}"' for name, _kind in columns)
            conn.execute(
                f'INSERT INTO "{table}" ({names}) OVERRIDING SYSTEM VALUE '
                f'SELECT {", ".join(picks)} FROM "{table}" src '
                f"CROSS JOIN generate_series(1, {times - 1}) AS copies(k)"
                f' WHERE src."{key[table]}" < {offset}'
            )
            if key[table] != "id":
                continue
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                f' (SELECT max(id) FROM "{table}"))'
            )
        conn.execute("SET session_replication_role = origin")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def split_sites(url: str) -> None:
    """The demo site keeps its first SMALL participants; the others move to REST_SITE."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no audit triggers here
        demo = conn.execute("SELECT id FROM trials_site WHERE code = %s", [DEMO_SITE]).fetchone()
        if demo is None:
            raise SystemExit(f"no site {DEMO_SITE} in {DATABASE}")
        # A copy of the demo site (every column the schema has) under another code and name.
        columns = [
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " 'public' AND table_name = 'trials_site' AND column_name NOT IN"
                " ('id', 'code', 'name') ORDER BY ordinal_position"
            ).fetchall()
        ]
        names = "".join(f', "{name}"' for name in columns)
        conn.execute(
            f"INSERT INTO trials_site (code, name{names})"
            f" SELECT %s, 'Benchmark: the rest of the demo site'{names}"
            " FROM trials_site WHERE code = %s ON CONFLICT (code) DO NOTHING",
            [REST_SITE, DEMO_SITE],
        )
        rest = conn.execute("SELECT id FROM trials_site WHERE code = %s", [REST_SITE]).fetchone()
        conn.execute(
            """
            UPDATE participants_participant SET site_id = %s
            WHERE site_id = %s AND id NOT IN (
                SELECT id FROM participants_participant WHERE site_id = %s ORDER BY id LIMIT %s)
            """,
            [rest[0], demo[0], demo[0], SMALL],
        )
        conn.execute("SET session_replication_role = origin")
        counts = dict(
            conn.execute(
                "SELECT s.code, count(*) FROM participants_participant p"
                " JOIN trials_site s ON s.id = p.site_id GROUP BY s.code"
            ).fetchall()
        )
    print(f"participants per site: {counts}", flush=True)


def site_sets() -> list[tuple[str, list[str]]]:
    return [("1k", [DEMO_SITE]), ("10k", [DEMO_SITE, REST_SITE])]


def export_options(sites: list[str], fmt: str, layout: str):
    """The options `export_dataset` builds without --form/--visit/--status: everything."""
    from crfs import registry
    from exports.options import PARTICIPANTS_TABLE, ExportOptions
    from exports.safety_tables import SAFETY_TABLES
    from exports.tables import visit_codelist
    from participants.choices import ParticipantStatus
    from trials.models import Site

    return ExportOptions(
        forms=(PARTICIPANTS_TABLE, *registry.entry_forms(), *SAFETY_TABLES),
        visits=tuple(code for code, _label in visit_codelist().items),
        site_ids=tuple(Site.objects.filter(code__in=sites).values_list("pk", flat=True)),
        statuses=tuple(ParticipantStatus.values),
        fmt=fmt,
        layout=layout,
    )


def copy_seconds(sites: list[str], layout: str, folder: Path) -> tuple[float, int]:
    """COPY of every table's query of the export (best of two), and the rows copied."""
    import psycopg
    from django.db import connection, transaction

    from exports import tables

    best = float("inf")
    rows = 0
    for _round in range(2):
        with transaction.atomic():
            table_list = tables.build_tables(export_options(sites, "csv", layout))
            raw = connection.connection
            start = time.perf_counter()
            rows = 0
            for table in table_list:
                query = psycopg.ClientCursor(raw).mogrify(table.sql, table.params)
                with (
                    (folder / "copy.csv").open("wb") as out,
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy,
                ):
                    for block in copy:
                        out.write(block)
                    rows += max(cursor.rowcount, 0)
            best = min(best, time.perf_counter() - start)
    return best, rows


def child(url: str, sites: str, fmt: str, layout: str, output: str) -> None:
    """One export_dataset run; prints its seconds (the parent reads the peak RSS)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command

    args = ["export_dataset", "--format", fmt, "--layout", layout, "--output", output]
    for site in sites.split(","):
        args += ["--site", site]
    start = time.perf_counter()
    call_command(*args, stdout=StringIO())
    print(json.dumps({"seconds": time.perf_counter() - start}))


def run_child(url: str, sites: list[str], fmt: str, layout: str, folder: Path, code: Path) -> dict:
    output = folder / f"export-{fmt}-{layout}-{len(sites)}.zip"
    env = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "true",
        "PYTHONPATH": str(code),
        "ECRF_BENCH_CODE": str(code),
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--child", url, ",".join(sites)]
    with subprocess.Popen(
        [*command, fmt, layout, str(output)], cwd=code, env=env, stdout=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        out = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"export {fmt} {layout} {sites} failed ({process.returncode})")
    figures = json.loads(out.decode().strip().splitlines()[-1])
    size = output.stat().st_size
    output.unlink()
    return {
        "seconds": figures["seconds"],
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "zip_mb": size / 1e6,
    }


def main() -> int:
    global DATABASE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="", help="clone this seeded database")
    parser.add_argument("--participants", type=int, default=LARGE, help="to seed when needed")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--layouts", default="long,wide")
    parser.add_argument("--code-root", default=str(ROOT), help="checkout whose exports run")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--database", default=DATABASE, help="the benchmark's own database")
    parser.add_argument("--sizes", default="1k,10k", help="study sizes to export: 1k, 10k")
    parser.add_argument(
        "--prepare-only", action="store_true", help="make the database, export nothing"
    )
    args = parser.parse_args()
    DATABASE = args.database
    formats = [f for f in args.formats.split(",") if f]
    layouts = [x for x in args.layouts.split(",") if x]
    code = Path(args.code_root).resolve()

    url = prepare_database(args.template, args.participants)
    if args.prepare_only:
        return 0
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    folder = Path(tempfile.mkdtemp(prefix="bench-export-study-"))
    results: dict[tuple[str, str, str], dict] = {}
    copies: dict[tuple[str, str], tuple[float, int]] = {}
    print(f"exports from {code}", flush=True)
    header = (
        f"{'study':>5} {'layout':<6} {'format':<6} {'rows':>9} {'seconds':>8} {'peak RSS MB':>11}"
        f" {'x COPY':>7} {'x CSV':>6} {'zip MB':>7}"
    )
    lines = [header]
    print(header, flush=True)
    sizes = [x for x in args.sizes.split(",") if x]
    for size, sites in [(size, sites) for size, sites in site_sets() if size in sizes]:
        for layout in layouts:
            copies[(size, layout)] = copy_seconds(sites, layout, folder)
            copy_s, rows = copies[(size, layout)]
            line = f"{size:>5} {layout:<6} {'COPY':<6} {rows:>9} {copy_s:>8.2f}"
            lines.append(line)
            print(line, flush=True)
            for fmt in formats:
                if fmt == "odm" and layout != "long":
                    continue  # ODM nests subject, visit and form: the layout does not apply
                figures = run_child(url, sites, fmt, layout, folder, code)
                results[(size, layout, fmt)] = figures
                csv = results.get((size, layout, "csv"))
                vs_csv = f"{figures['seconds'] / csv['seconds']:>6.1f}" if csv else f"{'':>6}"
                line = (
                    f"{size:>5} {layout:<6} {fmt:<6} {rows:>9} {figures['seconds']:>8.2f}"
                    f" {figures['rss_mb']:>11.1f} {figures['seconds'] / copy_s:>7.1f} {vs_csv}"
                    f" {figures['zip_mb']:>7.1f}"
                )
                lines.append(line)
                print(line, flush=True)
    print("\nGoals (10k participants): XLSX <= 10x CSV, SPSS/Stata/SAS <= 5x CSV; peak RSS")
    print("within 20 % from 1k to 10k participants and under 200 MB")
    failed = 0
    for layout in layouts:
        for fmt in formats:
            small, large = results.get(("1k", layout, fmt)), results.get(("10k", layout, fmt))
            if not small or not large:
                continue
            verdicts = []
            csv = results.get(("10k", layout, "csv"))
            if fmt in GOAL_VS_CSV and csv:
                ratio = large["seconds"] / csv["seconds"]
                ok = ratio <= GOAL_VS_CSV[fmt]
                verdicts.append(f"{ratio:.1f}x CSV (goal {GOAL_VS_CSV[fmt]:.0f}x) {_yes(ok)}")
                failed += not ok
            growth = (large["rss_mb"] - small["rss_mb"]) / small["rss_mb"]
            ok = abs(growth) <= RSS_GROWTH and large["rss_mb"] < RSS_LIMIT_MB
            failed += not ok
            verdicts.append(
                f"RSS {small['rss_mb']:.0f} -> {large['rss_mb']:.0f} MB ({growth:+.0%}) {_yes(ok)}"
            )
            print(f"  {layout:<5} {fmt:<5} " + "; ".join(verdicts))
    print(f"{failed} goal(s) missed")
    if args.drop:
        recreate(urls(DATABASE)[1], DATABASE, drop_only=True)
    return 0


def _yes(ok: bool) -> str:
    return "ok" if ok else "MISSED"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, os.environ.get("ECRF_BENCH_CODE", str(ROOT)))
        child(*sys.argv[2:7])
    else:
        sys.exit(main())
