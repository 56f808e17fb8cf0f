"""Requests refused before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext as _

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
