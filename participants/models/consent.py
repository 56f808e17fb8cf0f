"""Informed consent: the approved consent form versions of a trial, and who signed which.

A version is active from `active_from` until `active_to` (inclusive; open-ended when
empty). When a newer version becomes active, every participant still in the study
whose latest consent is of an older version needs to re-consent.
"""

from __future__ import annotations

from datetime import date

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from participants.models.participant import Participant
from trials.models import Trial


class ConsentVersionQuerySet(models.QuerySet):
    def active_on(self, day: date) -> ConsentVersionQuerySet:
        return self.filter(Q(active_to__isnull=True) | Q(active_to__gte=day), active_from__lte=day)


@pghistory.track()
class ConsentVersion(models.Model):
    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="consent_versions", verbose_name=_("trial")
    )
    version = models.CharField(_("version"), max_length=20)
    approval_date = models.DateField(_("ethics approval date"))
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(
        _("active to"), null=True, blank=True, help_text=_("Empty while the version is in use.")
    )

    objects = ConsentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["trial", "-active_from", "-pk"]
        verbose_name = _("consent form version")
        verbose_name_plural = _("consent form versions")
        constraints = [
            models.UniqueConstraint(fields=["trial", "version"], name="consent_version_unique"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="consent_version_active_ordered",
            ),
            models.CheckConstraint(
                condition=Q(active_from__gte=models.F("approval_date")),
                name="consent_version_active_after_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial.nct_id} consent v{self.version}"

    def clean(self) -> None:
        if self.active_to and self.active_from and self.active_to < self.active_from:
            raise ValidationError({"active_to": _("A version cannot end before it starts.")})
        if self.active_from and self.approval_date and self.active_from < self.approval_date:
            raise ValidationError(
                {"active_from": _("A version cannot be used before its approval.")}
            )

    def is_active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


@pghistory.track()
class Consent(models.Model):
    """One signature of one consent form version (a re-consent is another row)."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("participant"),
    )
    version = models.ForeignKey(
        ConsentVersion,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("consent form version"),
    )
    signed_on = models.DateField(_("date signed"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consent taken by"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["participant", "signed_on", "pk"]
        verbose_name = _("informed consent")
        verbose_name_plural = _("informed consents")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "version"], name="consent_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} · v{self.version.version} · {self.signed_on}"
