"""Two middlewares of every page: the second factor and the idle timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device

from trials import permissions

# Pages a signed-in user reaches before the second factor: the second factor's own pages,
# leaving, the language switch and the health check.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "accounts-verify",
        "accounts-enrol",
        "accounts-backup-codes",
        "accounts-keep-alive",
        "login",
        "logout",
        "set_language",
        "accounts-language",
        "healthz",
    }
)
LAST_SEEN_KEY = "ecrf_last_seen"
# The session is written at most this often for the idle clock (not on every page).
LAST_SEEN_WRITE_SECONDS = 15


def session_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor (the device's id is in the session; a
    device's reset ends the sessions, so a stale id is never left behind)."""
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class SecondFactorMiddleware:
    """A signed-in user who must have a second factor (`permissions.requires_second_factor`),
    or who has one, reaches no other page until this session is verified: those without a
    device are sent to enrol, the others to type a code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not session_verified(request)
            and _url_name(request) not in OPEN_BEFORE_SECOND_FACTOR
        ):
            has_device = user_has_device(user)
            if has_device or permissions.requires_second_factor(user):
                target = "accounts-verify" if has_device else "accounts-enrol"
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{redirect(target).url}?{query}")
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """Sign a user out after ECRF_IDLE_TIMEOUT_MINUTES without a request (0: never). The time
    left goes to the page (`request.idle_seconds_left`) for static/js/idle.js's warning."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = int(settings.ECRF_IDLE_TIMEOUT_MINUTES) * 60
        if timeout > 0 and request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_KEY)
            if isinstance(last_seen, int | float) and now - last_seen > timeout:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": timeout // 60},
                )
                if _url_name(request) == "accounts-keep-alive":
                    return JsonResponse({"seconds_left": 0}, status=401)
                return redirect_to_login(request.get_full_path())
            if (
                not isinstance(last_seen, int | float)
                or now - last_seen >= LAST_SEEN_WRITE_SECONDS
                or _url_name(request) == "accounts-keep-alive"
            ):
                request.session[LAST_SEEN_KEY] = last_seen = now
            request.idle_seconds_left = max(0, int(timeout - (now - last_seen)))  # type: ignore[attr-defined]
            request.idle_timeout_seconds = timeout  # type: ignore[attr-defined]
        return self.get_response(request)
