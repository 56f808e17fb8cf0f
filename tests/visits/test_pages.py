"""Transplantation and visit pages: create, correct with a reason, field errors, never a 500."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from tests.factories import enrol, register, transplanted_participant
from visits.models import Transplantation

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)

TX_FORM = {
    "performed_date": "2026-03-01",
    "performed_time": "23:30",
    "route": "intrathecal",
    "injection_level": "L4-L5",
    "cell_dose": "100000000",
    "viability_percent": "93.5",
    "volume_ml": "10",
    "cell_lot": "MSC-2026-07",
    "needle_type": "atraumatic",
    "needle_gauge": "25",
    "operator": "Dr. A",
    "immediate_complications": "",
}


@pytest.fixture
def enrolled(frozen, coordinator_a, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=date(2026, 2, 1))
    return enrol(coordinator_a, participant, date(2026, 2, 10))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("viability_percent", "150", "Ensure this value is less than or equal to 100"),
        ("viability_percent", "-1", "Ensure this value is greater than or equal to 0"),
        ("needle_gauge", "12", "Ensure this value is greater than or equal to 16"),
        ("cell_dose", "lots", "Enter a whole number."),
        ("route", "oral", "Select a valid choice."),
        ("performed_date", "2026-03-11", "The transplantation cannot be in the future."),
        ("performed_date", "2026-02-05", "The transplantation cannot precede enrolment."),
        ("performed_time", "25:00", "Enter a valid time."),
    ],
)
def test_bad_transplantation_input_gives_field_errors_and_changes_nothing(
    client_for, coordinator_a, enrolled, field, value, message
):
    url = reverse("transplantation", args=["ISF", enrolled.pk])
    response = client_for(coordinator_a).post(url, TX_FORM | {field: value})
    assert response.status_code == 400
    assert message in response.text
    assert field in response.context["form"].errors
    assert not Transplantation.objects.exists()
    enrolled.refresh_from_db()
    assert enrolled.status == "enrolled"


def test_coordinator_records_then_corrects_the_transplantation(client_for, coordinator_a, enrolled):
    client = client_for(coordinator_a)
    url = reverse("transplantation", args=["ISF", enrolled.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, TX_FORM).status_code == 302
    record = Transplantation.objects.get()
    assert record.performed_at == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 23:30 Tehran
    assert record.performed_on == date(2026, 3, 1)
    page = client.get(reverse("participant-detail", args=["ISF", enrolled.pk]))
    assert "M06" in page.text and "2026-09-01" in page.text
    assert "ALSFRS-R" in page.text

    correction = client.get(url)
    assert "Reason for the correction" in correction.text
    assert 'value="2026-03-01"' in correction.text and 'value="23:30"' in correction.text
    missing_reason = client.post(url, TX_FORM | {"performed_date": "2026-02-27"})
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.context["form"].errors
    fixed = client.post(
        url, TX_FORM | {"performed_date": "2026-02-27", "reason": "Typo in the date"}
    )
    assert fixed.status_code == 302
    assert enrolled.visits.get(code="M06").target_date == date(2026, 8, 27)


def test_visit_page_records_a_date_and_refuses_bad_ones(
    frozen, client_for, coordinator_a, monitor_a, site_a, trial
):
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")
    url = reverse("visit-detail", args=["ISF", participant.pk, m06.pk])
    client = client_for(coordinator_a)
    assert client.get(url).status_code == 200
    early = client.post(url, {"action": "date", "actual_date": "2025-03-01"})
    assert early.status_code == 400
    assert "A follow-up visit cannot precede the transplantation" in early.text
    assert client.post(url, {"action": "date", "actual_date": "garbage"}).status_code == 400
    assert client.post(url, {"action": "missed", "missed_reason": ""}).status_code == 400
    assert client.post(url, {"action": "???"}).status_code == 400
    assert client.post(url, {"action": "date", "actual_date": "2025-09-12"}).status_code == 302
    m06.refresh_from_db()
    assert (m06.actual_date, m06.status, m06.days_from_target) == (date(2025, 9, 12), "done", 2)
    # A monitor reads the page but cannot write.
    monitor = client_for(monitor_a)
    assert monitor.get(url).status_code == 200
    assert monitor.post(url, {"action": "date", "actual_date": "2025-09-13"}).status_code == 404


def test_unscheduled_visit_page(frozen, client_for, coordinator_a, enrolled):
    url = reverse("visit-unscheduled", args=["ISF", enrolled.pk])
    client = client_for(coordinator_a)
    assert client.post(url, {"actual_date": "2026-03-01", "reason": ""}).status_code == 400
    assert client.post(url, {"actual_date": "2026-03-01", "reason": "Fall"}).status_code == 302
    assert enrolled.visits.get(code="UNS").sequence == 1


def test_baseline_can_be_dated_on_the_transplantation_day_after_recording_it(
    frozen, client_for, coordinator_a, enrolled
):
    """Enrolled, transplanted today with BL undated: BL is still in its window, not overdue,
    and dating it today (examined before the procedure) is accepted."""
    client = client_for(coordinator_a)
    url = reverse("transplantation", args=["ISF", enrolled.pk])
    assert client.post(url, TX_FORM | {"performed_date": TODAY.isoformat()}).status_code == 302
    baseline = enrolled.visits.get(code="BL")
    assert baseline.window_start <= baseline.target_date <= baseline.window_end
    assert (baseline.target_date, baseline.status) == (TODAY, "window_open")
    visit_url = reverse("visit-detail", args=["ISF", enrolled.pk, baseline.pk])
    dated = client.post(visit_url, {"action": "date", "actual_date": TODAY.isoformat()})
    assert dated.status_code == 302
    baseline.refresh_from_db()
    assert (baseline.actual_date, baseline.status, baseline.days_from_target) == (TODAY, "done", 0)
    late = enrolled.visits.get(code="M06")
    assert late.target_date == date(2026, 9, 10)
