"""A coordinator tells a visit that happened from a visit whose data are in: attendance and
completeness apart, the subject matrix's link into a form, and, on a 390 px phone, the
participant list and the matrix scroll inside their own boxes, never the page."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import ALSFRS_NORMAL, register, save_crf, transplanted_participant
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shot(name: str) -> str:
    """Where a screenshot goes, to be looked at (readable at desktop and phone size)."""
    return str(Path(tempfile.gettempdir()) / f"{name}.png")


def _page_scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_attendance_completeness_and_the_matrix_on_desktop_and_phone(
    live_server, page, coordinator_a, site_a, trial
):
    today = site_a.local_today()
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=today - timedelta(days=200), name="Maryam Matrix"
    )
    m06 = record_visit_date(
        actor=coordinator_a,
        visit=participant.visits.get(code="M06"),
        actual_date=today - timedelta(days=10),
    )
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    for index in range(3):  # a list with more than one row
        register(coordinator_a, site_a, trial, screened_on=today, name=f"Other Person {index}")
    base = f"{live_server.url}/sites/{site_a.code}/participants"

    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(f"{base}/{participant.pk}/")
    # Attendance and completeness are two things: M06 happened, one form of eight is in.
    assert page.get_by_test_id("attendance-M06").inner_text().strip() == "Attended"
    assert page.get_by_test_id("completeness-M06").inner_text().strip() == "1 / 8 forms complete"
    matrix = page.get_by_test_id("subject-matrix")
    matrix.scroll_into_view_if_needed()
    page.screenshot(path=_shot("matrix_desktop_participant"), full_page=True)
    assert matrix.get_by_test_id("cell-M06-alsfrs_r").get_attribute("title") == "Complete"
    safety_cell = matrix.get_by_test_id("cell-M06-adverse_events")
    assert (safety_cell.get_attribute("href") or "").endswith(f"/visits/{m06.pk}/safety/")

    # The matrix cell of a form not started opens that form's entry page at that visit.
    matrix.get_by_test_id("cell-M06-fvc").click()
    page.wait_for_url(f"{base}/{participant.pk}/visits/{m06.pk}/forms/fvc/")
    page.wait_for_selector("form.crf-form")

    page.goto(f"{base}/{participant.pk}/visits/{m06.pk}/")
    assert page.get_by_test_id("attendance").inner_text().strip() == "Attended"
    assert page.get_by_test_id("completeness").inner_text().strip() == "1 / 8 forms complete"
    assert "Not answered" in page.get_by_test_id("form-adverse_events").inner_text()
    page.screenshot(path=_shot("matrix_desktop_visit"), full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(f"{base}/")
    page.wait_for_selector("table.participant-list")
    assert _page_scroll_width(page) <= PHONE["width"]
    page.screenshot(path=_shot("matrix_phone_list"), full_page=True)
    page.locator(".table-scroll").first.evaluate("el => { el.scrollLeft = 200; }")
    page.locator(".table-scroll").first.screenshot(path=_shot("matrix_phone_list_scrolled"))
    # The table scrolls in its box, the participant's ID stays in view.
    box = page.locator(".table-scroll").first
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    first_cell = page.locator("table.participant-list tbody tr th").first
    assert first_cell.evaluate("el => getComputedStyle(el).position") == "sticky"

    page.goto(f"{base}/{participant.pk}/")
    assert _page_scroll_width(page) <= PHONE["width"]
    matrix = page.get_by_test_id("subject-matrix")
    matrix.scroll_into_view_if_needed()
    page.screenshot(path=_shot("matrix_phone_participant"), full_page=True)
    page.locator("#subject-matrix").screenshot(path=_shot("matrix_phone_matrix"))
    # Scrolled to the last visit, the form names are still in view.
    matrix.evaluate("el => { el.parentElement.scrollLeft = el.parentElement.scrollWidth; }")
    row_header = matrix.locator("tbody th").first
    assert row_header.evaluate("el => el.getBoundingClientRect().left") >= 0
    assert row_header.evaluate("el => el.getBoundingClientRect().left") < PHONE["width"] / 2
    page.screenshot(path=_shot("matrix_phone_matrix_scrolled"))
    assert _page_scroll_width(page) <= PHONE["width"]

    page.goto(f"{base}/{participant.pk}/visits/{m06.pk}/")
    assert _page_scroll_width(page) <= PHONE["width"]
    page.screenshot(path=_shot("matrix_phone_visit"), full_page=True)
