"""BMI and weight change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crfs.vitals import scoring as vitals
from crfs.vitals.scoring import BmiCategory


def test_bmi_worked_example():
    # 70 kg, 175 cm: 70 / 1.75^2 = 70 / 3.0625 = 22.857
    result = vitals.bmi(70, 175)
    assert result.value == pytest.approx(22.857, abs=1e-3)
    assert result.category is BmiCategory.NORMAL


@pytest.mark.parametrize(
    ("weight", "category"),
    [
        (56.6, BmiCategory.UNDERWEIGHT),  # 18.48
        (56.7, BmiCategory.NORMAL),  # 18.51
        (76.5, BmiCategory.NORMAL),  # 76.5 / 3.0625 = 24.98
        (76.5625, BmiCategory.OVERWEIGHT),  # 25 x 3.0625 = 76.5625: exactly 25.0
        (91.875, BmiCategory.OBESE),  # 30 x 3.0625: exactly 30.0
    ],
)
def test_bmi_categories_at_175_cm(weight, category):
    assert vitals.bmi(weight, 175).category is category


def test_bmi_boundary_is_exact_despite_binary_floating_point():
    # 64 / 1.6^2 is exactly 25 (overweight); in floats 1.6 ** 2 == 2.5600000000000005.
    assert vitals.bmi(64, 160).category is BmiCategory.OVERWEIGHT
    assert vitals.bmi(64, 160).value == 25


@pytest.mark.parametrize(("weight", "height"), [(19.9, 170), (251, 170), (70, 99), (70, 231)])
def test_implausible_values_refused(weight, height):
    with pytest.raises(ValueError, match="outside"):
        vitals.bmi(weight, height)


def test_weight_change_worked_examples():
    # 80 -> 72 kg: (72 - 80) / 80 x 100 = -10 %
    assert vitals.weight_change_percent(72, 80) == pytest.approx(-10)
    # 60 -> 63 kg: +5 %
    assert vitals.weight_change_percent(63, 60) == pytest.approx(5)
    assert vitals.weight_change_percent(60, 60) == 0


def test_weight_change_refuses_implausible_baseline():
    with pytest.raises(ValueError, match="baseline weight"):
        vitals.weight_change_percent(60, 0)


@given(st.floats(20, 250), st.floats(100, 230))
def test_bmi_matches_formula(weight: float, height: float):
    assert vitals.bmi(weight, height).value == pytest.approx(weight / (height / 100) ** 2)
