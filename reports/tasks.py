"""Celery tasks of reports: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def write_casebook(job_id: int) -> str:
    from reports import casebook_services

    return casebook_services.run_casebook(job_id).status


@shared_task
def purge_expired_casebooks() -> int:
    from reports import casebook_services

    return casebook_services.purge_expired_casebooks()


@shared_task
def prune_changes() -> int:
    """Hourly (config/settings.py CELERY_BEAT_SCHEDULE): the change log of reports.freshness."""
    from reports import freshness_services

    return freshness_services.prune_changes()
