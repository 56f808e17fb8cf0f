"""Benchmark: the casebook PDF of a participant with every visit (goal: under 10 s).

Builds `ecrf_bench_casebook` (on DATABASE_URL's server, else the embedded one) with one
synthetic participant of the demo seeder whose follow-up has reached month 24 (every
scheduled visit dated, its forms, adverse events and medication), then the edit checks'
queries, a monitor's verification of every record and the investigator's signature of every
visit; then writes the identified casebook three times through the job's own code (reads,
trajectory charts, PDF) and prints each time, the pages and the size.

    python benchmarks/casebook_pdf.py
    python benchmarks/casebook_pdf.py --template ecrf_seed10k

With `--template NAME` the database is a copy of an already seeded one (e.g. the
10,000-participant study): the participant is its first with month 24 dated and the most
records, reviewed as above by the benchmark's own monitor and investigator of its site, so
the casebook is written among every other participant's rows. The copy is dropped after.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import recreate, setup_django, urls  # noqa: E402

DATABASE = "ecrf_bench_casebook"
PASSWORD = "bench-casebook-password-2026"  # noqa: S105 - a throwaway database's user
RUNS = 3
# A screening this long ago leaves time for month 24 and its window.
OLD_ENOUGH_DAYS = 24 * 31 + 120


def seed():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from demo import seed as demo_seed
    from trials import services as trial_services
    from trials.models import Membership, Role, Site
    from trials.protocols import PROTOCOLS

    call_command("migrate", verbosity=0)
    trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    site = Site.objects.create(
        code="CBK", name="Casebook bench", country="Iran", time_zone="Asia/Tehran"
    )
    users = {}
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR):
        user = get_user_model().objects.create_user(username=f"bench_{role}", password=PASSWORD)
        Membership.objects.create(user=user, site=site, role=role)
        users[role] = user
    today = site.local_today()
    demo_seed.demo_consent_version(trial, today)
    for number, person_seed in demo_seed.person_seeds(11, 400):
        person = demo_seed.draw_person(random.Random(person_seed), number, today)
        if person.screened_on > today - timedelta(days=OLD_ENOUGH_DAYS):
            continue
        demo_seed.seed_slice_committing(
            actor=users[Role.COORDINATOR],
            site=site,
            trial=trial,
            seeds=[(number, person_seed)],
            today=today,
        )
        participant = demo_seed.synthetic_participants(site).order_by("-pk").first()
        if participant is not None and participant.visits.filter(
            code="M24", actual_date__isnull=False
        ):
            return participant, users
    raise RuntimeError("no synthetic participant reached month 24")


def users_at(site):
    from django.contrib.auth import get_user_model

    from trials.models import Membership, Role

    users = {}
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR):
        user = get_user_model().objects.create_user(
            username=f"bench_casebook_{role}", password=PASSWORD
        )
        Membership.objects.create(user=user, site=site, role=role)
        users[role] = user
    return users


def pick(template: str):
    """The seeded study's participant with month 24 dated and the most dated visits."""
    from django.core.management import call_command
    from django.db.models import Count, Q

    from participants.models import Participant

    call_command("migrate", verbosity=0)
    participant = (
        Participant.objects.filter(visits__code="M24", visits__actual_date__isnull=False)
        .annotate(dated=Count("visits", filter=Q(visits__actual_date__isnull=False)))
        .order_by("-dated", "pk")
        .select_related("site")
        .first()
    )
    if participant is None:
        raise RuntimeError(f"no participant of {template} reached month 24")
    participant = Participant.objects.select_related("site").get(pk=participant.pk)
    return participant, users_at(participant.site)


def review(participant, users) -> None:
    """Queries of the edit checks, a verification of every record, a signature per visit."""
    from django.core.exceptions import ValidationError

    from queries.services import run_check
    from review import services as review_services
    from trials import checks
    from trials.models import Role

    for check in checks.all_checks():  # this participant's (the nightly run does everyone's)
        run_check(check, [participant.pk], cause="benchmark")
    for record_type, record in review_services.records_of_participant(participant):
        if record_type.key in ("visit", "visit_safety_review"):
            continue
        with contextlib.suppress(ValidationError):
            review_services.verify(
                actor=users[Role.MONITOR], record_type=record_type, record=record
            )
    for visit in participant.visits.filter(actual_date__isnull=False).order_by("position"):
        with contextlib.suppress(ValidationError):  # nothing to sign at this visit
            review_services.sign(
                actor=users[Role.INVESTIGATOR],
                participant=participant,
                kind="visit",
                password=PASSWORD,
                visit=visit,
            )


def breakdown(participant) -> str:
    """Where the time goes: the reads, the trajectory charts, the PDF."""
    from reports import casebook_charts, casebook_selectors, casebook_services
    from reports.casebook_pdf import write_pdf

    began = time.perf_counter()
    book = casebook_selectors.casebook(
        participant, identifiers=True, version=casebook_services.software_version()
    )
    read = time.perf_counter()
    book.charts = casebook_charts.charts_of(participant)
    charts = time.perf_counter()
    write_pdf(book)
    done = time.perf_counter()
    return f"reads {read - began:.2f} s, charts {charts - read:.2f} s, PDF {done - charts:.2f} s"


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--template", metavar="NAME", help="copy this seeded database")
    args = parser.parse_args()
    database = f"{DATABASE}_{args.template}" if args.template else DATABASE
    url, maintenance = urls(database)
    if args.template:
        from _server import clone

        clone(maintenance, args.template, database)
    else:
        recreate(maintenance, database)
    setup_django(url)
    import tempfile

    from django.conf import settings

    settings.STORAGES["casebooks"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tempfile.mkdtemp(prefix="casebooks-")},
    }
    from queries.models import Query
    from reports import casebook_services
    from reports.models import CasebookJob, CasebookStatus
    from review.models import Signature, Verification
    from trials.models import Role

    started = time.perf_counter()
    participant, users = pick(args.template) if args.template else seed()
    review(participant, users)
    visits = participant.visits.filter(actual_date__isnull=False).count()
    print(
        f"seeded {participant.label} in {time.perf_counter() - started:.1f} s: {visits} visits"
        f" dated, {Query.objects.filter(participant=participant).count()} queries,"
        f" {Verification.objects.filter(participant=participant).count()} verifications,"
        f" {Signature.objects.filter(participant=participant).count()} signatures",
        flush=True,
    )
    times = []
    for _run in range(RUNS):
        job = CasebookJob.objects.create(
            participant=participant, requested_by=users[Role.INVESTIGATOR], identifiers=True
        )
        began, cpu = time.perf_counter(), time.process_time()
        job = casebook_services.run_casebook(job.pk)
        times.append(time.perf_counter() - began)
        assert job.status == CasebookStatus.DONE, job.error
        print(
            f"casebook of {participant.label}: {times[-1]:.2f} s"
            f" (this process's CPU {time.process_time() - cpu:.2f} s), {job.pages} pages,"
            f" {job.file_size / 1024:.0f} KiB",
            flush=True,
        )
    print(f"  parts of one more: {breakdown(participant)}", flush=True)
    median = statistics.median(times)
    print(
        f"casebook PDF, all visits: median {median:.2f} s of {RUNS} (goal < 10 s;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    recreate(maintenance, database, drop_only=True)
    return 0 if median < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
