"""Fixtures shared by the visit and form-entry tests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

# The transplantation day of the participant whose month-6 visit the entry tests fill in.
TX_DAY = date(2025, 8, 1)


@pytest.fixture
def m06(frozen, coordinator_a, site_a, trial):
    """The month-6 visit of a participant transplanted on TX_DAY, dated two days before its
    target (inside the window), ready for its forms."""
    from tests.factories import transplanted_participant
    from visits.services import record_visit_date

    participant = transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)
    visit = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=visit, actual_date=visit.target_date - timedelta(days=2)
    )
    visit.refresh_from_db()
    return visit
