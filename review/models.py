"""Locks, source data verifications and e-signatures of the reviewable records.

A record is a (type key, id) of `trials.records`: these rows never point at a record model
by name, so an instrument added later is locked, verified and signed without a change here.
They are the one source of truth of "verified", "signed" and "locked" (FormRecord.status
keeps the entry state only; see crfs.base.FormRecord.is_locked).

Rows are never deleted: an unlock, a cleared verification and an invalidated signature are
columns set on the row, and pghistory records every change, so the trail shows each step.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    RECORD = "record", _("Record")
    VISIT = "visit", _("Visit")
    PARTICIPANT = "participant", _("Participant")
    SITE = "site", _("Site")


class LockQuerySet(models.QuerySet["Lock"]):
    def active(self) -> LockQuerySet:
        return self.filter(unlocked_at__isnull=True)


@pghistory.track()
class Lock(models.Model):
    """A data manager's lock of a record, a visit (its date and every record at it), a
    participant (every record of theirs) or a site (every participant's)."""

    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    # "record:<type>:<id>", "visit:<id>", "participant:<id>" or "site:<id>": one active lock
    # per target (a unique index), and the guard looks a record's targets up in one query.
    target = models.CharField(_("target"), max_length=80)
    site = models.ForeignKey(
        "trials.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site")
    )
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("participant"),
    )
    record_type = models.CharField(_("record type"), max_length=40, blank=True)
    record_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    reason = models.TextField(_("reason for locking"))
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked"))
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(_("unlocked"), null=True, blank=True)
    unlock_reason = models.TextField(_("reason for unlocking"), blank=True)

    objects = LockQuerySet.as_manager()

    class Meta:
        verbose_name = _("lock")
        verbose_name_plural = _("locks")
        constraints = [
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(unlocked_at__isnull=True),
                name="review_one_active_lock_per_target",
            ),
            models.CheckConstraint(
                condition=models.Q(unlocked_at__isnull=True) | ~models.Q(unlock_reason=""),
                name="review_unlock_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["site", "unlocked_at"])]

    def __str__(self) -> str:
        return self.target


class VerificationQuerySet(models.QuerySet["Verification"]):
    def active(self) -> VerificationQuerySet:
        return self.filter(cleared_at__isnull=True)


@pghistory.track()
class Verification(models.Model):
    """A monitor's source data verification of one field of a record, or of the whole record
    (`field` empty): the values seen are kept, so a later change of them clears it."""

    record_type = models.CharField(_("record type"), max_length=40)
    record_id = models.BigIntegerField(_("record id"))
    field = models.CharField(_("field"), max_length=80, blank=True)
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    visit_id = models.BigIntegerField(_("visit id"), null=True, blank=True)
    # {field: canonical text of the value} as verified.
    values = models.JSONField(_("values verified"), default=dict)
    record_version = models.PositiveIntegerField(_("record version"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    # The change that cleared it: the record's pghistory event and version after it.
    cleared_by_event = models.BigIntegerField(_("cleared by audit event"), null=True, blank=True)
    cleared_version = models.PositiveIntegerField(
        _("version that cleared it"), null=True, blank=True
    )
    cleared_fields = models.JSONField(_("fields changed"), default=list, blank=True)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("source data verification")
        verbose_name_plural = _("source data verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id", "field"],
                condition=models.Q(cleared_at__isnull=True),
                name="review_one_active_verification",
            )
        ]
        indexes = [
            models.Index(fields=["record_type", "record_id"]),
            models.Index(fields=["participant", "cleared_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} {self.field}".strip()


class SignatureKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CASEBOOK = "casebook", _("Casebook")
    RECORDS = "records", _("Selected records")


# What the signer confirms, shown on the page and stored with each signature (in the
# language the page was in).
MEANING = _("I confirm that the data are accurate and complete.")


class SignatureQuerySet(models.QuerySet["Signature"]):
    def valid(self) -> SignatureQuerySet:
        return self.filter(invalidated_at__isnull=True)


@pghistory.track()
class Signature(models.Model):
    """An investigator's e-signature of a visit, a participant's casebook or a set of records
    (e.g. adverse events), with the version of every record signed (SignatureItem)."""

    kind = models.CharField(_("signed"), max_length=12, choices=SignatureKind.choices)
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    visit_id = models.BigIntegerField(_("visit id"), null=True, blank=True)
    meaning = models.TextField(_("meaning of the signature"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed"))
    invalidated_at = models.DateTimeField(_("invalidated"), null=True, blank=True)
    # The change that invalidated it: which record, its pghistory event and version.
    invalidated_by_record = models.CharField(max_length=80, blank=True)
    invalidated_by_event = models.BigIntegerField(null=True, blank=True)
    invalidated_version = models.PositiveIntegerField(null=True, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-signature")
        verbose_name_plural = _("e-signatures")
        indexes = [models.Index(fields=["participant", "invalidated_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.participant_id} {self.signed_at:%Y-%m-%d}"


@pghistory.track()
class SignatureItem(models.Model):
    signature = models.ForeignKey(Signature, on_delete=models.PROTECT, related_name="items")
    record_type = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    record_version = models.PositiveIntegerField(null=True, blank=True)
    # The record's last pghistory event when signed.
    event_id = models.BigIntegerField(null=True, blank=True)
    values = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id"])]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id}"


@pghistory.track()
class SdvTargets(models.Model):
    """Targeted SDV of a trial: the record types a monitor must verify (all when none)."""

    trial = models.OneToOneField("trials.Trial", on_delete=models.PROTECT, related_name="+")
    # Record type keys; "<key>:serious" keeps only the rows of a type that are serious.
    targets = models.JSONField(_("records to verify"), default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("targeted SDV")
        verbose_name_plural = _("targeted SDV")

    def __str__(self) -> str:
        return ", ".join(self.targets) or "all"
