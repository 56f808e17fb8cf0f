"""The casebook PDF jobs: who asked for which participant's casebook, its progress, and the
file it produced (kept through Django's storage API, with its sha256)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from participants.models import Participant


class CasebookStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after the retention period")


class CasebookJob(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty for casebooks written from the command line or a benchmark."),
    )
    # Decided when the job is made (the requester's right then) and checked again at download.
    identifiers = models.BooleanField(_("identifiers included"), default=False)
    # The requester's language: the worker writes the casebook in it.
    language = models.CharField(_("language"), max_length=10, default="en")
    status = models.CharField(
        _("status"), max_length=10, choices=CasebookStatus.choices, default=CasebookStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_name = models.CharField(
        _("file"), max_length=300, blank=True, help_text=_("Name in the casebooks storage.")
    )
    file_size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When the file was deleted (ECRF_CASEBOOK_RETENTION_DAYS after it was written); the row
    # stays as the log of who asked for which casebook, with the file's sha256.
    deleted_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("casebook")
        verbose_name_plural = _("casebooks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="casebook_progress_percent"
            )
        ]
        indexes = [models.Index(fields=["participant", "requested_by", "created_at"])]

    def __str__(self) -> str:
        return f"casebook {self.pk} ({self.participant_id}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {CasebookStatus.DONE, CasebookStatus.FAILED, CasebookStatus.EXPIRED}

    @property
    def download_name(self) -> str:
        kind = "identified" if self.identifiers else "pseudonymised"
        return f"casebook-{self.participant.label}-{self.pk}-{kind}.pdf"


class Change(models.Model):
    """A transaction that wrote to a table the reports read: recorded by a statement-level
    trigger on each of those tables (reports.freshness, migration 0003), in the writing
    transaction itself, once per transaction. The kept dashboard and cohort figures are
    used only while every recorded transaction was visible to the snapshot they were
    computed from."""

    xid = models.BigIntegerField(_("transaction id"), primary_key=True)

    class Meta:
        verbose_name = _("data change")
        verbose_name_plural = _("data changes")

    def __str__(self) -> str:
        return f"change in transaction {self.xid}"


class ChangeWatermark(models.Model):
    """A point the change log may later be pruned up to (reports.freshness.prune_changes):
    every transaction whose id is below `horizon` had ended by `taken_at` (the database's
    clock). Recorded by each prune run; used by a run at least the kept figures' expiry
    later."""

    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    horizon = models.BigIntegerField(_("oldest transaction still running"))

    class Meta:
        verbose_name = _("change log watermark")
        verbose_name_plural = _("change log watermarks")

    def __str__(self) -> str:
        return f"watermark {self.horizon} at {self.taken_at:%Y-%m-%d %H:%M:%S}"


class StaleParticipant(models.Model):
    """A participant whose data a transaction changed, not yet counted again in the kept
    tallies (reports.tallies): noted by a trigger in the writing transaction, deleted by the
    refresh that counts them again."""

    pk = models.CompositePrimaryKey("participant_id", "xid")
    participant_id = models.BigIntegerField(_("participant"))
    xid = models.BigIntegerField(_("transaction id"))

    class Meta:
        verbose_name = _("participant to count again")
        verbose_name_plural = _("participants to count again")

    def __str__(self) -> str:
        return f"participant {self.participant_id} changed in transaction {self.xid}"


class ParticipantTally(models.Model):
    """One participant's share of the dashboard's form completeness and SDV figures, as last
    counted (reports.tallies): what to take off their site's sums when counted again. No
    foreign key: a deleted participant's share is taken off by the next refresh."""

    participant_id = models.BigIntegerField(_("participant"), primary_key=True)
    site_id = models.BigIntegerField(_("site"))
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("participant tally")
        verbose_name_plural = _("participant tallies")

    def __str__(self) -> str:
        return f"tally of participant {self.participant_id}"


class SiteTally(models.Model):
    """The sum over a site's participants of one count (reports.tallies)."""

    site_id = models.BigIntegerField(_("site"))
    key = models.CharField(_("count"), max_length=200)
    n = models.BigIntegerField(_("sum"), default=0)

    class Meta:
        verbose_name = _("site tally")
        verbose_name_plural = _("site tallies")
        constraints = [
            models.UniqueConstraint(fields=["site_id", "key"], name="reports_site_tally_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} at site {self.site_id}: {self.n}"


class TallyState(models.Model):
    """The one row saying which code the kept tallies were counted by (a fingerprint of the
    protocols' expected forms and the record types): another one recounts everything."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("tally state")
        verbose_name_plural = _("tally state")

    def __str__(self) -> str:
        return f"tallies by {self.fingerprint[:12]}"
