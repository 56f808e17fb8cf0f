"""Visit reminders: rows are the schedule; Celery beat scans for due rows and sends each once.

models (Reminder, Notification, ReminderPreference, CalendarFeed; imported by visits.models),
timing (pure due-date arithmetic), services (sync, claim, send), selectors (dashboard, feed),
channels (e-mail, in-app), tasks (Celery), ics (iCalendar text), views.
"""
