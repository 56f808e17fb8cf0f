"""Requests refused before any view runs, and the time zone a page shows its times in."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from trials import permissions

# Only these bodies are parsed here: reading another kind (JSON, a raw upload) would
# consume the stream its view reads.
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


def _carries_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info or _has_nul(request.GET):
        return True
    if request.content_type in _FORM_TYPES and _has_nul(request.POST):
        return True
    # Headers and cookies reach the database too: the API token and the session key are
    # looked up, and django-axes stores the user agent of a failed login.
    headers = (str(value) for key, value in request.META.items() if key.startswith("HTTP_"))
    cookies = (name + value for name, value in request.COOKIES.items())
    return any("\x00" in text for text in (*headers, *cookies))


class RefuseNulMiddleware:
    """A 400 for a NUL character in the path, query string, form fields, headers or cookies.

    PostgreSQL refuses NUL in text, so any view that looks such a value up (a site code,
    a calendar token, a search, an API filter) would fail with a 500. No page has a use
    for the character, so it is refused once here rather than in every view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request):
            return HttpResponseBadRequest(
                _("The request contains a NUL character, which no page accepts."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def page_time_zone(user, code: str | None) -> str | None:
    """The zone of the site being viewed (`code` from the URL), if the user may see it;
    on a page of no site, the zone every site of the user shares (most users have one site).
    None leaves UTC, and the templates name the zone of every time they show."""
    zones = permissions.site_time_zones(user)
    if code is not None:
        return zones.get(code)
    shared = set(zones.values())
    return shared.pop() if len(shared) == 1 else None


class SiteTimeZoneMiddleware:
    """Pages show date-times in the site's time zone, not the server's UTC.

    The zone comes with the user's memberships, which every page reads for its navigation,
    so choosing it costs no query. The read API is left in UTC: its answers should not
    depend on whether the client signed in with a session or a token (a token's user is
    known only inside the view).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A zone activated for one request must not outlive it on this thread.
        with timezone.override(None):
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        zone = page_time_zone(user, view_kwargs.get("code"))
        if zone is not None:
            timezone.activate(zone)
        return None
