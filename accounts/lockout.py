"""django-axes, configured: failed logins lock an account across addresses and an address
across accounts, each with its own limit."""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or behind a trusted proxy (DJANGO_TRUSTED_PROXY)
    the last address of X-Forwarded-For, the one that proxy added (earlier ones are the
    client's to invent)."""
    address = request.META.get("REMOTE_ADDR")
    if settings.DJANGO_TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            address = last
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


class AccountAndAddressHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: AXES_FAILURE_LIMIT failures for one user name
    (from any address) and ECRF_ADDRESS_FAILURE_LIMIT for one address (over any user names).

    Axes compares one number with one limit: this handler answers the account's failures, or
    the limit itself once the address has reached its own limit. A successful login clears the
    account's failures only, never the address's: an attacker's own account must not wipe
    what the address has tried on others."""

    def _counts(self, request: Any, credentials: dict | None) -> tuple[int, int]:
        by_username, by_address = (
            sum(attempts.values_list("failures_since_start", flat=True))
            for attempts in self.get_user_attempts(request, credentials)
        )
        return by_username, by_address

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        by_username, by_address = self._counts(request, credentials)
        if by_address >= settings.ECRF_ADDRESS_FAILURE_LIMIT:
            return max(by_username, get_failure_limit(request, credentials))
        return by_username

    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
