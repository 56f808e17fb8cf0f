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
- BMI = weight (kg) / (height (m))^2; values are returned unrounded, the model
  rounds when it stores them.
- Weight change % = (current - baseline) / baseline x 100; negative = loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

WEIGHT_RANGE_KG = (20.0, 250.0)
HEIGHT_RANGE_CM = (100.0, 230.0)


class BmiCategory(StrEnum):
    """WHO adult categories."""

    UNDERWEIGHT = "underweight"  # < 18.5
    NORMAL = "normal"  # 18.5-24.9
    OVERWEIGHT = "overweight"  # 25-29.9
    OBESE = "obese"  # >= 30


def _check(value: float, bounds: tuple[float, float], what: str, unit: str) -> float:
    value = float(value)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{what} {value:g} {unit} is outside {bounds[0]:g}-{bounds[1]:g} {unit}")
    return value


@dataclass(frozen=True)
class Bmi:
    value: float  # kg/m^2
    category: BmiCategory


def bmi(weight_kg: float, height_cm: float) -> Bmi:
    weight = _check(weight_kg, WEIGHT_RANGE_KG, "weight", "kg")
    height_m = _check(height_cm, HEIGHT_RANGE_CM, "height", "cm") / 100
    value = weight / height_m**2
    if value < 18.5:
        category = BmiCategory.UNDERWEIGHT
    elif value < 25:
        category = BmiCategory.NORMAL
    elif value < 30:
        category = BmiCategory.OVERWEIGHT
    else:
        category = BmiCategory.OBESE
    return Bmi(value=value, category=category)


def weight_change_percent(current_kg: float, baseline_kg: float) -> float:
    """(current - baseline) / baseline x 100; negative means weight lost."""
    current = _check(current_kg, WEIGHT_RANGE_KG, "weight", "kg")
    baseline = _check(baseline_kg, WEIGHT_RANGE_KG, "baseline weight", "kg")
    return (current - baseline) / baseline * 100
