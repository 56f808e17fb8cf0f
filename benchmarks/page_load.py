"""Benchmark: page speed under load (step 12). Eight signed-in clients at once, on loopback,
against the pages of a busy clinic day, each beside a minimal Django view on the same server.

The study: a database `ecrf_bench_load` (on DATABASE_URL's server, else the embedded one).
- `--template NAME` (or ECRF_BENCH_TEMPLATE): a fresh copy of a seeded database, e.g. one made
  once with `seed_demo --participants 10000` (`CREATE DATABASE ... TEMPLATE NAME`: seconds).
- otherwise (the default, as `make bench` runs it): made once with `setup_demo` and
  `seed_demo --participants S` through the services (`--seed`, default 500: a few minutes on
  2 cores), then grown to `--participants` (default 10,000) by copying those participants and
  everything under them in SQL (benchmarks/_replicate.py: about a minute), and kept and
  reused by later runs (`--reseed` starts over, `--drop` removes it after the run).
  `--seed 10000` makes all of them through the services (10 minutes or more on 2 cores).

Then starts gunicorn as compose does (DEBUG off, 3 sync workers, the production settings with
the benchmark's URLconf: the product's routes plus a minimal view that only needs a signed-in
user), signs in a coordinator of the seeded site (a session made as the login makes it, with
the second factor passed), and for each page in turn runs `--clients` clients (threads, one
HTTP request at a time each, a new connection per request as gunicorn's sync workers close
it) for `--seconds` seconds, split in `--rounds` rounds so that a burst of load from
elsewhere on the machine falls on every page alike. Pages: the participant list, the page
of the participant with the most visits, their latest visit with an ALSFRS-R, that
ALSFRS-R's form, the coordinator's home and the site's study dashboard.

Prints p50/p95/p99 in ms and requests per second per page, and each page's p95 over the
minimal view's; goal: within 5x. Default run: 7 pages x 20 s = about 2.5 minutes of load.

    python benchmarks/page_load.py [--template DB] [--participants N] [--seed S] [--clients C]
        [--seconds S] [--rounds R] [--workers W] [--pages KEY ...] [--reseed] [--drop]
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _database import recreate, setup_django, urls  # noqa: E402
from _replicate import replicate  # noqa: E402
from _server import clone, gunicorn_serving, participants_at, signed_in_session  # noqa: E402

DATABASE = "ecrf_bench_load"
SITE = "ISF"
USERNAME = "bench_load"
GOAL = 5.0
# The server's and this process's key: the session made here must read there.
SECRET_KEY = "benchmark-only-not-a-secret-" + "y" * 40


@dataclass
class Page:
    key: str
    label: str
    path: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall time of its load phases
    failures: int = 0
    size: int = 0


def _prepare(args: argparse.Namespace, url: str, maintenance: str) -> None:
    if args.template:
        print(f"cloning {args.template} into {args.database} ...", flush=True)
        started = time.perf_counter()
        clone(maintenance, args.template, args.database)
        print(f"  cloned in {time.perf_counter() - started:.0f} s", flush=True)
        present = participants_at(url, SITE)
    else:
        present = -1 if args.reseed else participants_at(url, SITE)
        if present < 0:
            recreate(maintenance, args.database)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a template of an older schema gets the new indexes
    if present < 0:
        call_command("setup_demo", stdout=io.StringIO())
        present = participants_at(url, SITE)
    through_services = min(args.seed, args.participants) - present
    if through_services > 0 and not args.template:
        print(
            f"seeding {through_services:,} participants at {SITE} through the services"
            " (kept for later runs) ...",
            flush=True,
        )
        started = time.perf_counter()
        call_command(
            "seed_demo", f"--participants={through_services}", "--seed=12", f"--site={SITE}",
            "--force", stdout=io.StringIO(),
        )  # fmt: skip
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        present = participants_at(url, SITE)
    if present < args.participants and not args.template:
        copies = -(-args.participants // present) - 1
        print(f"copying the {present:,} participants {copies} times in SQL ...", flush=True)
        started = time.perf_counter()
        present = replicate(url, SITE, copies)
        print(f"  copied in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"{args.database}: {present:,} participants at {SITE}", flush=True)
    # The planner's statistics of a fresh clone or seed, as autovacuum would have them.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _pages() -> list[Page]:
    """The pages, with real ids: the participant with the most dated visits (the longest
    participant page), their latest visit that has an ALSFRS-R, and that form."""
    from django.db.models import Count, Q
    from django.urls import reverse

    from crfs.alsfrs_r.models import AlsfrsR
    from participants.models import Participant

    participant = (
        Participant.objects.filter(site__code=SITE)
        .annotate(dated=Count("visits", filter=Q(visits__actual_date__isnull=False)))
        .order_by("-dated", "pk")
        .first()
    )
    if participant is None:
        raise RuntimeError(f"no participant at {SITE}")
    record = (
        AlsfrsR.objects.filter(visit__participant=participant)
        .order_by("-visit__actual_date", "-pk")
        .select_related("visit")
        .first()
    )
    if record is None:
        raise RuntimeError(f"participant {participant.pk} has no ALSFRS-R")
    visit = record.visit
    ids = [SITE, participant.pk]
    return [
        Page("minimal", "minimal Django view", "/bench/minimal/"),
        Page("list", "participant list", reverse("participant-list", args=[SITE])),
        Page("participant", "participant page", reverse("participant-detail", args=ids)),
        Page("visit", "visit page", reverse("visit-detail", args=[*ids, visit.pk])),
        Page(
            "form",
            "form page (ALSFRS-R)",
            reverse("crf-entry", args=[*ids, visit.pk, "alsfrs_r"]),
        ),
        Page("home", "coordinator home", reverse("home")),
        Page("dashboard", "study dashboard (site)", reverse("reports-dashboard-site", args=[SITE])),
    ]


def _get(port: int, path: str, cookie: str) -> tuple[int, float, int]:
    """One GET on a new connection: (status, seconds to the whole body, body bytes)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, time.perf_counter() - started, len(body)


def _load(port: int, page: Page, cookie: str, clients: int, seconds: float) -> None:
    """`clients` threads request the page back to back for `seconds`; each latency kept."""
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        mine: list[float] = []
        failed = 0
        while time.perf_counter() < stop_at:
            try:
                status, elapsed, _size = _get(port, page.path, cookie)
            except OSError:
                failed += 1
                continue
            if status == 200:
                mine.append(elapsed)
            else:
                failed += 1
        with lock:
            page.latencies.extend(mine)
            page.failures += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _client in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    page.seconds += time.perf_counter() - started


def _report(pages: list[Page], args: argparse.Namespace, participants: int) -> bool:
    print(
        f"\n{args.clients} concurrent signed-in clients, {args.seconds:g} s per page in "
        f"{args.rounds} round(s), gunicorn with {args.workers} sync workers, DEBUG off, "
        f"loopback; {participants:,} participants at {SITE}; {os.cpu_count()} cores"
    )
    header = (
        f"{'page':<26} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'KB':>6} {'p95 / minimal':>14}"
    )
    print(header)
    print("-" * len(header))
    minimal_p95 = None
    worst = 0.0
    for page in pages:
        if len(page.latencies) < 2:
            print(f"{page.label:<26} too few answers ({len(page.latencies)})")
            worst = float("inf")
            continue
        cuts = statistics.quantiles(page.latencies, n=100, method="inclusive")
        p50, p95, p99 = (cut * 1000 for cut in (cuts[49], cuts[94], cuts[98]))
        if minimal_p95 is None:
            minimal_p95 = p95
        ratio = p95 / minimal_p95
        if page.key != "minimal":
            worst = max(worst, ratio)
        rate = len(page.latencies) / page.seconds
        note = f"  ({page.failures} failed)" if page.failures else ""
        print(
            f"{page.label:<26} {len(page.latencies):>8} {rate:>7.1f} {p50:>8.1f} {p95:>8.1f} "
            f"{p99:>8.1f} {page.size / 1024:>6.0f} {ratio:>13.1f}x{note}"
        )
    met = worst <= GOAL
    print(
        f"goal: every page's p95 within {GOAL:.0f}x the minimal view's: "
        f"{'met' if met else 'NOT met'} (worst {worst:.1f}x)"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--template",
        default=os.environ.get("ECRF_BENCH_TEMPLATE", ""),
        help="clone this seeded database instead of seeding (env ECRF_BENCH_TEMPLATE)",
    )
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument(
        "--seed",
        type=int,
        default=500,
        help="how many of them seed_demo makes; the rest are SQL copies of those (default 500)",
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="load per page, in all")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (compose: 3)")
    parser.add_argument("--pages", nargs="*", default=[], help="only these keys (and minimal)")
    parser.add_argument("--database", default=DATABASE, help=f"default {DATABASE}")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    url, maintenance = urls(args.database)
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    _prepare(args, url, maintenance)
    from trials.models import Role

    name, key = signed_in_session(USERNAME, [(SITE, Role.COORDINATOR)])
    cookie = f"{name}={key}"
    pages = _pages()
    if args.pages:
        pages = [page for page in pages if page.key == "minimal" or page.key in args.pages]

    from django.db import connections

    connections.close_all()
    with gunicorn_serving(url, SECRET_KEY, args.workers) as port:
        for page in pages:
            status, _seconds, page.size = _get(port, page.path, cookie)
            if status != 200:
                print(f"{page.label}: {page.path} answered {status}", file=sys.stderr)
                return 1
            for _warm in range(2 * args.workers):  # every worker has run each page once
                _get(port, page.path, cookie)
        print(f"loading {len(pages)} pages ...", flush=True)
        for round_ in range(args.rounds):
            # Each round starts one page further on: no page always follows the same one.
            shift = round_ % len(pages)
            for page in pages[shift:] + pages[:shift]:
                _load(port, page, cookie, args.clients, args.seconds / args.rounds)

    for page in pages:
        print(f"  {page.key:<12} {page.path}")
    _report(pages, args, participants_at(url, SITE))
    if args.drop:
        recreate(maintenance, args.database, drop_only=True)
    failed = sum(page.failures for page in pages)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
