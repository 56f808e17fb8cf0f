"""Writes of the export app: create a job, run it, purge old bundles."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AccessKind
from audit.services import log_access
from exports import bundle, files
from exports.models import ExportJob, ExportStatus
from exports.options import ExportOptions
from trials.models import Site

log = logging.getLogger(__name__)


def create_export_job(*, user, options: ExportOptions) -> ExportJob:
    """Record the request and queue the Celery job once the row is committed.

    The caller has checked the options against the user's permissions (forms.ExportForm
    or the command); the job only runs what it was given.
    """
    from exports import tasks

    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user,
            options=options.to_json(),
            fmt=options.fmt,
            deidentified=options.deidentify,
        )
        job.sites.set(Site.objects.filter(pk__in=options.site_ids))
        log_access(
            AccessKind.EXPORT_CREATED,
            user=user,
            sites=job.sites.all(),
            detail=f"export {job.pk} ({job.fmt})",
        )
        transaction.on_commit(lambda: tasks.run_export_job.delay(job.pk))
    return job


def _bundle_relative(job: ExportJob) -> str:
    return f"{job.created_at:%Y/%m}/export-{job.pk}.zip"


class JobBusy(Exception):
    """Another live process runs this job (its task came back before it finished)."""


# The first key of the jobs' PostgreSQL advisory locks ("EXPT"); the second is the job id.
_LOCK_CLASS = 0x45585054
# Test-only hook (tests/multihost): seconds a run sleeps after its first progress step (a
# first chunk written), so that a test can kill its worker in the middle of an export. Unset
# in every deployment; nothing else reads it.
PAUSE_VARIABLE = "ECRF_TEST_EXPORT_PAUSE_SECONDS"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _JobConnection:
    """A connection of the run's own, outside the export's long snapshot transaction.

    It holds the job's advisory lock for as long as the run lives: PostgreSQL drops the lock
    when the connection ends, so a worker that dies (killed, its host lost) frees the job at
    once for the next delivery of its task, while a second delivery of a task whose worker is
    still running finds the lock taken and leaves the job alone. It also writes the progress,
    which the page sees while the export reads inside its snapshot.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        pause = os.environ.get(PAUSE_VARIABLE, "")
        self.pause = float(pause) if pause else 0.0

    def lock(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, self.job_id])
            return bool(cursor.fetchone()[0])

    def __call__(self, percent: int) -> None:
        """Record progress; a later attempt never moves the bar back below an earlier one's."""
        try:
            with self.connection.cursor() as cursor:
                table = self.connection.ops.quote_name(ExportJob._meta.db_table)
                cursor.execute(
                    f"UPDATE {table} SET progress = GREATEST(progress, %s) WHERE id = %s",  # noqa: S608 - model's table
                    [percent, self.job_id],
                )
        except Exception:  # progress is a courtesy: never fail the export for it
            log.warning("could not record export progress", exc_info=True)
        if self.pause and percent < 100:
            log.warning("export %s: pausing %s s (%s)", self.job_id, self.pause, PAUSE_VARIABLE)
            time.sleep(self.pause)
            self.pause = 0.0

    def close(self) -> None:
        self.connection.close()  # ends the session: the advisory lock goes with it


def run_export(job_id: int) -> ExportJob:
    """Build the bundle of a queued job and put it in the exports storage.

    Idempotent: a finished job is left alone; a job left running by a worker that died is run
    again from the start (a new attempt), and only the run holding the job's lock finishes it.
    Raises JobBusy when another live run holds the lock.
    """
    session = _JobConnection(job_id)
    try:
        if not session.lock():
            raise JobBusy(job_id)
        return _run_locked(job_id, session)
    finally:
        session.close()


def _run_locked(job_id: int, session: _JobConnection) -> ExportJob:
    now = timezone.now()
    updated = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).update(
        status=ExportStatus.RUNNING,
        started_at=Coalesce(F("started_at"), Value(now)),
        attempts=F("attempts") + 1,
        claimed_by=worker_name(),
    )
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if not updated:
        return job
    log.info("export %s started (attempt %s, %s)", job.pk, job.attempts, job.claimed_by)
    running = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING)
    relative = _bundle_relative(job)
    clock = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"export-{job.pk}-"))
    try:
        output = work / "bundle.zip"
        result = bundle.build_bundle(
            ExportOptions.from_json(job.options),
            output,
            requested_by=job.requested_by.get_username() if job.requested_by else "command line",
            progress=session,
        )
        size = output.stat().st_size
        digest = files.sha256_file(output)
        stored = files.store_bundle(output, relative)
    except Exception as error:
        log.exception("export %s failed", job.pk)
        running.update(
            status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finished = running.update(
        status=ExportStatus.DONE,
        progress=100,
        file_path=stored,
        file_size=size,
        sha256=digest,
        row_counts=result.row_counts,
        manifest=result.manifest,
        finished_at=timezone.now(),
    )
    log.info(
        "export %s finished in %.1f s (attempt %s, %s bytes)",
        job.pk,
        time.monotonic() - clock,
        job.attempts,
        size,
        extra={"export_id": job.pk, "duration_s": round(time.monotonic() - clock, 3)},
    )
    if not finished:  # cannot happen while the lock holds: said loudly if it ever does
        log.error("export %s was no longer running when its run finished", job.pk)
    job.refresh_from_db()
    return job


def run_export_to(*, options: ExportOptions, output: Path, user=None) -> ExportJob:
    """The command's path: log a job and build its bundle in this process, at `output`."""
    job = ExportJob.objects.create(
        requested_by=user,
        options=options.to_json(),
        fmt=options.fmt,
        deidentified=options.deidentify,
        status=ExportStatus.RUNNING,
        started_at=timezone.now(),
    )
    job.sites.set(Site.objects.filter(pk__in=options.site_ids))
    log_access(
        AccessKind.EXPORT_CREATED,
        user=user,
        sites=job.sites.all(),
        detail=f"export {job.pk} ({job.fmt}, command)",
    )
    try:
        result = bundle.build_bundle(
            options,
            output,
            requested_by=user.get_username() if user else "command line",
        )
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        progress=100,
        file_size=output.stat().st_size,
        row_counts=result.row_counts,
        manifest=result.manifest,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def purge_expired_exports(*, now=None) -> int:
    """Delete bundles older than ECRF_EXPORT_RETENTION_DAYS from the exports storage (a folder
    or a bucket); the log row stays."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ECRF_EXPORT_RETENTION_DAYS)
    expired = ExportJob.objects.filter(
        status=ExportStatus.DONE, finished_at__lt=cutoff, deleted_at__isnull=True
    ).exclude(file_path="")
    count = 0
    for job in expired.only("pk", "file_path").iterator():
        files.delete_bundle(job.file_path)
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, deleted_at=now, file_path=""
        )
        count += 1
    return count


def delete_bundle(*, job: ExportJob) -> None:
    """Delete one bundle now (its requester's choice); the log row stays."""
    files.delete_bundle(job.file_path)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.EXPIRED, deleted_at=timezone.now(), file_path=""
    )
