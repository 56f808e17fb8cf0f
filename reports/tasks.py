"""Celery tasks of reports: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

# A second delivery of a casebook whose first run is still alive looks again this much later:
# if that run's worker dies meanwhile, the job is not left running for ever.
BUSY_RETRY_SECONDS = 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def write_casebook(self, job_id: int) -> str:
    from reports import casebook_services

    try:
        return casebook_services.run_casebook(job_id).status
    except casebook_services.CasebookBusy as busy:
        raise self.retry(countdown=BUSY_RETRY_SECONDS) from busy


@shared_task
def purge_expired_casebooks() -> int:
    from reports import casebook_services

    return casebook_services.purge_expired_casebooks()


@shared_task
def prune_changes() -> int:
    """Hourly (config/settings.py CELERY_BEAT_SCHEDULE): the change log of reports.freshness."""
    from reports import freshness_services

    return freshness_services.prune_changes()


@shared_task
def refresh_tallies() -> int:
    """Hourly (config/settings.py CELERY_BEAT_SCHEDULE): the dashboard's kept tallies, so that
    the notes of a quiet week's writes do not wait for the next dashboard to be counted."""
    from reports import tallies_services

    return tallies_services.refresh()
