"""Celery tasks: they take ids and call services. Beat runs the scan and the daily refresh
(config/settings.py CELERY_BEAT_SCHEDULE); there is never one far-future task per visit."""

from __future__ import annotations

from celery import shared_task

from reminders import services
from visits import services as visit_services


def dispatch_send(reminder_id: int) -> None:
    send_reminder.delay(reminder_id)


@shared_task(name="reminders.scan_due", ignore_result=True)
def scan_due_reminders() -> int:
    """Claim due reminders and dispatch one send task per id after the claim commits."""
    return len(services.claim_due(dispatch=dispatch_send))


@shared_task(name="reminders.send", ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> str:
    return services.send_reminder(reminder_id)


@shared_task(name="visits.refresh_statuses", ignore_result=True)
def refresh_statuses() -> int:
    """Daily: time-dependent visit statuses, then reminders (picks up site team changes)."""
    changed = visit_services.refresh_statuses()
    services.sync_all()
    return changed
