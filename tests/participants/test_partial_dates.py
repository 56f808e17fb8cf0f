"""The one partial-date type (participants.partial_dates): its periods, and that its codes are
the stored ones."""

from __future__ import annotations

from datetime import date

import pytest

from participants.choices import DatePrecision
from participants.partial_dates import PRECISIONS, PartialDate, months_between


def test_the_precisions_are_the_stored_codes():
    assert set(PRECISIONS) == set(DatePrecision.values)


@pytest.mark.parametrize(
    ("partial", "first", "last", "imputed"),
    [
        (
            PartialDate(date(2024, 2, 1), "month"),
            date(2024, 2, 1),
            date(2024, 2, 29),
            date(2024, 2, 15),
        ),
        (
            PartialDate(date(2023, 12, 1), "month"),
            date(2023, 12, 1),
            date(2023, 12, 31),
            date(2023, 12, 15),
        ),
        (
            PartialDate(date(2023, 1, 1), "year"),
            date(2023, 1, 1),
            date(2023, 12, 31),
            date(2023, 7, 1),
        ),
        (
            PartialDate(date(2023, 5, 17), "day"),
            date(2023, 5, 17),
            date(2023, 5, 17),
            date(2023, 5, 17),
        ),
    ],
)
def test_a_partial_date_stands_for_its_period(partial, first, last, imputed):
    assert partial.period() == (first, last)
    assert partial.imputed() == imputed


def test_a_stored_date_without_a_known_precision_is_read_as_a_day():
    assert PartialDate.of(date(2023, 5, 17), None).period() == (date(2023, 5, 17),) * 2
    assert PartialDate.of(date(2023, 5, 17), "").precision == "day"


def test_months_between_counts_mean_gregorian_months():
    assert months_between(date(2023, 1, 1), date(2024, 1, 1)) == pytest.approx(365 / 30.4375)
    assert months_between(date(2024, 1, 1), date(2023, 1, 1)) < 0
