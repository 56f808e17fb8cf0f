"""Celery tasks: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_export_job(job_id: int) -> str:
    from exports import services

    return services.run_export(job_id).status


@shared_task
def purge_expired_exports() -> int:
    from exports import services

    return services.purge_expired_exports()
