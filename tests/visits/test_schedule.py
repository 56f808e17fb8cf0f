"""Pure date arithmetic of the schedule: calendar months, windows, statuses, site-local today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import SiteFactory
from trials.protocols import get_protocol
from visits.choices import VisitStatus
from visits.schedule import add_months, days_from_target, local_today, plan, visit_status

PROTOCOL = get_protocol("NCT02116634")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # clamped to the end of February
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # … of a leap February
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day + 1 year
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 5, 17), 0, date(2025, 5, 17)),
    ],
)
def test_add_months_clamps_to_the_month_end(start, months, expected):
    assert add_months(start, months) == expected


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 60))
def test_add_months_lands_in_the_right_month_never_later_in_it(start, months):
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day <= start.day
    assert result.day == start.day or (result + timedelta(days=1)).day == 1


def test_windows_come_from_the_protocol():
    tx = date(2025, 8, 31)
    m06 = plan(PROTOCOL.visit("M06"), tx)
    assert (m06.target, m06.window_start, m06.window_end) == (
        date(2026, 2, 28),
        date(2026, 1, 31),
        date(2026, 3, 28),
    )
    baseline = plan(PROTOCOL.visit("BL"), tx)
    assert (baseline.window_start, baseline.window_end) == (date(2025, 8, 1), date(2025, 8, 31))
    assert baseline.window_start <= baseline.target <= baseline.window_end
    assert plan(PROTOCOL.visit("TX"), tx).window_start == tx
    assert plan(PROTOCOL.visit("SCR"), tx) is None
    assert plan(PROTOCOL.visit("M06"), None) is None


@pytest.mark.parametrize(
    ("today", "actual", "missed", "expected"),
    [
        (date(2026, 1, 1), None, False, VisitStatus.UPCOMING),
        (date(2026, 1, 31), None, False, VisitStatus.WINDOW_OPEN),
        (date(2026, 3, 28), None, False, VisitStatus.WINDOW_OPEN),
        (date(2026, 3, 29), None, False, VisitStatus.OVERDUE),
        (date(2026, 4, 1), date(2026, 3, 1), False, VisitStatus.DONE),
        (date(2026, 4, 1), date(2026, 3, 29), False, VisitStatus.DONE_OUT_OF_WINDOW),
        (date(2026, 4, 1), None, True, VisitStatus.MISSED),
    ],
)
def test_visit_status_from_window_actual_date_and_today(today, actual, missed, expected):
    status = visit_status(
        window_start=date(2026, 1, 31),
        window_end=date(2026, 3, 28),
        actual=actual,
        today=today,
        missed=missed,
    )
    assert status == expected


def test_unplanned_and_not_expected_visits():
    assert visit_status(
        window_start=None, window_end=None, actual=None, today=date(2026, 1, 1)
    ) == (VisitStatus.UPCOMING)
    assert (
        visit_status(
            window_start=date(2025, 1, 1),
            window_end=date(2025, 2, 1),
            actual=None,
            today=date(2026, 1, 1),
            expected=False,
        )
        == VisitStatus.NOT_EXPECTED
    )


def test_days_from_target_is_signed():
    assert days_from_target(date(2026, 2, 28), date(2026, 3, 3)) == 3
    assert days_from_target(date(2026, 2, 28), date(2026, 2, 20)) == -8
    assert days_from_target(None, date(2026, 2, 20)) is None


@pytest.mark.django_db
def test_today_is_the_tehran_date_not_the_utc_date(time_machine):
    site = SiteFactory(code="ISF", time_zone="Asia/Tehran")
    time_machine.move_to(datetime(2026, 3, 10, 20, 0, tzinfo=UTC), tick=False)  # 23:30 Tehran
    assert local_today(site) == date(2026, 3, 10)
    time_machine.move_to(datetime(2026, 3, 10, 21, 0, tzinfo=UTC), tick=False)  # 00:30 Tehran
    assert local_today(site) == date(2026, 3, 11)
    assert site.local_today() == date(2026, 3, 11)
