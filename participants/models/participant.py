"""A participant of a trial at a site, and the history of their status."""

from __future__ import annotations

from typing import Any

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from participants import lifecycle
from participants.choices import ParticipantStatus
from trials import locking
from trials.models import Site, Trial

_WITHOUT_STUDY_ID = [ParticipantStatus.SCREENING, ParticipantStatus.SCREEN_FAILED]


@pghistory.track()
class Participant(models.Model):
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="participants", verbose_name=_("site")
    )
    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="participants", verbose_name=_("trial")
    )
    screening_number = models.CharField(_("screening number"), max_length=20)
    study_id = models.CharField(
        _("study ID"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ParticipantStatus.choices,
        default=ParticipantStatus.SCREENING,
    )
    status_date = models.DateField(_("status date"))
    screened_on = models.DateField(_("screening date"))
    enrolled_on = models.DateField(_("enrolment date"), null=True, blank=True)
    exited_on = models.DateField(_("end of study date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    # The nonce of the registration form: the same form submitted twice (a double click, a
    # browser re-sending it) finds the participant its first submission registered.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    # Not a reviewable record, yet a lock of the participant or the site covers its status
    # and dates (trials.locking), through save() and bulk writes alike.
    lock_participant_path = ""
    objects = locking.GuardedQuerySet.as_manager()

    class Meta:
        ordering = ["site", "screening_number"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "screening_number"], name="participant_screening_number_per_site"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=_WITHOUT_STUDY_ID, study_id__isnull=True)
                | (~models.Q(status__in=_WITHOUT_STUDY_ID) & models.Q(study_id__isnull=False)),
                name="participant_study_id_iff_enrolled",
            ),
        ]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        locking.check_writable(self, update_fields=kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        locking.check_writable(self, deleting=True)
        return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        """How staff refer to the participant: the study ID once enrolled."""
        return self.study_id or self.screening_number

    @property
    def has_ended(self) -> bool:
        return self.status in lifecycle.TERMINAL

    @property
    def follow_up_continues(self) -> bool:
        """Withdrawn, but follow-up data may still be collected: follow-up visits stay expected."""
        if self.status != ParticipantStatus.WITHDRAWN:
            return False
        end = getattr(self, "end_of_study", None)
        return bool(end and end.follow_up_allowed)

    def allowed_next_statuses(self) -> list[ParticipantStatus]:
        return [ParticipantStatus(s) for s in lifecycle.ALLOWED.get(self.status, ())]

    def manual_next_statuses(self) -> list[ParticipantStatus]:
        """Transitions made through the status form (not enrolment or transplantation)."""
        return [s for s in self.allowed_next_statuses() if s not in lifecycle.BY_SERVICE_ONLY]


@pghistory.track()
class StatusChange(models.Model):
    """One transition of the lifecycle, with the date it took effect and why."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=ParticipantStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=ParticipantStatus.choices)
    effective_date = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["participant", "recorded_at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} ({self.effective_date})"
