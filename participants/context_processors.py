from __future__ import annotations

from trials import permissions


def navigation(request) -> dict:
    """The sites whose participant lists the menu links to (a lazy queryset: one query if shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"participant_sites": permissions.sites_where(user, permissions.VIEW_PARTICIPANTS)}
