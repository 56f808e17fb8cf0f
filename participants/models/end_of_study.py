"""How a participant's study ended, and the attempts made to reach one who was lost."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from participants.choices import (
    ContactMethod,
    ContactOutcome,
    ParticipantStatus,
    WithdrawnBy,
    YesNoUnknown,
)
from participants.models.participant import Participant

END_OUTCOMES = [
    ParticipantStatus.COMPLETED,
    ParticipantStatus.WITHDRAWN,
    ParticipantStatus.LOST_TO_FOLLOW_UP,
    ParticipantStatus.DIED,
]


@pghistory.track()
class EndOfStudy(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="end_of_study"
    )
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=[(s.value, s.label) for s in END_OUTCOMES],
    )
    ended_on = models.DateField(_("end of study date"))
    reason = models.TextField(_("reason"), blank=True)
    withdrawn_by = models.CharField(
        _("withdrawn"), max_length=20, choices=WithdrawnBy.choices, blank=True
    )
    follow_up_allowed = models.BooleanField(
        _("follow-up data may still be collected"), null=True, blank=True
    )
    death_cause = models.CharField(_("cause of death"), max_length=300, blank=True)
    death_als_related = models.CharField(
        _("death related to ALS"), max_length=10, choices=YesNoUnknown.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("end of study")
        verbose_name_plural = _("ends of study")
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome=ParticipantStatus.WITHDRAWN)
                | (~Q(withdrawn_by="") & Q(follow_up_allowed__isnull=False)),
                name="end_of_study_withdrawal_details",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=ParticipantStatus.DIED)
                | (~Q(death_cause="") & ~Q(death_als_related="")),
                name="end_of_study_death_details",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} · {self.outcome} · {self.ended_on}"


@pghistory.track()
class ContactAttempt(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    attempted_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=20, choices=ContactMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=ContactOutcome.choices)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # The nonce of the form the attempt was entered on: a form submitted twice (a double
    # click, a retry) finds the row its first submission saved instead of adding another.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["participant", "attempted_on", "pk"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")

    def __str__(self) -> str:
        return f"{self.participant} · {self.attempted_on} · {self.method}: {self.outcome}"
