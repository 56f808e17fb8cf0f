"""The pure eligibility decision: each criterion alone, partial onset dates, overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from crfs.eligibility.scoring import (
    CRITERIA,
    EXCLUSION_CODES,
    Decision,
    Inputs,
    Outcome,
    decide,
    evaluate,
    onset_within,
    override_covers,
    plus_years,
)

ALL_GOOD = Inputs(
    el_escorial="probable",
    family_history="no",
    onset_region="lower_limb",
    onset_date=date(2024, 3, 1),
    onset_precision="month",
    screened_on=date(2026, 3, 10),
    progression_6_months=True,
    swallowing=3,
    cutting=2,
    walking=2,
    fvc_percent=50.0,
    polysomnography_result="normal",
    consent_signed=True,
    exclusions=dict.fromkeys(EXCLUSION_CODES, False),
)

FAILING_ALONE = {
    "el_escorial": None,  # not recorded: unknown, tested apart
    "sporadic": {"family_history": "yes"},
    "spinal_onset": {"onset_region": "bulbar"},
    "onset_under_3_years": {"onset_date": date(2023, 3, 10), "onset_precision": "day"},
    "progression_6_months": {"progression_6_months": False},
    "alsfrs_swallowing": {"swallowing": 2},
    "alsfrs_cutting": {"cutting": 1},
    "alsfrs_walking": {"walking": 1},
    "fvc_50": {"fvc_percent": 49.9},
    "polysomnography": {"polysomnography_result": "abnormal"},
    "consent": {"consent_signed": False},
    **{
        code: {"exclusions": {**dict.fromkeys(EXCLUSION_CODES, False), code: True}}
        for code in EXCLUSION_CODES
    },
}


def test_all_criteria_passing_at_their_limits_is_eligible():
    result = decide(evaluate(ALL_GOOD))
    assert result.decision == Decision.ELIGIBLE
    assert result.failed == result.unknown == ()


@pytest.mark.parametrize("code", [c.code for c in CRITERIA if FAILING_ALONE[c.code]])
def test_each_criterion_failing_alone_is_a_screen_failure_naming_it(code):
    outcomes = evaluate(replace(ALL_GOOD, **FAILING_ALONE[code]))
    result = decide(outcomes)
    assert result.decision == Decision.SCREEN_FAILURE
    assert result.failed == (code,)


def test_every_criterion_is_covered_by_the_table_above():
    assert set(FAILING_ALONE) == {c.code for c in CRITERIA}


def test_unknowns_leave_the_decision_incomplete_but_a_failure_wins():
    missing_fvc = decide(evaluate(replace(ALL_GOOD, fvc_percent=None)))
    assert (missing_fvc.decision, missing_fvc.unknown) == (Decision.INCOMPLETE, ("fvc_50",))
    no_category = decide(evaluate(replace(ALL_GOOD, el_escorial=None)))
    assert no_category.unknown == ("el_escorial",)
    both = decide(evaluate(replace(ALL_GOOD, fvc_percent=None, walking=0)))
    assert (both.decision, both.failed, both.unknown) == (
        Decision.SCREEN_FAILURE,
        ("alsfrs_walking",),
        ("fvc_50",),
    )


@pytest.mark.parametrize(
    ("family_history", "outcome"),
    [
        ("no", Outcome.PASS),
        ("unknown", Outcome.PASS),
        ("yes", Outcome.FAIL),
        (None, Outcome.UNKNOWN),
    ],
)
def test_sporadic_means_no_known_familial_als(family_history, outcome):
    assert evaluate(replace(ALL_GOOD, family_history=family_history))["sporadic"] == outcome


@pytest.mark.parametrize(
    ("region", "outcome"),
    [
        ("upper_limb", Outcome.PASS),
        ("lower_limb", Outcome.PASS),
        ("bulbar", Outcome.FAIL),
        ("respiratory", Outcome.FAIL),
        ("generalised", Outcome.FAIL),
    ],
)
def test_spinal_onset_is_limb_onset(region, outcome):
    assert evaluate(replace(ALL_GOOD, onset_region=region))["spinal_onset"] == outcome


SCREENED = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("onset", "precision", "outcome"),
    [
        (date(2023, 3, 11), "day", Outcome.PASS),  # one day under 3 years
        (date(2023, 3, 10), "day", Outcome.FAIL),  # exactly 3 years
        (date(2023, 4, 1), "month", Outcome.PASS),  # all of April 2023 is under 3 years
        (date(2023, 3, 1), "month", Outcome.UNKNOWN),  # March 2023 straddles 10 March
        (date(2023, 2, 1), "month", Outcome.FAIL),  # all of February 2023 is 3 years or more
        (date(2024, 1, 1), "year", Outcome.PASS),
        (date(2023, 1, 1), "year", Outcome.UNKNOWN),  # 2023 straddles
        (date(2022, 1, 1), "year", Outcome.FAIL),
        (None, None, Outcome.UNKNOWN),
    ],
)
def test_partial_onset_dates_pass_or_fail_only_when_every_day_of_the_period_does(
    onset, precision, outcome
):
    assert onset_within(onset, precision, SCREENED, 3) == outcome


def test_three_calendar_years_from_29_february():
    assert plus_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


def test_an_override_covers_only_the_criteria_it_lists():
    fvc_unknown = decide(evaluate(replace(ALL_GOOD, fvc_percent=None)))
    assert override_covers(["fvc_50"], fvc_unknown)
    now_walking_too = decide(evaluate(replace(ALL_GOOD, fvc_percent=None, walking=1)))
    assert not override_covers(["fvc_50"], now_walking_too)
    assert not override_covers(["fvc_50"], decide(evaluate(ALL_GOOD)))  # nothing to cover
