"""Celery autodiscovery looks for `<app>.tasks`: the visits app's tasks live with reminders."""

from visits.reminders.tasks import refresh_statuses, scan_due_reminders, send_reminder

__all__ = ["refresh_statuses", "scan_due_reminders", "send_reminder"]
