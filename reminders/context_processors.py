from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from reminders import selectors


def notifications(request) -> dict:
    """The navbar's unread count: one query, and only if the page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(user))}
