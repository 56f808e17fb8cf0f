"""Forced (or slow) vital capacity: manoeuvres, best value, repeatability, % predicted.

Sources
-------
- Graham BL, Steenbruggen I, Miller MR, et al. Standardization of spirometry 2019
  update: an official ATS/ERS technical statement. Am J Respir Crit Care Med.
  2019;200(8):e70-e88 (>= 3 acceptable manoeuvres; FVC repeatable when the two
  largest acceptable values differ by <= 0.150 L in adults; report the largest).
- Quanjer PH, Stanojevic S, Cole TJ, et al. Multi-ethnic reference values for
  spirometry for the 3-95-yr age range: the global lung function 2012 equations.
  Eur Respir J. 2012;40(6):1324-1343 (GLI-2012).
- Bowerman C, Bhakta NR, Brazzale D, et al. A race-neutral approach to the
  interpretation of lung function measurements. Am J Respir Crit Care Med.
  2023;207(6):768-774 (GLI Global, published as the "GLI Global 2022" equations).
- Loeloe MS, Sefidkar R, Tabatabaei SM, Mehrparvar AH, Jambarsang S. Machine
  learning-based spirometry reference values for the Iranian population: the
  Shahedieh PERSIAN cohort. Front Med. 2025;12:1480931 (Iranian equation).

Predicted values come from the ``pyspiro`` package (never hand-typed tables); it is
imported lazily because its import takes about 1.5 s. pyspiro returns NA outside an
equation's range (GLI 3-95 years; PERSIAN 38-69 years and 142-189 cm), reported here
as ``None`` values with ``in_equation_range=False``. For a slow vital capacity the
FVC equation is used as well (the usual practice in ALS trials); the result carries
the measure ("FVC" or "SVC") so this is never hidden.

Volumes are handled as ``Decimal`` to 0.01 L so the 0.150 L repeatability limit is
compared exactly (3.50 - 3.35 is 0.15, not 0.15000000000000036).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import metadata
from typing import Any

MAX_MANOEUVRES = 8
MIN_ACCEPTABLE = 3
REPEATABILITY_L = Decimal("0.150")
MIN_VOLUME_L = Decimal("0.20")
MAX_VOLUME_L = Decimal("8.00")
HEIGHT_RANGE_CM = (100.0, 230.0)
AGE_RANGE_YEARS = (5.0, 100.0)
_CENTILITRE = Decimal("0.01")


class Measure(StrEnum):
    FVC = "FVC"
    SVC = "SVC"  # slow vital capacity recorded instead of forced


class Position(StrEnum):
    SITTING = "sitting"
    SUPINE = "supine"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Ethnicity(StrEnum):
    """GLI-2012 groups; the race-neutral equations ignore it.

    GLI-2012 counts Middle Eastern and North African populations (Iran included)
    in its Caucasian group.
    """

    CAUCASIAN = "caucasian"
    AFRICAN_AMERICAN = "african_american"
    NORTH_EAST_ASIAN = "north_east_asian"
    SOUTH_EAST_ASIAN = "south_east_asian"
    OTHER = "other"  # other / mixed


class Equation(StrEnum):
    """The stored equation name is the enum value."""

    GLI_GLOBAL_2022 = "GLI Global 2022"
    GLI_2012 = "GLI-2012"
    PERSIAN_2025 = "PERSIAN cohort (Loeloe 2025)"


DEFAULT_EQUATION = Equation.GLI_GLOBAL_2022

_PYSPIRO_SEX = {Sex.FEMALE: 0, Sex.MALE: 1}
_PYSPIRO_ETHNICITY = {
    Ethnicity.CAUCASIAN: 1,
    Ethnicity.AFRICAN_AMERICAN: 2,
    Ethnicity.NORTH_EAST_ASIAN: 3,
    Ethnicity.SOUTH_EAST_ASIAN: 4,
    Ethnicity.OTHER: 5,
}


class FvcError(ValueError):
    """Implausible or malformed input; ``reasons`` lists every problem found."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


def _litres(value: Decimal | float | int | str) -> Decimal:
    try:
        litres = Decimal(str(value))
    except InvalidOperation:
        raise FvcError([f"{value!r} is not a number"]) from None
    if not litres.is_finite():
        raise FvcError([f"{value!r} is not a finite number"])
    return litres


def _beyond_centilitre(value: Decimal) -> bool:
    """Whether a finite value has a non-zero digit after the second decimal.

    Read from the digits, not with ``quantize``: quantizing a value of more than 28
    significant digits (1e308, a 29-digit number) raises InvalidOperation.
    """
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    beyond = -exponent - 2
    return beyond > 0 and any(digits[-beyond:])


def volume_problems(value: Decimal) -> list[str]:
    """Why a recorded volume is refused (empty when plausible)."""
    problems = []
    if not value.is_finite():
        return [f"{value} is not a finite number"]
    if _beyond_centilitre(value):
        problems.append(f"{value} L has more than two decimals (record to 0.01 L)")
    if value < MIN_VOLUME_L:
        problems.append(f"{value} L is below {MIN_VOLUME_L} L, not a plausible vital capacity")
    if value > MAX_VOLUME_L:
        problems.append(f"{value} L is above {MAX_VOLUME_L} L, not a plausible vital capacity")
    return problems


@dataclass(frozen=True)
class Manoeuvre:
    """One blow; ``litres`` may be given as a str, int or float and is kept as Decimal."""

    litres: Decimal
    acceptable: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "litres", _litres(self.litres))
        problems = volume_problems(self.litres)
        if problems:
            raise FvcError(problems)


@dataclass(frozen=True)
class Session:
    """Summary of one test's manoeuvres."""

    measure: Measure
    position: Position | None
    n_manoeuvres: int
    n_acceptable: int
    best_l: Decimal | None  # highest acceptable; None if none acceptable
    second_l: Decimal | None  # second-highest acceptable
    repeatable: bool  # two largest acceptable within 0.150 L
    enough_acceptable: bool  # >= 3 acceptable

    @property
    def difference_l(self) -> Decimal | None:
        if self.best_l is None or self.second_l is None:
            return None
        return self.best_l - self.second_l


def summarize(
    manoeuvres: Sequence[Manoeuvre],
    *,
    measure: Measure = Measure.FVC,
    position: Position | None = None,
) -> Session:
    """Best (highest acceptable) value and repeatability of up to 8 manoeuvres."""
    if not manoeuvres:
        raise FvcError(["record at least one manoeuvre"])
    if len(manoeuvres) > MAX_MANOEUVRES:
        raise FvcError([f"at most {MAX_MANOEUVRES} manoeuvres, got {len(manoeuvres)}"])
    acceptable = sorted((m.litres for m in manoeuvres if m.acceptable), reverse=True)
    best = acceptable[0] if acceptable else None
    second = acceptable[1] if len(acceptable) > 1 else None
    repeatable = best is not None and second is not None and best - second <= REPEATABILITY_L
    return Session(
        measure=Measure(measure),
        position=Position(position) if position is not None else None,
        n_manoeuvres=len(manoeuvres),
        n_acceptable=len(acceptable),
        best_l=best,
        second_l=second,
        repeatable=repeatable,
        enough_acceptable=len(acceptable) >= MIN_ACCEPTABLE,
    )


# --- % predicted ---------------------------------------------------------------


def age_at(birth_date: date, test_date: date) -> float:
    """Decimal age in years (days / 365.25), as the GLI equations expect."""
    return (test_date - birth_date).days / 365.25


@dataclass(frozen=True)
class Predicted:
    equation: str  # an ``Equation`` value, stored with the result
    software: str  # e.g. "pyspiro 1.0.0"
    measure: Measure
    litres: Decimal
    predicted_l: float | None
    percent_predicted: float | None
    zscore: float | None
    lln_l: float | None
    in_equation_range: bool

    @property
    def below_lln(self) -> bool | None:
        if self.lln_l is None:
            return None
        return float(self.litres) < self.lln_l


def _subject_problems(age_years: float, height_cm: float) -> list[str]:
    problems = []
    if not AGE_RANGE_YEARS[0] <= age_years <= AGE_RANGE_YEARS[1]:
        problems.append(
            f"age {age_years:g} years is outside {AGE_RANGE_YEARS[0]:g}-{AGE_RANGE_YEARS[1]:g}"
        )
    if not HEIGHT_RANGE_CM[0] <= height_cm <= HEIGHT_RANGE_CM[1]:
        problems.append(
            f"height {height_cm:g} cm is outside {HEIGHT_RANGE_CM[0]:g}-{HEIGHT_RANGE_CM[1]:g} cm"
        )
    return problems


def _number(value: Any) -> float | None:
    """pyspiro's NA (or NaN) -> None, numpy scalars -> float."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


@functools.cache
def _software() -> str:
    """The equations' software and version, stored with each result (read once: reading
    the installed package's metadata parses its METADATA file)."""
    return f"pyspiro {metadata.version('pyspiro')}"


@functools.cache
def _reference(equation: Equation) -> Any:
    """One pyspiro equation object per equation (loading its tables reads CSV files)."""
    import pyspiro  # lazy: the import takes ~1.5 s

    with warnings.catch_warnings():
        # pyspiro 1.0.0 calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1.
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        if equation is Equation.GLI_2012:
            return pyspiro.GLI_2012()
        if equation is Equation.GLI_GLOBAL_2022:
            return pyspiro.BOWERMAN_2022()
        return pyspiro.LOELOE_2025()


def _pyspiro_metrics(
    equation: Equation, sex: int, age: float, height: float, ethnicity: int | None, litres: float
) -> tuple[Any, Any, Any, Any]:
    """(predicted, percent, zscore, lln) from pyspiro, each possibly NA.

    For the LMS equations (GLI-2012, GLI Global) one look-up of L, M, S by pyspiro's lms(),
    then the metrics as pyspiro's LMSReference.all() computes them from those three
    (`_lms_metrics`): all() and lms() each repeat the spline look-up, which is most of the
    time of an FVC save. The PERSIAN equation is not LMS: its all() gives the metrics.
    """
    import pyspiro

    if equation is Equation.GLI_2012:
        p = pyspiro.GLI_2012.Parameters.FVC
        lam, mu, sigma = _reference(equation).lms(sex, age, height, ethnicity, p, litres)
        return _lms_metrics(lam, mu, sigma, litres)
    if equation is Equation.GLI_GLOBAL_2022:
        p = pyspiro.BOWERMAN_2022.Parameters.FVC
        lam, mu, sigma = _reference(equation).lms(sex, age, height, p, litres)
        return _lms_metrics(lam, mu, sigma, litres)
    persian = _reference(equation)
    p = pyspiro.LOELOE_2025.Parameters.FVC
    percent, zscore, lln, uln = persian.all(sex, age, height, p, litres)
    # The look-up gives predicted and LLN; pyspiro's ULN is 2 x predicted - LLN.
    lln_l, uln_l = _number(lln), _number(uln)
    predicted = (lln_l + uln_l) / 2 if lln_l is not None and uln_l is not None else None
    return predicted, percent, zscore, lln


def load_equation(equation: Equation) -> None:
    """Load an equation now (in a process about to fork workers that will predict with it)."""
    _reference(Equation(equation))


def _lms_metrics(lam: Any, mu: Any, sigma: Any, value: float) -> tuple[Any, Any, Any, Any]:
    """(M, percent, z-score, LLN) from L, M, S: the expressions of pyspiro 1.0's
    LMSReference.all() (GLI: z = ((x/M)^L - 1) / (L*S); LLN at z = -1.645), kept equal to it
    by a test over random subjects."""
    import numpy
    import pandas

    if lam is pandas.NA or mu is pandas.NA or sigma is pandas.NA:
        return pandas.NA, pandas.NA, pandas.NA, pandas.NA
    return (
        mu,
        round((value / mu) * 100, 2),
        (((value / mu) ** lam) - 1) / (lam * sigma),
        numpy.exp(numpy.log(1 - 1.645 * lam * sigma) / lam + numpy.log(mu)),
    )


def predict(
    litres: Decimal | float | str,
    *,
    sex: Sex | str,
    age_years: float,
    height_cm: float,
    equation: Equation | str = DEFAULT_EQUATION,
    ethnicity: Ethnicity | str | None = None,
    measure: Measure = Measure.FVC,
) -> Predicted:
    """% predicted, z-score and LLN of a vital capacity by the chosen equation.

    Refuses (FvcError, with every reason) an implausible volume, height or age, an
    unknown sex or equation, and GLI-2012 without an ethnicity.
    """
    problems: list[str] = []
    volume = _litres(litres)
    problems += volume_problems(volume)
    problems += _subject_problems(float(age_years), float(height_cm))
    try:
        sex_code = _PYSPIRO_SEX[Sex(sex)]
    except ValueError:
        problems.append(f"unknown sex {sex!r} (male or female)")
        sex_code = -1
    try:
        eq = Equation(equation)
    except ValueError:
        problems.append(f"unknown equation {equation!r}")
        eq = DEFAULT_EQUATION
    ethnicity_code: int | None = None
    if eq is Equation.GLI_2012:
        if ethnicity is None:
            problems.append("GLI-2012 needs an ethnicity group")
        else:
            try:
                ethnicity_code = _PYSPIRO_ETHNICITY[Ethnicity(ethnicity)]
            except ValueError:
                problems.append(f"unknown ethnicity {ethnicity!r}")
    if problems:
        raise FvcError(problems)

    predicted, percent, zscore, lln = _pyspiro_metrics(
        eq, sex_code, float(age_years), float(height_cm), ethnicity_code, float(volume)
    )
    values = (_number(predicted), _number(percent), _number(zscore), _number(lln))
    return Predicted(
        equation=eq.value,
        software=_software(),
        measure=Measure(measure),
        litres=volume,
        predicted_l=values[0],
        percent_predicted=values[1],
        zscore=values[2],
        lln_l=values[3],
        in_equation_range=all(v is not None for v in values),
    )
