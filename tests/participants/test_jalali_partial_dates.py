# ruff: noqa: RUF001  (Persian digits in the typed text are meant)
"""Jalali partial dates (issue 16): a Jalali year or month typed alone ('1404', '1404/07',
in any digits) is a period of its own (precisions jyear, jmon), stored as its Gregorian first
day, shown back in Jalali, written as the ISO interval of its days, and imputed at its middle
for ΔFS."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from crfs.alsfrs_r.scoring import delta_fs
from crfs.eligibility.scoring import Outcome, onset_within
from participants.partial_dates import (
    PartialDate,
    format_partial_date,
    is_normalised,
    jalali_period,
    parse_partial_date,
)
from trials import jalali


@pytest.mark.parametrize(
    ("year", "month", "first", "last"),
    [
        (1403, None, date(2024, 3, 20), date(2025, 3, 20)),  # a leap year: 366 days
        (1404, None, date(2025, 3, 21), date(2026, 3, 20)),  # a common year: 365 days
        (1403, 12, date(2025, 2, 19), date(2025, 3, 20)),  # Esfand of a leap year: 30 days
        (1404, 12, date(2026, 2, 20), date(2026, 3, 20)),  # Esfand of a common year: 29 days
        (1404, 1, date(2025, 3, 21), date(2025, 4, 20)),  # Farvardin: Nowruz to 31 Farvardin
        (1404, 7, date(2025, 9, 23), date(2025, 10, 22)),  # Mehr: 30 days
    ],
)
def test_a_jalali_period_spans_its_gregorian_days_and_reads_back(year, month, first, last):
    period = jalali_period(year, month)
    assert period.precision == ("jyear" if month is None else "jmon")
    assert period.period() == (first, last)
    assert period.value == first and is_normalised(first, period.precision)
    text = str(period)
    assert text == f"{first.isoformat()}/{last.isoformat()}"  # ISO 8601 interval
    assert PartialDate.parse(text) == period
    assert parse_partial_date(text) == (first, period.precision)
    assert format_partial_date(first, period.precision) == text
    # Any day of the period is brought to the period (as a Gregorian month is).
    assert PartialDate.of(last, period.precision).first_day == first
    assert not is_normalised(last, period.precision)


def test_an_interval_that_is_no_jalali_period_is_refused():
    with pytest.raises(ValueError):
        PartialDate.parse("2025-03-21/2025-04-21")  # one day too many for Farvardin
    with pytest.raises(ValueError):
        PartialDate.parse("2025-03-22/2025-04-20")  # does not start on the 1st


def test_imputation_is_the_middle_of_the_jalali_period():
    # 15th of the Jalali month, as the 15th of a Gregorian month.
    assert jalali_period(1404, 7).imputed() == date(2025, 10, 7)  # 15 Mehr 1404
    # A Jalali year: first day + 182 days, 28 Shahrivar (as 1 July is for a Gregorian year).
    assert jalali_period(1404).imputed() == date(2025, 9, 19)
    assert jalali_period(1403).imputed() == jalali.from_jalali(1403, 6, 28)


def test_delta_fs_from_a_jalali_year_onset_uses_its_middle():
    onset = jalali_period(1403)  # 2024-03-20 .. 2025-03-20, imputed 2024-09-18
    result = delta_fs(40, onset, date(2025, 9, 18))
    assert result.onset_used == date(2024, 9, 18)
    assert result.onset_imputed
    assert result.months == pytest.approx(365 / 30.4375)
    assert result.value == pytest.approx(8 / (365 / 30.4375))


def test_onset_under_three_years_reads_the_whole_jalali_period():
    onset = jalali_period(1401)  # 2022-03-21 .. 2023-03-20
    first, last = onset.period()
    assert onset_within(first, "jyear", date(2025, 3, 20), 3) is Outcome.PASS
    assert onset_within(first, "jyear", date(2025, 3, 21), 3) is Outcome.UNKNOWN
    assert onset_within(first, "jyear", date(2026, 3, 20), 3) is Outcome.FAIL
    assert last == date(2023, 3, 20)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1404", (date(2025, 3, 21), "jyear")),
        ("۱۴۰۴", (date(2025, 3, 21), "jyear")),
        ("1404/07", (date(2025, 9, 23), "jmon")),
        ("۱۴۰۴/۰۷", (date(2025, 9, 23), "jmon")),
        ("١٤٠٣-١٢", (date(2025, 2, 19), "jmon")),  # Arabic-Indic digits
        ("۱۴۰۴/۰۷/۱۵", (date(2025, 10, 7), "day")),
        ("2025-03", None),  # a Gregorian month stays one
    ],
)
def test_typed_in_the_jalali_calendar(typed, expected):
    with jalali.override(jalali.JALALI):
        assert jalali.parse_partial(typed) == expected


def test_a_jalali_month_that_does_not_exist_is_refused():
    with jalali.override(jalali.JALALI), pytest.raises(ValueError):
        jalali.parse_partial("1404/13")
    with jalali.override(jalali.JALALI), pytest.raises(ValueError):
        jalali.parse_partial("1404/00")


def test_in_the_gregorian_calendar_nothing_is_read_as_jalali():
    with jalali.override(jalali.GREGORIAN):
        assert jalali.parse_partial("1404") is None


def test_shown_back_in_jalali_and_with_its_days_in_gregorian():
    year, month = str(jalali_period(1404)), str(jalali_period(1404, 7))
    with translation.override("fa"), jalali.override(jalali.JALALI):
        assert jalali.partial_display(year) == "۱۴۰۴"
        assert jalali.partial_display(month) == "۱۴۰۴/۰۷"
        assert jalali.partial_input(month) == "۱۴۰۴/۰۷"
        # What the input shows reads back to the same period.
        assert jalali.parse_partial(jalali.partial_input(month)) == (date(2025, 9, 23), "jmon")
    with translation.override("en"), jalali.override(jalali.GREGORIAN):
        assert jalali.partial_display(month) == "1404/07 (Jalali; 2025-09-23 to 2025-10-22)"
        # A Gregorian page's input shows the interval, which reads back to the period.
        assert jalali.partial_input(month) == month
        assert PartialDate.parse(month) == jalali_period(1404, 7)


def test_an_adverse_events_partial_date_field_takes_a_jalali_month():
    from safety.forms import PartialDateField

    field = PartialDateField()
    with translation.override("fa"), jalali.override(jalali.JALALI):
        assert field.clean("۱۴۰۴/۰۷") == jalali_period(1404, 7)
        assert field.clean("۱۴۰۴") == jalali_period(1404)
        assert field.prepare_value(jalali_period(1404, 7)) == "۱۴۰۴/۰۷"
    with jalali.override(jalali.GREGORIAN):
        # The interval a Gregorian page shows is taken back as it is.
        assert field.clean(str(jalali_period(1404))) == jalali_period(1404)


@pytest.mark.parametrize("typed", ["0000", "0000/01", "1404/13", "1404/12/30", "۰"])
def test_what_the_jalali_calendar_lacks_is_refused_in_the_pages_language(typed):
    with (
        translation.override("fa"),
        jalali.override(jalali.JALALI),
        pytest.raises(ValueError) as error,
    ):
        jalali.parse_partial(typed)
    assert "وجود ندارد" in str(error.value)  # "does not exist", never jdatetime's English


@pytest.mark.parametrize("text", ["9999-01-01/9999-12-31", "0001-01-01/0001-01-31"])
def test_an_interval_beyond_the_jalali_calendar_is_no_partial_date_and_breaks_no_page(text):
    with pytest.raises(ValueError):
        PartialDate.parse(text)
    for calendar in jalali.CALENDARS:
        with jalali.override(calendar):
            assert jalali.partial_input(text) == text
            assert jalali.partial_display(text)
