"""The user's language and calendar: saved in `Preference`, copied into the session at login
and on each change, and activated on every request by `PreferenceMiddleware` (from the
session, so a page makes no extra query).

Without a saved choice: the language switch's cookie (a choice made before signing in), else
the language of the site the page belongs to (`Site.language`; on a page of no site, the one
language the user's sites share), else the browser's Accept-Language, else LANGUAGE_CODE;
the calendar is the language's (`trials.jalali.default_calendar`: Jalali for Persian).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from rest_framework.views import APIView

from accounts.models import Preference
from trials import jalali, permissions
from trials.i18n import site_language

LANGUAGE_KEY = "ecrf_language"
CALENDAR_KEY = "ecrf_calendar"
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def preference_of(user: Any) -> Preference | None:
    return Preference.objects.filter(user=user).first()


def saved_language(user: Any) -> str | None:
    """The user's saved interface language ("" or None: none chosen): a source of
    trials.i18n.preferred_language, the language of their e-mails, reminders and feed."""
    preference = preference_of(user)
    return preference.language if preference else None


def save_preference(
    user: Any, *, language: str | None = None, calendar: str | None = None
) -> Preference:
    """Store the user's language and/or calendar ("" for the default; None leaves it)."""
    if language is not None and language not in LANGUAGE_CODES | {""}:
        raise ValueError(f"unknown language {language!r}")
    if calendar is not None and calendar not in (*jalali.CALENDARS, ""):
        raise ValueError(f"unknown calendar {calendar!r}")
    preference, _created = Preference.objects.get_or_create(user=user)
    changed = []
    if language is not None:
        preference.language = language
        changed.append("language")
    if calendar is not None:
        preference.calendar = calendar
        changed.append("calendar")
    if changed:
        preference.save(update_fields=changed)
    return preference


def remember_in_session(request: HttpRequest, preference: Preference | None) -> None:
    request.session[LANGUAGE_KEY] = preference.language if preference else ""
    request.session[CALENDAR_KEY] = preference.calendar if preference else ""


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Django's user_logged_in: the session starts with the user's saved choices."""
    if request is not None and hasattr(request, "session"):
        remember_in_session(request, preference_of(user))


def page_site_language(request: HttpRequest, code: str | None) -> str | None:
    """The language of the page's site for a user who chose none (no saved language, no
    language switch cookie): the site of `code` (from the URL) if the user may see it, else
    the one language of the user's sites. None: the browser's (Django's choice) stands."""
    session = getattr(request, "session", None)
    if session is not None and session.get(LANGUAGE_KEY) in LANGUAGE_CODES:
        return None
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in LANGUAGE_CODES:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if code is not None:
        language = permissions.site_languages(user).get(code)
        return language if language in LANGUAGE_CODES else None
    return site_language(user)


class PreferenceMiddleware:
    """After LocaleMiddleware: the session's language (a signed-in user's choice) replaces the
    one Django chose, and the session's calendar is the request's (`trials.jalali`). Once the
    view is known (the user signed in, the site in the URL), a user who chose no language
    reads the site's before the browser's (`page_site_language`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(LANGUAGE_KEY) if session is not None else None
        calendar = session.get(CALENDAR_KEY) if session is not None else None
        if language in LANGUAGE_CODES:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        with jalali.override(calendar or None):
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # the read API answers alike for a session and a token
        code = view_kwargs.get("code")
        language = page_site_language(request, code if isinstance(code, str) else None)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return None
