"""A user's interface preferences: the language and the calendar of the pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarChoice(models.TextChoices):
    AUTOMATIC = "", _("The language's calendar (Jalali for Persian)")
    GREGORIAN = "gregorian", _("Gregorian")
    JALALI = "jalali", _("Jalali (Solar Hijri)")


class Preference(models.Model):
    """One row per user who chose something; no row (or an empty value) means the default:
    the language from the browser, else the site's (LANGUAGE_CODE), and the language's
    calendar. Not tracked by pghistory: a display choice, no study data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interface_preference"
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: the browser's language, else the site's."),
    )
    calendar = models.CharField(
        _("calendar"), max_length=10, choices=CalendarChoice.choices, blank=True
    )

    class Meta:
        verbose_name = _("interface preference")
        verbose_name_plural = _("interface preferences")

    def __str__(self) -> str:
        return f"{self.user} · {self.language or '-'} · {self.calendar or '-'}"
