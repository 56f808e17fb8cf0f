"""Celery tasks: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

# A second delivery of a job whose first run is still alive (it outlasted the broker's
# visibility timeout) looks again this much later: if that run's worker dies meanwhile, the
# job is not left running for ever.
BUSY_RETRY_SECONDS = 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_export_job(self, job_id: int) -> str:
    from exports import services

    try:
        return services.run_export(job_id).status
    except services.JobBusy as busy:
        raise self.retry(countdown=BUSY_RETRY_SECONDS) from busy


@shared_task
def purge_expired_exports() -> int:
    from exports import services

    return services.purge_expired_exports()
