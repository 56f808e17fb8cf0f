"""The vital signs form record; the scoring lives in scoring.py, the entry form in forms.py."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pghistory
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord, in_progress_index
from crfs.vitals.scoring import (
    PLAUSIBLE,
    BmiCategory,
    bmi,
    bmi_decimal,
    plausibility_errors,
    weight_change_percent,
)
from trials.protocols.definitions import VisitKind


def _range_check(name: str) -> models.CheckConstraint:
    bounds = PLAUSIBLE[name]
    return models.CheckConstraint(
        condition=models.Q(**{f"{name}__isnull": True})
        | models.Q(**{f"{name}__gte": bounds.low, f"{name}__lte": bounds.high}),
        name=f"vitals_{name}_plausible",
    )


class HeightSource(models.TextChoices):
    MEASURED = "measured", _("Measured at this visit")
    DEMOGRAPHICS = "demographics", _("From the demographics")


# Height is measured before treatment; later an ALS patient may no longer stand for it.
HEIGHT_REQUIRED_AT = (VisitKind.SCREENING, VisitKind.BASELINE)


@pghistory.track()
class Vitals(FormRecord):
    """Vital signs and weight at one visit; BMI and weight change from baseline stored."""

    form_code = "vitals"
    derived_from_context = True
    required_answers = (
        "weight_kg",
        "height_cm",
        "systolic_bp",
        "diastolic_bp",
        "heart_rate",
        "respiratory_rate",
        "temperature_c",
        "spo2_percent",
    )

    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_(
            "Required at screening and baseline. Optional later: when empty, BMI uses the "
            "height in the demographics."
        ),
    )
    systolic_bp = models.PositiveSmallIntegerField(
        _("systolic blood pressure (mmHg)"), null=True, blank=True
    )
    diastolic_bp = models.PositiveSmallIntegerField(
        _("diastolic blood pressure (mmHg)"), null=True, blank=True
    )
    heart_rate = models.PositiveSmallIntegerField(_("heart rate (/min)"), null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        _("respiratory rate (/min)"), null=True, blank=True
    )
    temperature_c = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    spo2_percent = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True)

    bmi = models.DecimalField(
        _("BMI (kg/m²)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    bmi_category = models.CharField(
        _("BMI category (WHO)"),
        max_length=12,
        blank=True,
        choices=[(c.value, c.value) for c in BmiCategory],
    )
    height_cm_used = models.DecimalField(
        _("height used for BMI (cm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    height_source = models.CharField(
        _("height source"), max_length=12, blank=True, choices=HeightSource.choices
    )
    baseline_weight_kg = models.DecimalField(
        _("baseline weight (kg)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    weight_change_percent = models.FloatField(
        _("weight change from baseline (%)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("vital signs and weight")
        verbose_name_plural = _("vital signs and weight")
        indexes = [in_progress_index("vitals")]
        constraints = [
            *(_range_check(name) for name in PLAUSIBLE),
            models.CheckConstraint(
                condition=models.Q(systolic_bp__isnull=True)
                | models.Q(diastolic_bp__isnull=True)
                | models.Q(diastolic_bp__lt=models.F("systolic_bp")),
                name="vitals_diastolic_below_systolic",
            ),
        ]

    def _kind(self) -> str | None:
        definition = self.visit.definition
        return definition.kind if definition else None

    def unanswered(self) -> list[str]:
        missing = super().unanswered()
        if self._kind() not in HEIGHT_REQUIRED_AT:
            missing = [name for name in missing if name != "height_cm"]  # optional at follow-up
        return missing

    def _demographics_height(self) -> Decimal | None:
        try:
            return self.visit.participant.demographics.height_cm
        except ObjectDoesNotExist:
            return None

    def _baseline_codes(self) -> list[str]:
        protocol = self.visit.participant.trial.protocol
        return [v.code for v in protocol.visits if v.kind == VisitKind.BASELINE]

    def _baseline_weight(self) -> Decimal | None:
        """The weight recorded at the baseline visit, for visits after it."""
        protocol = self.visit.participant.trial.protocol
        baseline_codes = self._baseline_codes()
        if not baseline_codes or self.visit.code in baseline_codes:
            return None
        if self.visit.position <= min(protocol.order_of(code) for code in baseline_codes):
            return None  # screening comes before the baseline
        return (
            Vitals.objects.filter(
                visit__participant_id=self.visit.participant_id,
                visit__code__in=baseline_codes,
                weight_kg__isnull=False,
            )
            .values_list("weight_kg", flat=True)
            .first()
        )

    def dependent_records(self) -> list[FormRecord]:
        """At a baseline visit: the vital signs of the later visits (their weight change)."""
        if self.visit.code not in self._baseline_codes():
            return []
        later: list[FormRecord] = list(
            Vitals.objects.filter(
                visit__participant_id=self.visit.participant_id,
                visit__position__gt=self.visit.position,
            ).select_related("visit")
        )
        for record in later:
            record.visit.participant = self.visit.participant
        return later

    def compute_derived(self) -> None:
        self.bmi = self.height_cm_used = self.baseline_weight_kg = None
        self.weight_change_percent = None
        self.bmi_category = self.height_source = ""
        errors = plausibility_errors(self.answers())
        if errors:
            raise ValidationError(errors)
        if self.weight_kg is None:
            return
        height, source = self.height_cm, HeightSource.MEASURED
        if height is None:
            height, source = self._demographics_height(), HeightSource.DEMOGRAPHICS
        if height is not None:
            result = bmi(self.weight_kg, height)
            self.bmi = bmi_decimal(self.weight_kg, height).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            self.bmi_category = result.category.value
            self.height_cm_used, self.height_source = height, source
        baseline = self._baseline_weight()
        if baseline is not None:
            self.baseline_weight_kg = baseline
            self.weight_change_percent = round(
                weight_change_percent(float(self.weight_kg), float(baseline)), 2
            )

    def derived_values(self) -> list[tuple[str, object]]:
        label = self.field_label

        height = (
            f"{self.height_cm_used} ({self.get_height_source_display()})"
            if self.height_cm_used is not None
            else None
        )
        change = (
            f"{self.weight_change_percent:+.1f}" if self.weight_change_percent is not None else None
        )
        return [
            (label("bmi"), self.bmi),
            (label("bmi_category"), self.bmi_category or None),
            (label("height_cm_used"), height),
            (label("baseline_weight_kg"), self.baseline_weight_kg),
            (label("weight_change_percent"), change),
        ]
