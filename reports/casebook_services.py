"""Writes of the casebook: make a job, run it (write the PDF, store it with its sha256)."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone, translation

from audit.models import AccessKind
from audit.services import log_access
from participants.models import Participant
from reports import casebook_charts, casebook_selectors
from reports.casebook_pdf import write_pdf
from reports.models import CasebookJob, CasebookStatus

log = logging.getLogger(__name__)
STORAGE = "casebooks"


def storage() -> Storage:
    return storages[STORAGE]


def software_version() -> str:
    from exports.bundle import software_version as version

    return version()


def create_casebook_job(*, user, participant: Participant, language: str = "en") -> CasebookJob:
    """Record the request and queue the worker once the row is committed. The caller has
    checked that the user may print the participant's casebook; identities go in when the
    user may see them at the participant's site."""
    from reports import tasks

    with transaction.atomic():
        job = CasebookJob.objects.create(
            participant=participant,
            requested_by=user,
            identifiers=casebook_selectors.may_see_identifiers(user, participant.site),
            language=language,
        )
        log_access(
            AccessKind.EXPORT_CREATED,
            user=user,
            site=participant.site,
            detail=_detail(job),
        )
        transaction.on_commit(lambda: tasks.write_casebook.delay(job.pk))
    return job


def _detail(job: CasebookJob) -> str:
    kind = "identified" if job.identifiers else "without identifiers"
    return f"casebook {job.pk} of {job.participant.label} ({kind})"


def file_name(job: CasebookJob) -> str:
    """One name per job: a retried run overwrites its own file, never adds a second."""
    return f"{job.created_at:%Y/%m}/casebook-{job.pk}.pdf"


def _progress(job_id: int):
    def report(percent: int) -> None:
        CasebookJob.objects.filter(pk=job_id, status=CasebookStatus.RUNNING).update(
            progress=min(max(percent, 0), 100)
        )

    return report


def build(job: CasebookJob, *, progress=None) -> tuple[bytes, int]:
    """The PDF of the job's participant, in the requester's language."""
    participant = Participant.objects.select_related("site", "trial").get(pk=job.participant_id)
    report = progress or (lambda percent: None)
    with translation.override(job.language or "en"):
        book = casebook_selectors.casebook(
            participant,
            identifiers=job.identifiers,
            version=software_version(),
            progress=report,
        )
        book.charts = casebook_charts.charts_of(participant)
        return write_pdf(book, report)


class CasebookBusy(Exception):
    """Another live process writes this casebook (its task came back before it finished)."""


# The first key of the casebooks' PostgreSQL advisory locks ("CASB"); the second is the job
# id (exports use their own first key, so an export and a casebook of the same id never meet).
_LOCK_CLASS = 0x43415342


def run_casebook(job_id: int) -> CasebookJob:
    """Write the PDF of a queued job, once.

    Idempotent: a finished job is left alone; a job left running by a worker that died is
    written again from the start. The run holds the job's advisory lock on a connection of
    its own for as long as it lives: PostgreSQL drops it when that worker dies, while a second
    delivery of the task during a live run finds it taken (CasebookBusy) and changes nothing.
    """
    connection = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, job_id])
            if not cursor.fetchone()[0]:
                raise CasebookBusy(job_id)
        return _run_locked(job_id)
    finally:
        connection.close()  # ends the session: the advisory lock goes with it


def _run_locked(job_id: int) -> CasebookJob:
    updated = CasebookJob.objects.filter(
        pk=job_id, status__in=[CasebookStatus.QUEUED, CasebookStatus.RUNNING]
    ).update(status=CasebookStatus.RUNNING, started_at=timezone.now(), progress=0)
    job = CasebookJob.objects.select_related("participant").get(pk=job_id)
    if not updated:
        return job
    try:
        data, pages = build(job, progress=_progress(job.pk))
        name = file_name(job)
        store = storage()
        if store.exists(name):
            store.delete(name)
        saved = store.save(name, ContentFile(data))
    except Exception as error:
        log.exception("casebook %s failed", job.pk)
        CasebookJob.objects.filter(pk=job.pk).update(
            status=CasebookStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    CasebookJob.objects.filter(pk=job.pk).update(
        status=CasebookStatus.DONE,
        progress=100,
        file_name=saved,
        file_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=pages,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def purge_expired_casebooks(*, now=None) -> int:
    """Delete casebook PDFs written more than ECRF_CASEBOOK_RETENTION_DAYS ago, as exports
    purge their bundles: the job row stays (who asked for which participant's casebook, when,
    and the file's sha256), marked expired, with the time its file was deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ECRF_CASEBOOK_RETENTION_DAYS)
    expired = CasebookJob.objects.filter(
        status=CasebookStatus.DONE, finished_at__lt=cutoff, deleted_at__isnull=True
    )
    store = storage()
    count = 0
    for job in expired.only("pk", "file_name").iterator():
        if job.file_name and store.exists(job.file_name):
            store.delete(job.file_name)
        CasebookJob.objects.filter(pk=job.pk, status=CasebookStatus.DONE).update(
            status=CasebookStatus.EXPIRED, deleted_at=now, file_name=""
        )
        count += 1
    return count


def log_download(*, job: CasebookJob, user, request=None) -> None:
    log_access(
        AccessKind.EXPORT_DOWNLOADED,
        user=user,
        request=request,
        site=job.participant.site,
        detail=_detail(job),
    )
