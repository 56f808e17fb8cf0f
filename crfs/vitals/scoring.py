"""Vital signs and anthropometry: BMI and weight change from baseline.

Sources
-------
- World Health Organization. Obesity: preventing and managing the global epidemic.
  WHO Technical Report Series 894. Geneva: WHO; 2000 (BMI = weight / height^2,
  kg/m^2, and its adult categories).
- Weight change is reported as a percentage of the baseline weight, as in ALS
  nutritional studies (e.g. Marin B, et al. Alteration of nutritional status at
  diagnosis is a prognostic factor for survival of amyotrophic lateral sclerosis
  patients. J Neurol Neurosurg Psychiatry. 2011;82(6):628-634).

Rules as implemented
--------------------
- Weight must be 20-250 kg and height 100-230 cm (the FVC form uses the same
  height bounds); anything else is refused with the reason.
- BMI = weight (kg) / (height (m))^2, computed in decimal arithmetic so a category
  boundary (25.0 exactly) is not missed by binary rounding; values are returned
  unrounded, the model stores them rounded half up to 0.1.
- Weight change % = (current - baseline) / baseline x 100; negative = loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

WEIGHT_RANGE_KG = (20.0, 250.0)
HEIGHT_RANGE_CM = (100.0, 230.0)


class BmiCategory(StrEnum):
    """WHO adult categories."""

    UNDERWEIGHT = "underweight"  # < 18.5
    NORMAL = "normal"  # 18.5-24.9
    OVERWEIGHT = "overweight"  # 25-29.9
    OBESE = "obese"  # >= 30


def _check(value: float | Decimal, bounds: tuple[float, float], what: str, unit: str) -> float:
    value = float(value)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{what} {value:g} {unit} is outside {bounds[0]:g}-{bounds[1]:g} {unit}")
    return value


@dataclass(frozen=True)
class Bmi:
    value: float  # kg/m^2
    category: BmiCategory


def bmi_decimal(weight_kg: float | Decimal, height_cm: float | Decimal) -> Decimal:
    """weight / height^2 in decimal arithmetic, so 64 kg at 160 cm is exactly 25 (in binary
    floating point 1.6^2 is 2.5600000000000005 and the quotient falls just below 25)."""
    weight = _check(weight_kg, WEIGHT_RANGE_KG, "weight", "kg")
    height = _check(height_cm, HEIGHT_RANGE_CM, "height", "cm")
    return Decimal(repr(weight)) / (Decimal(repr(height)) / 100) ** 2


def bmi(weight_kg: float | Decimal, height_cm: float | Decimal) -> Bmi:
    exact = bmi_decimal(weight_kg, height_cm)
    value = float(exact)
    if exact < Decimal("18.5"):
        category = BmiCategory.UNDERWEIGHT
    elif exact < 25:
        category = BmiCategory.NORMAL
    elif exact < 30:
        category = BmiCategory.OVERWEIGHT
    else:
        category = BmiCategory.OBESE
    return Bmi(value=value, category=category)


def weight_change_percent(current_kg: float, baseline_kg: float) -> float:
    """(current - baseline) / baseline x 100; negative means weight lost."""
    current = _check(current_kg, WEIGHT_RANGE_KG, "weight", "kg")
    baseline = _check(baseline_kg, WEIGHT_RANGE_KG, "baseline weight", "kg")
    return (current - baseline) / baseline * 100


# --- Plausibility of the vital signs ---------------------------------------------
# Bounds outside which a value is refused as a typing error rather than stored; they are
# wide on purpose (an ALS patient with respiratory failure may well have SpO2 80 %).


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str
    label: str


PLAUSIBLE: dict[str, Range] = {
    "weight_kg": Range(*WEIGHT_RANGE_KG, "kg", "Weight"),
    "height_cm": Range(*HEIGHT_RANGE_CM, "cm", "Height"),
    "systolic_bp": Range(60, 260, "mmHg", "Systolic blood pressure"),
    "diastolic_bp": Range(30, 160, "mmHg", "Diastolic blood pressure"),
    "heart_rate": Range(30, 220, "/min", "Heart rate"),
    "respiratory_rate": Range(6, 60, "/min", "Respiratory rate"),
    "temperature_c": Range(34.0, 42.0, "°C", "Temperature"),
    "spo2_percent": Range(50, 100, "%", "SpO2"),
}


def plausibility_errors(values: dict[str, object]) -> dict[str, str]:
    """{field: reason} for values outside their plausible range (None = not answered),
    and a diastolic pressure that is not below the systolic."""
    errors: dict[str, str] = {}
    for name, bounds in PLAUSIBLE.items():
        value = values.get(name)
        if value is None:
            continue
        number = float(value)  # type: ignore[arg-type]  # an answer: a number once not None
        if not bounds.low <= number <= bounds.high:
            errors[name] = (
                f"{bounds.label} {value} {bounds.unit} is outside the plausible range "
                f"{bounds.low:g}-{bounds.high:g} {bounds.unit}"
            )
    systolic, diastolic = values.get("systolic_bp"), values.get("diastolic_bp")
    if (
        systolic is not None
        and diastolic is not None
        and "systolic_bp" not in errors
        and "diastolic_bp" not in errors
        and float(diastolic) >= float(systolic)  # type: ignore[arg-type]  # numbers, as above
    ):
        errors["diastolic_bp"] = (
            f"Diastolic pressure {diastolic} mmHg must be below the systolic ({systolic} mmHg)"
        )
    return errors
