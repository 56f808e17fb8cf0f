"""Benchmark: the study dashboard (one site, and all the user's sites) and the cohort view
beside a minimal Django view, all served by one gunicorn with production settings.

Uses the database `ecrf_bench_reports` (on DATABASE_URL's server, else the embedded one):
made once with `setup_demo` and `seed_demo --participants N` (default 10,000) through the
services, then kept and reused by later runs (seeding takes long; `--reseed` starts over,
`--drop` removes it after the run). Then starts gunicorn (DEBUG off, two workers, the
benchmark's own URLconf: the product's plus a minimal view that only needs a signed-in user),
signs in an investigator of the seeded site and of a second site (a session made as the
login makes it, with the second factor passed when that app is installed), and times the
pages over HTTP, in turns so that the machine's load falls on every page alike. Prints
p50/p95 per page and the p95 ratio to the minimal view; goal: within 5x. A second table
("after a write: recomputed") times each page's first request after a committed write to a
table the reports read (one ALSFRS-R form's status flipped between complete and in progress,
a change the dashboard's and the cohort's numbers show): the kept figures are recomputed then,
and that cold path is timed as honestly as the warm one. The cohort view
is skipped, with a note, if its URL does not resolve.

    python benchmarks/reports_pages.py [--participants N] [--requests R] [--reseed] [--drop]
    python benchmarks/reports_pages.py --template ecrf_seed10k [--requests R] [--drop]

With `--template NAME` the benchmark database is a fresh copy of an already seeded database
(CREATE DATABASE ... TEMPLATE NAME: seconds, where seeding 10,000 participants through the
services takes hours); nothing is seeded, the copy is migrated and the benchmark's user
added to it. The template must have no open connection while it is copied (retried for a
minute). The copy is named `ecrf_bench_reports_<template>` and dropped after the run unless
`--keep`.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _database import recreate, setup_django, urls  # noqa: E402
from _server import clone, gunicorn_serving, participants_at, signed_in_session  # noqa: E402

DATABASE = "ecrf_bench_reports"
SITE = "ISF"
SECOND_SITE = "BN2"
USERNAME = "bench_reports"
GOAL = 5.0
# The server's and this process's key: the session made here must read there.
SECRET_KEY = "benchmark-only-not-a-secret-" + "x" * 40


def _prepare_clone(template: str, url: str, maintenance: str, name: str) -> None:
    print(f"copying {template} to {name} ...", flush=True)
    started = time.perf_counter()
    clone(maintenance, template, name)
    print(f"  copied in {time.perf_counter() - started:.0f} s", flush=True)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Fresh statistics for the planner (a template copied right after seeding may have none).
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _prepare(participants: int, reseed: bool, url: str, maintenance: str) -> None:
    present = -1 if reseed else participants_at(url, SITE)
    if present < 0:
        recreate(maintenance, DATABASE)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if present < 0:
        call_command("setup_demo", stdout=io.StringIO())
        present = participants_at(url, SITE)
    missing = participants - present
    if missing > 0:
        print(f"seeding {missing:,} participants at {SITE} (kept for later runs) ...", flush=True)
        started = time.perf_counter()
        call_command(
            "seed_demo", f"--participants={missing}", "--seed=11", f"--site={SITE}", "--force",
            stdout=io.StringIO(),
        )  # fmt: skip
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        print(f"reusing {DATABASE}: {present:,} participants at {SITE}", flush=True)


def _session_cookie() -> tuple[str, str]:
    """An investigator of both sites, signed in: (cookie name, session key)."""
    from trials.models import Role, Site

    Site.objects.get_or_create(
        code=SECOND_SITE, defaults={"name": "Benchmark second site", "country": "Iran"}
    )
    return signed_in_session(
        USERNAME, [(SITE, Role.INVESTIGATOR), (SECOND_SITE, Role.INVESTIGATOR)]
    )


def _get(base: str, path: str, cookie: str) -> tuple[int, float, int]:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, time.perf_counter() - started, len(body)


def _pages() -> list[tuple[str, str]]:
    from django.urls import NoReverseMatch, reverse

    pages = [
        ("minimal view", "/bench/minimal/"),
        (f"dashboard, one site ({SITE})", reverse("reports-dashboard-site", args=[SITE])),
        ("dashboard, all sites", reverse("reports-dashboard")),
    ]
    try:
        pages.append(("cohort view", reverse("reports-cohort")))
    except NoReverseMatch:
        print("note: the cohort view's URL (reports-cohort) does not resolve: skipped")
    return pages


def _touch_a_visit(writer: psycopg.Connection) -> None:
    """One committed write that changes what the pages show: one ALSFRS-R form of an
    attended visit at the site goes from complete to in progress, or back (the dashboard's
    form completeness and the cohort's missing reasons move each time). Raw SQL, as any
    write is noted by the reports' triggers (reports.freshness, reports.tallies)."""
    writer.execute(
        "UPDATE crfs_alsfrsr SET status = CASE status WHEN 'complete' THEN 'in_progress'"
        " ELSE 'complete' END WHERE id = (SELECT min(f.id) FROM crfs_alsfrsr f"
        " JOIN visits_visit v ON v.id = f.visit_id WHERE v.actual_date IS NOT NULL"
        " AND f.status IN ('complete', 'in_progress'))"
    )


def _table(
    pages: list[tuple[str, str]], times: dict[str, list[float]], minimal_p95: float | None
) -> tuple[float, float]:
    """Prints p50/p95 per page and the p95 ratio to the minimal view's (`minimal_p95`, else
    this table's first row); returns the worst ratio and the minimal view's p95."""
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'p95 / minimal':>14}")
    worst = 0.0
    for name, _path in pages:
        cuts = statistics.quantiles(times[name], n=20, method="inclusive")
        p50, p95 = statistics.median(times[name]) * 1000, cuts[18] * 1000
        if minimal_p95 is None:
            minimal_p95 = p95
        ratio = p95 / minimal_p95
        if name != pages[0][0]:
            worst = max(worst, ratio)
        print(f"{name:<32} {p50:>8.1f} {p95:>8.1f} {ratio:>13.1f}x")
    assert minimal_p95 is not None
    return worst, minimal_p95


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument(
        "--template",
        metavar="NAME",
        help="copy this seeded database instead of seeding (e.g. ecrf_seed10k)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the --template copy")
    args = parser.parse_args()

    database = f"{DATABASE}_{args.template}" if args.template else DATABASE
    url, maintenance = urls(database)
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    if args.template:
        _prepare_clone(args.template, url, maintenance, database)
    else:
        _prepare(args.participants, args.reseed, url, maintenance)
    cookie_name, session_key = _session_cookie()
    cookie = f"{cookie_name}={session_key}"
    pages = _pages()

    from django.db import connections

    connections.close_all()
    workers = 2
    with gunicorn_serving(url, SECRET_KEY, workers) as port:
        base = f"http://127.0.0.1:{port}"
        for name, path in pages:
            status, _seconds, _size = _get(base, path, cookie)
            if status != 200:
                print(f"{name}: {path} answered {status}", file=sys.stderr)
                return 1
            for _warm in range(2 * workers):  # every worker has run each page's code once
                _get(base, path, cookie)
        times: dict[str, list[float]] = {name: [] for name, _path in pages}
        for _round in range(args.requests):
            for name, path in pages:
                times[name].append(_get(base, path, cookie)[1])
        # The cold path: before each request one small committed write to a table the
        # reports read (a visit's updated timestamp), so the kept figures are recomputed.
        after_write: dict[str, list[float]] = {name: [] for name, _path in pages}
        with psycopg.connect(url, autocommit=True) as writer:
            for _round in range(args.requests):
                for name, path in pages:
                    _touch_a_visit(writer)
                    after_write[name].append(_get(base, path, cookie)[1])

    print(
        f"\n{args.requests} requests per page, in turns, gunicorn with {workers} workers, "
        f"DEBUG off, one client; {participants_at(url, SITE):,} participants at {SITE}"
    )
    print("\nno write between requests: kept figures (warm)")
    worst, minimal_p95 = _table(pages, times, None)
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"goal: every page's p95 within {GOAL:.0f}x the minimal view's: {verdict}")
    print(
        "\nafter a write: recomputed (each request the first after a committed write the pages"
        " show: an ALSFRS-R form's status flipped; ratio to the warm minimal view's p95)"
    )
    worst_cold, _minimal = _table(pages, after_write, minimal_p95)
    verdict = "met" if worst_cold <= GOAL else "NOT met"
    print(f"after a write, every page's p95 within {GOAL:.0f}x the minimal view's: {verdict}")
    if args.drop or (args.template and not args.keep):
        recreate(maintenance, database, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
