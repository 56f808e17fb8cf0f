"""Per-site counters for screening numbers and study IDs: numbers are never reused."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from trials.models import Site


class SequenceKind(models.TextChoices):
    SCREENING = "screening", _("Screening number")
    STUDY_ID = "study_id", _("Study ID")


class SiteSequenceManager(models.Manager):
    def next_value(self, site: Site, kind: str) -> int:
        """The next number of `kind` at `site`, unique under concurrency.

        The row is created if missing (INSERT … ON CONFLICT DO NOTHING, so two first
        enrolments cannot collide), then locked with SELECT … FOR UPDATE until the
        caller's transaction ends: concurrent callers queue on the lock, and a
        rolled-back caller gives its number back rather than leaving a gap.
        """
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("next_value must run inside the caller's transaction")
        self.bulk_create([self.model(site=site, kind=kind)], ignore_conflicts=True)
        row = self.select_for_update().get(site=site, kind=kind)
        row.last_value += 1
        row.save(update_fields=["last_value"])
        return row.last_value


class SiteSequence(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sequences")
    kind = models.CharField(max_length=20, choices=SequenceKind.choices)
    last_value = models.PositiveIntegerField(default=0)

    objects = SiteSequenceManager()

    class Meta:
        verbose_name = _("site sequence")
        verbose_name_plural = _("site sequences")
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="site_sequence_unique_kind")
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.kind}={self.last_value}"
