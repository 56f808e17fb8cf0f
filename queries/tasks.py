"""Celery tasks: they take ids and call services. The nightly batch is in config/celery.py's
beat schedule."""

from __future__ import annotations

from celery import shared_task

from queries import services


@shared_task(name="queries.after_record_saved", ignore_result=True, acks_late=True)
def after_record_saved(
    record_type: str,
    record_pk: int,
    participant_id: int,
    actor_id: int | None,
    reason: str,
    fields: list[str],
) -> None:
    # Run twice (a retry, a redelivery) it changes nothing more: the checks' queries are
    # unique per finding, and a correction answers only queries still open.
    services.after_record_saved(record_type, record_pk, participant_id, actor_id, reason, fields)


@shared_task(name="queries.run_all_checks", ignore_result=True)
def run_all_checks() -> int:
    result = services.run_all_checks()
    return result.opened + result.reopened + result.closed
