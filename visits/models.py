"""Visits scheduled from the protocol, and the transplantation that anchors them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from participants.models import Participant
from trials import locking
from trials.protocols.definitions import UNSCHEDULED_CODE, VisitDef
from visits import schedule
from visits.choices import DONE_STATUSES, NeedleType, Route, VisitStatus


class VisitQuerySet(locking.GuardedQuerySet):
    """Bulk writes (update, bulk_update, bulk_create) ask the locks too (trials.locking)."""

    def open(self) -> VisitQuerySet:
        """Visits still expected: neither done, missed nor not expected."""
        return self.filter(actual_date__isnull=True).exclude(
            status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED]
        )


@pghistory.track()
class Visit(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="visits", verbose_name=_("participant")
    )
    code = models.CharField(_("visit"), max_length=8)
    sequence = models.PositiveSmallIntegerField(
        _("sequence"), default=0, help_text=_("0 for scheduled visits; 1, 2, 3 … for unscheduled.")
    )
    position = models.PositiveSmallIntegerField(_("order in the protocol"), default=0)
    unscheduled_reason = models.TextField(_("reason for the unscheduled visit"), blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    window_start = models.DateField(_("window opens"), null=True, blank=True)
    window_end = models.DateField(_("window closes"), null=True, blank=True)
    actual_date = models.DateField(_("visit date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.UPCOMING
    )
    missed_reason = models.TextField(_("reason missed"), blank=True)
    days_from_target = models.IntegerField(_("days from target"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = VisitQuerySet.as_manager()
    # The daily refresh moves an open visit's status as time passes (upcoming → overdue): not
    # a change of its data, so allowed on a locked visit (trials.locking).
    lock_exempt_fields = frozenset({"status", "updated_at"})

    class Meta:
        ordering = ["participant", "position", "sequence"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "code", "sequence"], name="visit_unique_code_sequence"
            ),
            models.CheckConstraint(
                condition=models.Q(code=UNSCHEDULED_CODE, sequence__gte=1)
                & ~models.Q(unscheduled_reason="")
                | (~models.Q(code=UNSCHEDULED_CODE) & models.Q(sequence=0)),
                name="visit_unscheduled_numbered_with_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=VisitStatus.MISSED) | ~models.Q(missed_reason=""),
                name="visit_missed_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DONE_STATUSES, actual_date__isnull=False)
                | (~models.Q(status__in=DONE_STATUSES) & models.Q(actual_date__isnull=True)),
                name="visit_done_iff_dated",
            ),
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_start__lte=models.F("window_end")),
                name="visit_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["participant", "status", "window_start"])]

    def __str__(self) -> str:
        return self.display_code

    # Locked data changes through no path: every write reaches the model, so the model asks
    # trials.locking (review keeps the locks and clears verifications of changed values).
    def save(self, *args: Any, **kwargs: Any) -> None:
        locking.check_writable(self, update_fields=kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        locking.written(self, update_fields=kwargs.get("update_fields"))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        locking.check_writable(self, deleting=True)
        return super().delete(*args, **kwargs)

    @property
    def display_code(self) -> str:
        return f"{self.code}-{self.sequence}" if self.is_unscheduled else self.code

    @property
    def is_unscheduled(self) -> bool:
        return self.code == UNSCHEDULED_CODE

    @property
    def is_done(self) -> bool:
        return self.actual_date is not None

    @property
    def is_open(self) -> bool:
        """Still expected, as VisitQuerySet.open() selects them, for a visit in hand."""
        return self.actual_date is None and self.status not in (
            VisitStatus.MISSED,
            VisitStatus.NOT_EXPECTED,
        )

    @property
    def definition(self) -> VisitDef | None:
        """The protocol's definition of this visit (None for unscheduled visits)."""
        if self.is_unscheduled:
            return None
        return self.participant.trial.protocol.visit(self.code)

    def expected_forms(self) -> tuple[str, ...]:
        if self.is_unscheduled:
            return self.participant.trial.protocol.unscheduled_forms
        return self.definition.forms if self.definition else ()

    def status_on(self, today: date) -> VisitStatus:
        """The status on `today`; missed / not expected are decisions that time does not change."""
        return schedule.visit_status(
            window_start=self.window_start,
            window_end=self.window_end,
            actual=self.actual_date,
            today=today,
            missed=self.status == VisitStatus.MISSED,
            expected=self.status != VisitStatus.NOT_EXPECTED,
        )

    def refresh(self, today: date) -> None:
        """Recompute the stored status and days from target (the caller saves)."""
        self.status = self.status_on(today)
        self.days_from_target = schedule.days_from_target(self.target_date, self.actual_date)

    def replan(self, planned: schedule.Planned | None) -> None:
        self.target_date = planned.target if planned else None
        self.window_start = planned.window_start if planned else None
        self.window_end = planned.window_end if planned else None


@pghistory.track()
class Transplantation(models.Model):
    """The cell transplantation (day 0): one per participant; anchors the follow-up schedule."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, primary_key=True, related_name="transplantation"
    )
    performed_at = models.DateTimeField(_("date and time of the procedure"))
    performed_on = models.DateField(
        _("date of the procedure"), help_text=_("Site-local calendar date of performed_at.")
    )
    route = models.CharField(_("route"), max_length=20, choices=Route.choices)
    injection_level = models.CharField(
        _("level of injection"), max_length=40, help_text=_("For example L3-L4.")
    )
    cell_dose = models.BigIntegerField(
        _("cell dose (cells)"),
        validators=[MinValueValidator(1_000_000), MaxValueValidator(10_000_000_000)],
        help_text=_("Total number of cells, e.g. 100000000 for 1 x 10^8."),
    )
    viability_percent = models.DecimalField(
        _("viability (%)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    volume_ml = models.DecimalField(
        _("volume (mL)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(100))],
    )
    cell_lot = models.CharField(_("cell lot / batch"), max_length=40)
    needle_type = models.CharField(_("needle type"), max_length=20, choices=NeedleType.choices)
    needle_gauge = models.PositiveSmallIntegerField(
        _("needle gauge (G)"), validators=[MinValueValidator(16), MaxValueValidator(30)]
    )
    operator = models.CharField(_("operator"), max_length=200)
    immediate_complications = models.TextField(
        _("immediate complications"), blank=True, help_text=_("Leave empty if none.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Not a reviewable record, yet a lock of its participant or site covers it (trials.locking).
    lock_participant_path = "participant"
    objects = locking.GuardedQuerySet.as_manager()

    class Meta:
        verbose_name = _("transplantation")
        verbose_name_plural = _("transplantations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(viability_percent__gte=0, viability_percent__lte=100),
                name="transplantation_viability_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(needle_gauge__gte=16, needle_gauge__lte=30),
                name="transplantation_needle_gauge",
            ),
            models.CheckConstraint(
                condition=models.Q(cell_dose__gt=0) & models.Q(volume_ml__gt=0),
                name="transplantation_positive_dose_volume",
            ),
        ]

    # Check constraints that only repeat the field validators (the dose and volume minimums
    # are above zero): all of them, so the services call full_clean with
    # validate_constraints=False.
    checks_repeating_validators = frozenset(
        {
            "transplantation_viability_percent",
            "transplantation_needle_gauge",
            "transplantation_positive_dose_volume",
        }
    )

    def __str__(self) -> str:
        return f"{self.participant} · {self.performed_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        locking.check_writable(self, update_fields=kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        locking.check_writable(self, deleting=True)
        return super().delete(*args, **kwargs)
