"""Writes of the audit app: the access log. Its rows are written by the auth signals,
django-axes' lockout signal, the trials team services (ON_ROLE_CHANGED) and the exports app
(`log_access`), each in the caller's transaction."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from audit.models import AccessEvent, AccessKind
from trials.models import Site

DETAIL_MAX = AccessEvent._meta.get_field("detail").max_length or 500
USERNAME_MAX = AccessEvent._meta.get_field("username").max_length or 150


def address_of(request: Any) -> str | None:
    """The client's address as django-axes saw it (its own proxy settings), else the socket's;
    anything that is not an IP address is dropped rather than refused."""
    if request is None:
        return None
    raw = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def log_access(
    kind: str,
    *,
    user: Any = None,
    username: str = "",
    request: Any = None,
    site: Site | None = None,
    sites: Iterable[Site] = (),
    detail: str = "",
) -> list[AccessEvent]:
    """Write one access-log row (one per site when `sites` names several, so each site's
    log shows it). `kind` is an `AccessKind`; `user` the account when known, else the
    `username` as typed. The exports app calls this for EXPORT_CREATED and EXPORT_DOWNLOADED."""
    if kind not in AccessKind.values:
        raise ValueError(f"unknown access kind {kind!r}")
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    name = (user.get_username() if user is not None else username or "")[:USERNAME_MAX]
    # NUL is refused by PostgreSQL in text (a typed user name may carry one).
    name = name.replace("\x00", "")
    common = {
        "kind": kind,
        "user": user,
        "username": name,
        "address": address_of(request),
        "detail": detail.replace("\x00", "")[:DETAIL_MAX],
    }
    targets: list[Site | None] = list(sites) or [site]
    return AccessEvent.objects.bulk_create([AccessEvent(site=s, **common) for s in targets])


# --- receivers: Django's auth signals and django-axes' lockout signal ---------------------


def on_logged_in(sender: Any, request: Any = None, user: Any = None, **_kw: Any) -> None:
    log_access(AccessKind.LOGIN, user=user, request=request)


def on_logged_out(sender: Any, request: Any = None, user: Any = None, **_kw: Any) -> None:
    # Logging out of an expired session has no user: nothing to say who left.
    if user is not None:
        log_access(AccessKind.LOGOUT, user=user, request=request)


def on_login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **_kw: Any
) -> None:
    username = str((credentials or {}).get("username") or "")
    log_access(AccessKind.LOGIN_FAILED, username=username, request=request)


def on_locked_out(
    sender: Any, request: Any = None, username: str | None = None, **_kw: Any
) -> None:
    log_access(AccessKind.LOCKOUT, username=str(username or ""), request=request)


def on_role_changed(membership: Any, *, actor: Any, granted: bool) -> None:
    """trials.hooks.ON_ROLE_CHANGED: the grant or revocation in the site's access log."""
    log_access(
        AccessKind.ROLE_GRANTED if granted else AccessKind.ROLE_REVOKED,
        user=actor,
        site=membership.site,
        detail=f"{membership.user.get_username()}: {membership.get_role_display()}",
    )


class PasswordChangeLog:
    """In AUTH_PASSWORD_VALIDATORS for its `password_changed`, which Django calls after a
    user's new password is saved (the change page, the reset page, the admin, commands);
    Django sends no signal for it. It refuses no password."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            log_access(AccessKind.PASSWORD_CHANGED, user=user)

    def get_help_text(self) -> str:
        return str(_("Each change of password is recorded in the access log."))
