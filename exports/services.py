"""Writes of the export app: create a job, run it, purge old bundles."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.models import AccessKind
from audit.services import log_access
from exports import bundle
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


class _ProgressReporter:
    """Progress written through a connection of its own, so the page sees it while the
    export reads inside one long snapshot transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, percent: int) -> None:
        try:
            with self.connection.cursor() as cursor:
                table = self.connection.ops.quote_name(ExportJob._meta.db_table)
                cursor.execute(
                    f"UPDATE {table} SET progress = %s WHERE id = %s",  # noqa: S608 - model's table
                    [percent, self.job_id],
                )
        except Exception:  # progress is a courtesy: never fail the export for it
            log.warning("could not record export progress", exc_info=True)

    def close(self) -> None:
        self.connection.close()


def run_export(job_id: int) -> ExportJob:
    """Build the bundle of a queued job (idempotent: a finished job is left alone)."""
    updated = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, started_at=timezone.now(), progress=0)
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if not updated:
        return job
    relative = _bundle_relative(job)
    output = Path(settings.ECRF_EXPORT_DIR) / relative
    reporter = _ProgressReporter(job.pk)
    try:
        result = bundle.build_bundle(
            ExportOptions.from_json(job.options),
            output,
            requested_by=job.requested_by.get_username() if job.requested_by else "command line",
            progress=reporter,
        )
    except Exception as error:
        log.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    finally:
        reporter.close()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        progress=100,
        file_path=relative,
        file_size=output.stat().st_size,
        row_counts=result.row_counts,
        manifest=result.manifest,
        finished_at=timezone.now(),
    )
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
    """Delete bundles older than ECRF_EXPORT_RETENTION_DAYS; the log row stays."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ECRF_EXPORT_RETENTION_DAYS)
    expired = ExportJob.objects.filter(
        status=ExportStatus.DONE, finished_at__lt=cutoff, deleted_at__isnull=True
    ).exclude(file_path="")
    count = 0
    for job in expired.iterator():
        path = job.path
        if path is not None:
            path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.EXPIRED, deleted_at=now, file_path=""
        )
        count += 1
    return count


def delete_bundle(*, job: ExportJob) -> None:
    """Delete one bundle now (its requester's choice); the log row stays."""
    if job.path is not None:
        job.path.unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.EXPIRED, deleted_at=timezone.now(), file_path=""
    )
