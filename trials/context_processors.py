from __future__ import annotations

from trials import permissions


def navigation(request) -> dict:
    """Role-aware navigation: the menu shows only what the user's roles allow somewhere."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            capability: permissions.can(user, capability)
            for capability in sorted(permissions.ALL_CAPABILITIES)
        }
        | {"admin": user.is_superuser}
    }
