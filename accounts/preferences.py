"""The user's language and calendar: saved in `Preference`, copied into the session at login
and on each change, and activated on every request by `PreferenceMiddleware` (from the
session, so a page makes no extra query).

Without a choice: the language is Django's (the language switch's cookie, else the browser's
Accept-Language, else the site's LANGUAGE_CODE) and the calendar is the language's
(`trials.jalali.default_calendar`: Jalali for Persian).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.models import Preference
from trials import jalali

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


class PreferenceMiddleware:
    """After LocaleMiddleware: the session's language (a signed-in user's choice) replaces the
    one Django chose, and the session's calendar is the request's (`trials.jalali`)."""

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
