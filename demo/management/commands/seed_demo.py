import os
import time

from django.conf import settings
from django.core.management.base import CommandError

from demo.seed import seed_participants, synthetic_participants
from queries.tasks import run_all_checks
from trials.history import AuditedCommand
from trials.models import Membership, Role, Site, Trial
from trials.protocols import DEFAULT_NCT_ID

# Below this size one process is quick, and it keeps the whole run in the caller's transaction
# (tests); worker processes open their own connections and commit as they go.
PARALLEL_FROM = 1000


def default_jobs(participants: int, cores: int | None = None) -> int:
    cores = cores or os.cpu_count() or 1
    return cores if participants >= PARALLEL_FROM else 1


class Command(AuditedCommand):
    help = (
        "Create N realistic synthetic participants (deterministic for a seed) at a site through "
        "the entry services: every outcome form the protocol expects (ALSFRS-R, FVC, vital "
        "signs, EMG, ALSAQ-40, SEIQoL-DW) over screening, baseline and the follow-ups due by "
        "the site's today, with adverse events, concomitant medication and each visit's safety "
        "review (development and load tests only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=20)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--site", default="ISF", help="Site code (default ISF).")
        parser.add_argument(
            "--user", help="Username entering the data (default: the site's first coordinator)."
        )
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="Do nothing if the site already has synthetic participants.",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help=(
                "Worker processes (same people and scores; faster on several cores). Default: "
                f"one per core from {PARALLEL_FROM} participants, else 1."
            ),
        )
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Refusing to create synthetic participants with DEBUG off.")
        n = options["participants"]
        if n < 0:
            raise CommandError("--participants must be 0 or more.")
        jobs = options["jobs"] if options["jobs"] is not None else default_jobs(n)
        if jobs < 1:
            raise CommandError("--jobs must be 1 or more.")
        site = Site.objects.filter(code=options["site"]).first()
        trial = Trial.objects.filter(nct_id=DEFAULT_NCT_ID).first()
        if site is None or trial is None:
            raise CommandError("Run load_protocol and setup_demo first (site or trial missing).")
        actor = self._actor(site, options["user"])
        if options["if_absent"] and synthetic_participants(site).exists():
            self.stdout.write("Synthetic participants already present: nothing to do.")
            return
        started = time.monotonic()
        tally = seed_participants(
            actor=actor, site=site, trial=trial, n=n, seed=options["seed"], jobs=jobs
        )
        elapsed = time.monotonic() - started
        # The seeder queued no edit check per saved form: the worker runs them all once, as
        # the nightly batch does, so the demo's queries exist before the first night.
        run_all_checks.delay()
        self.stdout.write(
            f"Synthetic participants created at {site.code}: {tally.participants} "
            f"(seed {options['seed']}) in {elapsed:.1f} s"
        )
        for label, counter in (("status", tally.statuses), ("forms", tally.forms)):
            summary = ", ".join(f"{key} {count}" for key, count in sorted(counter.items()))
            self.stdout.write(f"  {label}: {summary}")

    @staticmethod
    def _actor(site: Site, username: str | None):
        members = Membership.objects.active().filter(site=site).select_related("user")
        if username:
            membership = members.filter(user__username=username).first()
        else:
            membership = members.filter(role=Role.COORDINATOR).order_by("user__username").first()
        if membership is None:
            raise CommandError(f"No active coordinator (or --user) at {site.code}.")
        return membership.user
