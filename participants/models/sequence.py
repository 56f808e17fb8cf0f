"""Per-site counters for screening numbers and study IDs: numbers are never reused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from trials.models import Site

if TYPE_CHECKING:
    from django.db.models.options import Options


class SequenceKind(models.TextChoices):
    SCREENING = "screening", _("Screening number")
    STUDY_ID = "study_id", _("Study ID")


def _column(meta: Options[Any], name: str) -> str:
    field = meta.get_field(name)
    # The counter's own concrete columns: never a reverse relation, always a column.
    assert isinstance(field, models.Field) and field.column is not None
    return field.column


class SiteSequenceManager(models.Manager["SiteSequence"]):
    def next_value(self, site: Site, kind: str) -> int:
        """The next number of `kind` at `site`, unique under concurrency.

        One statement, INSERT … ON CONFLICT DO UPDATE … RETURNING: the first number creates
        the row (two first callers cannot collide on the unique constraint), later ones
        increment it. The row stays locked until the caller's transaction ends, so
        concurrent callers queue on it and a rolled-back caller gives its number back
        rather than leaving a gap.
        """
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            raise RuntimeError("next_value must run inside the caller's transaction")
        meta = self.model._meta
        table, site_column, kind_column, last = (
            connection.ops.quote_name(name)
            for name in (
                meta.db_table,
                _column(meta, "site"),
                _column(meta, "kind"),
                _column(meta, "last_value"),
            )
        )
        sql = (
            f"INSERT INTO {table} ({site_column}, {kind_column}, {last}) VALUES (%s, %s, 1) "  # noqa: S608 - identifiers from _meta
            f"ON CONFLICT ({site_column}, {kind_column}) "
            f"DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [site.pk, kind])
            return cursor.fetchone()[0]


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
