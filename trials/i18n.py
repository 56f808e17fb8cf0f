"""The language a user reads what is sent to them in: e-mails, reminders, the calendar feed.

Pages follow the request (LocaleMiddleware, then the signed-in user's choice). What is
rendered outside a page for a recipient is rendered inside
`translation.override(preferred_language(user))`: the first language a source in
`LANGUAGE_SOURCES` gives for the user (accounts registers the user's saved interface
language), else the language of the user's site (`Site.language`: the site the message is
about, else the one language the user's sites share), else settings.LANGUAGE_CODE. An app
that keeps a more specific choice (reminders' "language of reminders") asks it first.
Pages follow the same order, the browser's language coming after the site's
(accounts.preferences.PreferenceMiddleware).
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


def site_language(user: Any, site: Any = None) -> str | None:
    """The language of `site` (a trials.Site), else the one language the user's active
    sites share; None when it has none (or the sites differ)."""
    codes = language_codes()
    if site is not None:
        language = getattr(site, "language", "")
        return language if language in codes else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    from trials.permissions import site_languages

    shared = set(site_languages(user).values())
    language = shared.pop() if len(shared) == 1 else None
    return language if language in codes else None


def preferred_language(user: Any, site: Any = None) -> str:
    """The language `user` reads messages in (a code of settings.LANGUAGES): their choice,
    else their site's, else settings.LANGUAGE_CODE."""
    return chosen_language(user) or site_language(user, site) or settings.LANGUAGE_CODE


def language_for(user: Any, chosen: str | None = None, site: Any = None) -> str:
    """`chosen` (a message-specific choice, e.g. the language of reminders) when it is a
    language of the site, else the user's preferred language (`site`: the site the message
    is about)."""
    if chosen is not None and chosen in language_codes():
        return chosen
    return preferred_language(user, site)
