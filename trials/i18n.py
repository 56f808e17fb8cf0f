"""The language a user reads what is sent to them in: e-mails, reminders, the calendar feed.

Pages follow the request (LocaleMiddleware, then the signed-in user's choice). What is
rendered outside a page for a recipient is rendered inside
`translation.override(preferred_language(user))`: the first language a source in
`LANGUAGE_SOURCES` gives for the user (accounts registers the user's saved interface
language), else the site's default, settings.LANGUAGE_CODE. An app that keeps a more
specific choice (reminders' "language of reminders") asks it first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

# Functions of a user giving their language code, or None/"" when they chose none. Filled in
# AppConfig.ready() with trials.hooks.connect, by apps above this one.
LanguageSource = Callable[[Any], str | None]
LANGUAGE_SOURCES: list[LanguageSource] = []


def language_codes() -> frozenset[str]:
    return frozenset(code for code, _name in settings.LANGUAGES)


def chosen_language(user: Any) -> str | None:
    """The language `user` chose (the first source that names one of the site's), or None."""
    if user is not None:
        codes = language_codes()
        for source in LANGUAGE_SOURCES:
            language = source(user)
            if language in codes:
                return str(language)
    return None


def preferred_language(user: Any) -> str:
    """The language `user` reads messages in (a code of settings.LANGUAGES)."""
    return chosen_language(user) or settings.LANGUAGE_CODE


def language_for(user: Any, chosen: str | None = None) -> str:
    """`chosen` (a message-specific choice, e.g. the language of reminders) when it is a
    language of the site, else the user's preferred language."""
    if chosen is not None and chosen in language_codes():
        return chosen
    return preferred_language(user)
