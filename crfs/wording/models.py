"""Loaded validated wordings of the instruments, one row per instrument, language and version."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crfs.wording.spec import ALSAQ40, ALSFRS_R, SEIQOL


class Instrument(models.TextChoices):
    ALSFRS_R = ALSFRS_R, "ALSFRS-R"
    ALSAQ40 = ALSAQ40, "ALSAQ-40"
    SEIQOL = SEIQOL, "SEIQoL-DW"


@pghistory.track()
class InstrumentWording(models.Model):
    """The wording of one validated translation. A version's wording never changes: a new
    version is a new row, and the latest loaded is the one the forms show."""

    instrument = models.CharField(_("instrument"), max_length=20, choices=Instrument.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    version = models.CharField(_("version"), max_length=100)
    source = models.TextField(_("source"), help_text=_("Citation of the validated version."))
    texts = models.JSONField(_("wording"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    loaded_at = models.DateTimeField(_("loaded"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("instrument wording")
        verbose_name_plural = _("instrument wordings")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "language", "version"], name="wording_one_row_per_version"
            )
        ]
        indexes = [models.Index(fields=["instrument", "language", "-loaded_at"])]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} · {self.language} · {self.version}"

    def item_text(self, code: str) -> str:
        return str(self.texts["items"][code]["text"])

    def item_anchor(self, code: str, score: int) -> str:
        return str(self.texts["items"][code]["anchors"][str(score)])

    def anchor(self, score: int) -> str:
        return str(self.texts["anchors"][str(score)])
