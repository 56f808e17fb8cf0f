"""Benchmark: `seed_demo` at trial scale (default 10,000 participants), through the services.

Makes a throwaway database (`ecrf_bench_seed`, on the embedded PostgreSQL, or on the server
of DATABASE_URL), migrates it and loads the demo site, then:
1. seeds a small sample as one worker does and counts the SQL statements per participant
   (the figure the services' query work moves; timings on a shared VM are noisy);
2. times `seed_demo --participants N` as a coordinator would run it (worker processes:
   one per core by default) and prints participants per second and the rows made.
The goal is N = 10,000 within 10 minutes on a 2-core machine. The database is dropped at
the end (`--keep` keeps it).

    python benchmarks/seed_demo.py [--participants N] [--jobs J] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate, setup_django, urls  # noqa: E402

BENCH_DB = "ecrf_bench_seed"
SAMPLE = 50


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url, maintenance = urls(BENCH_DB)
    recreate(maintenance, BENCH_DB)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection, connections

    from crfs.alsfrs_r.models import AlsfrsR
    from crfs.emg.models import Emg, EmgMuscleFinding
    from crfs.fvc.models import Fvc
    from crfs.qol.models import Alsaq40, Seiqol
    from crfs.vitals.models import Vitals
    from demo.seed import person_seeds, seed_slice_committing
    from participants.models import Participant
    from safety.models import (
        AdverseEvent,
        AdverseEventAssessment,
        ConcomitantMedication,
        VisitSafetyReview,
    )
    from trials.models import Membership, Role, Site, Trial
    from visits.models import Visit

    try:
        call_command("migrate", verbosity=0)
        call_command("setup_demo", stdout=io.StringIO())  # the demo site, team, 20 people
        site = Site.objects.get(code="ISF")
        trial = Trial.objects.get()
        coordinator = Membership.objects.filter(site=site, role=Role.COORDINATOR).first()
        assert coordinator is not None, "setup_demo makes a coordinator"
        actor = coordinator.user

        statements = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):  # the worker's cursors log nothing
            started = time.perf_counter()
            seed_slice_committing(
                actor=actor,
                site=site,
                trial=trial,
                seeds=person_seeds(99, SAMPLE, first_number=1_000_001),
                today=site.local_today(),
            )
            sample_s = time.perf_counter() - started
        per_person = len(statements) / SAMPLE
        print(
            f"sample of {SAMPLE} as one worker: {per_person:.1f} SQL statements and "
            f"{sample_s / SAMPLE * 1000:.0f} ms per participant"
        )

        before = Participant.objects.count()
        connections.close_all()
        command = ["seed_demo", f"--participants={args.participants}", "--seed=1", "--force"]
        if args.jobs:
            command.append(f"--jobs={args.jobs}")
        children_before = _children_cpu()
        started = time.perf_counter()
        call_command(*command, stdout=sys.stdout)
        elapsed = time.perf_counter() - started
        workers_cpu = _children_cpu() - children_before
        made = Participant.objects.count() - before
        print(
            f"\nseed_demo --participants {args.participants:,} on {os.cpu_count()} cores: "
            f"{elapsed:.1f} s ({made / elapsed:.1f} participants/s; "
            f"{elapsed / 60:.1f} min)"
        )
        # The workers' own CPU time, to compare runs beside the wall time (the database
        # server's share is not in it).
        print(f"  worker CPU: {workers_cpu / max(made, 1) * 1000:.1f} ms per participant")
        counts = {
            "visits": Visit.objects.count(),
            "ALSFRS-R": AlsfrsR.objects.count(),
            "FVC": Fvc.objects.count(),
            "vital signs": Vitals.objects.count(),
            "EMG": Emg.objects.count(),
            "needle-EMG muscle rows": EmgMuscleFinding.objects.count(),
            "ALSAQ-40": Alsaq40.objects.count(),
            "SEIQoL-DW": Seiqol.objects.count(),
            "adverse events": AdverseEvent.objects.count(),
            "serious": AdverseEvent.objects.filter(serious=True).count(),
            "assessments": AdverseEventAssessment.objects.count(),
            "con meds": ConcomitantMedication.objects.count(),
            "visit safety reviews": VisitSafetyReview.objects.count(),
        }
        print("  in the database: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        assert made == args.participants, (made, args.participants)
        return 0
    finally:
        connections.close_all()
        if not args.keep:
            recreate(maintenance, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
