"""Export jobs: who asked for which dataset, its progress, and the bundle it produced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trials.models import Site


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after the retention period")


class ExportJob(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty for exports run from the command line without a user."),
    )
    sites = models.ManyToManyField(Site, related_name="+", verbose_name=_("sites"))
    options = models.JSONField(_("options"))
    fmt = models.CharField(_("format"), max_length=8)
    deidentified = models.BooleanField(_("de-identified"))
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_path = models.CharField(
        _("bundle"), max_length=300, blank=True, help_text=_("Its name in the exports storage.")
    )
    file_size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    row_counts = models.JSONField(_("rows per file"), default=dict, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Set by each run: a worker that dies leaves the job to another, which counts a new attempt.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_by = models.CharField(
        _("worker"), max_length=200, blank=True, help_text=_("Host and process of the last run.")
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("bundle deleted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="export_progress_percent"
            )
        ]
        indexes = [models.Index(fields=["status", "finished_at"])]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.fmt}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED}

    @property
    def download_name(self) -> str:
        kind = "deidentified" if self.deidentified else "identified"
        return f"export-{self.pk}-{self.fmt}-{kind}.zip"
