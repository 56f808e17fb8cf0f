"""Demographics and ALS history, recorded at screening."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from participants import partial_dates
from participants.choices import (
    DatePrecision,
    ElEscorial,
    Ethnicity,
    OnsetRegion,
    Sex,
    YesNoUnknown,
)
from participants.models.participant import Participant
from trials import locking


def plausible_range(low: int, high: int, message) -> list:
    """Min and max validators that both say the plausible range (`message`): a person told
    only one bound, or the column's digit limits, does not learn what is expected."""
    return [
        MinValueValidator(Decimal(low), message=message),
        MaxValueValidator(Decimal(high), message=message),
    ]


@pghistory.track()
class Demographics(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="demographics"
    )
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=4,
        decimal_places=1,
        validators=plausible_range(100, 230, _("Height must be between 100 and 230 cm.")),
    )
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=4,
        decimal_places=1,
        validators=plausible_range(25, 250, _("Weight must be between 25 and 250 kg.")),
    )
    ethnicity = models.CharField(
        _("ethnicity"),
        max_length=20,
        choices=Ethnicity.choices,
        help_text=_("Selects the spirometry reference group."),
    )
    # Optimistic locking of corrections: a page submits the version it showed, and a save
    # from a page opened before another correction is refused (participants.corrections).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # Bulk writes (QuerySet.update/delete, bulk_update, bulk_create) ask the locks too.
    objects = locking.GuardedQuerySet.as_manager()

    class Meta:
        verbose_name = _("demographics")
        verbose_name_plural = _("demographics")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(height_cm__gte=100, height_cm__lte=230),
                name="demographics_height_range",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_kg__gte=25, weight_kg__lte=250),
                name="demographics_weight_range",
            ),
        ]

    # Check constraints that only repeat the field validators: all of them, so the services
    # call full_clean with validate_constraints=False (the validators give the field error).
    checks_repeating_validators = frozenset(
        {"demographics_height_range", "demographics_weight_range"}
    )

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.sex}, {self.date_of_birth}"

    # Locked data changes through no path: every write reaches the model, so the model asks
    # trials.locking (review keeps the locks and clears verifications of changed values).
    def save(self, *args: Any, **kwargs: Any) -> None:
        locking.check_writable(self, update_fields=kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        locking.written(self, update_fields=kwargs.get("update_fields"))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        locking.check_writable(self, deleting=True)
        return super().delete(*args, **kwargs)

    def age_on(self, day) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


@pghistory.track()
class AlsHistory(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="als_history"
    )
    onset_date = models.DateField(
        _("symptom onset"), help_text=_("The first day of the period when only known in part.")
    )
    onset_precision = models.CharField(
        _("onset precision"), max_length=5, choices=DatePrecision.choices
    )
    onset_region = models.CharField(_("onset region"), max_length=20, choices=OnsetRegion.choices)
    diagnosis_date = models.DateField(_("diagnosis date"))
    el_escorial = models.CharField(
        _("El Escorial category"), max_length=20, choices=ElEscorial.choices
    )
    family_history = models.CharField(
        _("family history of ALS"), max_length=10, choices=YesNoUnknown.choices
    )
    riluzole = models.BooleanField(_("takes riluzole"), default=False)
    edaravone = models.BooleanField(_("takes edaravone"), default=False)
    # As Demographics.version.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # Bulk writes (QuerySet.update/delete, bulk_update, bulk_create) ask the locks too.
    objects = locking.GuardedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ALS history")
        verbose_name_plural = _("ALS histories")

    def __str__(self) -> str:
        return f"{self.participant_id}: onset {self.onset_display}"

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
    def onset_display(self) -> str:
        return partial_dates.format_partial_date(self.onset_date, self.onset_precision)

    def clean(self) -> None:
        if self.onset_date and self.onset_precision:
            if not partial_dates.is_normalised(self.onset_date, self.onset_precision):
                raise ValidationError(
                    {"onset_date": _("A partial date is stored as the first day of its period.")}
                )
            if self.diagnosis_date and self.diagnosis_date < self.onset_date:
                raise ValidationError(
                    {"diagnosis_date": _("The diagnosis cannot precede symptom onset.")}
                )
