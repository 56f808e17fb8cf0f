"""FVC: manoeuvres, best value, repeatability, plausibility, % predicted via pyspiro."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crfs.fvc import scoring as fvc
from crfs.fvc.scoring import Equation, FvcError, Manoeuvre, Measure, Position


def blows(*litres: float | str, unacceptable: tuple[int, ...] = ()) -> list[Manoeuvre]:
    return [Manoeuvre(v, acceptable=i not in unacceptable) for i, v in enumerate(litres)]


# --- manoeuvres ----------------------------------------------------------------


def test_best_is_highest_acceptable():
    # 4.10 is the largest blow but marked unacceptable; best acceptable is 3.92.
    session = fvc.summarize(blows(3.80, 4.10, 3.92, 3.85, unacceptable=(1,)))
    assert session.best_l == Decimal("3.92")
    assert session.second_l == Decimal("3.85")
    assert session.difference_l == Decimal("0.07")
    assert session.n_manoeuvres == 4
    assert session.n_acceptable == 3
    assert session.enough_acceptable is True
    assert session.repeatable is True


def test_repeatable_at_exactly_0_150_l():
    # 3.50 - 3.35 = 0.150 L exactly: repeatable (in binary floats it would be 0.15000000000000036).
    assert fvc.summarize(blows(3.50, 3.35, 3.20)).repeatable is True
    assert fvc.summarize(blows("3.50", "3.35")).difference_l == Decimal("0.15")


def test_not_repeatable_at_0_160_l():
    session = fvc.summarize(blows(3.50, 3.34, 3.20))
    assert session.difference_l == Decimal("0.16")
    assert session.repeatable is False


def test_only_acceptable_blows_count_for_repeatability():
    # The two largest acceptable are 3.50 and 3.20 (0.30 apart); 3.45 was not acceptable.
    assert fvc.summarize(blows(3.50, 3.45, 3.20, unacceptable=(1,))).repeatable is False


def test_fewer_than_two_acceptable_is_not_repeatable():
    session = fvc.summarize(blows(3.0, 2.9, unacceptable=(1,)))
    assert (session.best_l, session.second_l, session.repeatable) == (Decimal("3.0"), None, False)
    none_ok = fvc.summarize(blows(3.0, unacceptable=(0,)))
    assert (none_ok.best_l, none_ok.repeatable, none_ok.enough_acceptable) == (None, False, False)


def test_svc_and_position_are_carried():
    session = fvc.summarize(blows(2.1, 2.0, 2.05), measure=Measure.SVC, position=Position.SUPINE)
    assert (session.measure, session.position) == (Measure.SVC, Position.SUPINE)


def test_manoeuvre_count_limits():
    with pytest.raises(FvcError):
        fvc.summarize([])
    fvc.summarize(blows(*[3.0] * 8))
    with pytest.raises(FvcError, match="at most 8"):
        fvc.summarize(blows(*[3.0] * 9))


@pytest.mark.parametrize(
    ("litres", "reason"),
    [
        ("0.19", "below 0.20"),
        (0.1, "below 0.20"),
        ("8.01", "above 8.00"),
        (12, "above 8.00"),
        ("3.456", "two decimals"),
        ("abc", "not a number"),
        ("nan", "finite"),
    ],
)
def test_implausible_volumes_refused_with_reason(litres, reason):
    with pytest.raises(FvcError, match=reason):
        Manoeuvre(litres)


def test_bounds_themselves_are_plausible():
    assert Manoeuvre("0.20").litres == Decimal("0.20")
    assert Manoeuvre(8).litres == Decimal("8")


@given(st.lists(st.integers(20, 800), min_size=1, max_size=8), st.data())
def test_best_is_max_of_acceptable(centilitres: list[int], data: st.DataObject):
    flags = data.draw(st.lists(st.booleans(), min_size=len(centilitres), max_size=len(centilitres)))
    manoeuvres = [
        Manoeuvre(Decimal(c) / 100, acceptable=ok) for c, ok in zip(centilitres, flags, strict=True)
    ]
    session = fvc.summarize(manoeuvres)
    ok = sorted(
        (Decimal(c) / 100 for c, f in zip(centilitres, flags, strict=True) if f), reverse=True
    )
    assert session.best_l == (ok[0] if ok else None)
    assert session.repeatable == (len(ok) >= 2 and ok[0] - ok[1] <= Decimal("0.150"))


# --- % predicted ---------------------------------------------------------------


def test_gli_global_known_case_matches_pyspiro_and_is_sane():
    from pyspiro import BOWERMAN_2022

    result = fvc.predict("4.50", sex="male", age_years=50, height_cm=175)
    assert result.equation == "GLI Global 2022"
    assert result.software.startswith("pyspiro ")
    p = BOWERMAN_2022.Parameters.FVC
    reference = BOWERMAN_2022()
    assert result.percent_predicted == pytest.approx(float(reference.percent(1, 50, 175, p, 4.5)))
    assert result.zscore == pytest.approx(float(reference.zscore(1, 50, 175, p, 4.5)))
    assert result.lln_l == pytest.approx(float(reference.lln(1, 50, 175, p, 4.5)))
    assert 90 <= result.percent_predicted <= 110
    # % predicted is measured / predicted x 100.
    assert result.percent_predicted == pytest.approx(4.5 / result.predicted_l * 100, abs=0.01)
    assert -1 < result.zscore < 1
    assert result.below_lln is False
    assert result.in_equation_range is True


def test_gli_2012_known_case_matches_pyspiro():
    from pyspiro import GLI_2012

    result = fvc.predict(
        4.5, sex="male", age_years=50, height_cm=175, equation="GLI-2012", ethnicity="caucasian"
    )
    reference = GLI_2012().percent(1, 50, 175, 1, GLI_2012.Parameters.FVC, 4.5)
    assert result.equation == "GLI-2012"
    assert result.percent_predicted == pytest.approx(float(reference))
    assert 85 <= result.percent_predicted <= 110


@given(
    sex=st.sampled_from(["male", "female"]),
    age=st.floats(min_value=18, max_value=90),
    height=st.floats(min_value=140, max_value=200),
    litres=st.decimals(min_value="0.50", max_value="7.50", places=2),
    equation=st.sampled_from([Equation.GLI_GLOBAL_2022, Equation.GLI_2012]),
)
def test_one_lms_look_up_gives_exactly_what_pyspiro_all_gives(sex, age, height, litres, equation):
    """predict() looks L, M, S up once; its metrics are pyspiro's own, to the last bit."""
    import pyspiro

    code = 1 if sex == "male" else 0
    if equation is Equation.GLI_2012:
        reference, extra = pyspiro.GLI_2012(), (1,)
        p = pyspiro.GLI_2012.Parameters.FVC
    else:
        reference, extra = pyspiro.BOWERMAN_2022(), ()
        p = pyspiro.BOWERMAN_2022.Parameters.FVC
    args = (code, age, height, *extra, p, float(litres))
    percent, zscore, lln, _uln = reference.all(*args)
    result = fvc.predict(
        litres, sex=sex, age_years=age, height_cm=height, equation=equation, ethnicity="caucasian"
    )
    assert result.predicted_l == float(reference.lms(*args)[1])
    assert (result.percent_predicted, result.zscore, result.lln_l) == (
        float(percent),
        float(zscore),
        float(lln),
    )


def test_gli_2012_ethnicity_is_mapped():
    from pyspiro import GLI_2012

    result = fvc.predict(
        3.0,
        sex="female",
        age_years=40,
        height_cm=160,
        equation=Equation.GLI_2012,
        ethnicity=fvc.Ethnicity.NORTH_EAST_ASIAN,
    )
    reference = GLI_2012().percent(0, 40, 160, 3, GLI_2012.Parameters.FVC, 3.0)
    assert result.percent_predicted == pytest.approx(float(reference))


def test_gli_2012_requires_ethnicity():
    with pytest.raises(FvcError, match="ethnicity"):
        fvc.predict(4.5, sex="male", age_years=50, height_cm=175, equation=Equation.GLI_2012)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_persian_equation_known_case_matches_pyspiro():
    from pyspiro import LOELOE_2025

    result = fvc.predict(
        4.5, sex="male", age_years=50, height_cm=175, equation=Equation.PERSIAN_2025
    )
    p = LOELOE_2025.Parameters.FVC
    assert result.equation == "PERSIAN cohort (Loeloe 2025)"
    assert result.percent_predicted == pytest.approx(
        float(LOELOE_2025().percent(1, 50, 175, p, 4.5))
    )
    assert result.lln_l == pytest.approx(float(LOELOE_2025().lln(1, 50, 175, p)))
    assert result.percent_predicted == pytest.approx(4.5 / result.predicted_l * 100, abs=0.01)
    assert 90 <= result.percent_predicted <= 115


def test_outside_equation_range_gives_none_not_a_guess():
    # The PERSIAN equation covers ages 38-69 only.
    result = fvc.predict(
        4.5, sex="male", age_years=30, height_cm=175, equation=Equation.PERSIAN_2025
    )
    assert result.in_equation_range is False
    assert result.percent_predicted is None
    assert result.below_lln is None


def test_female_predicts_lower_than_male():
    male = fvc.predict(3.5, sex="male", age_years=60, height_cm=170)
    female = fvc.predict(3.5, sex="female", age_years=60, height_cm=170)
    assert female.percent_predicted > male.percent_predicted


def test_low_fvc_is_below_lln():
    result = fvc.predict("2.00", sex="male", age_years=50, height_cm=175, measure=Measure.SVC)
    assert result.measure is Measure.SVC
    assert result.percent_predicted < 50
    assert result.below_lln is True


def test_implausible_subject_refused_with_every_reason():
    with pytest.raises(FvcError) as info:
        fvc.predict(0.1, sex="x", age_years=4, height_cm=231, equation="nope")
    reasons = " | ".join(info.value.reasons)
    for fragment in ("below 0.20", "age 4", "height 231", "unknown sex", "unknown equation"):
        assert fragment in reasons


@pytest.mark.parametrize(("age", "height"), [(5, 100), (100, 230)])
def test_subject_bounds_accepted(age, height):
    fvc.predict(1.0, sex="female", age_years=age, height_cm=height)


def test_age_at():
    # 1974-03-01 -> 2024-03-01 is 18263 days = 50.0 years of 365.25 days.
    assert fvc.age_at(date(1974, 3, 1), date(2024, 3, 1)) == pytest.approx(50.0, abs=0.01)
