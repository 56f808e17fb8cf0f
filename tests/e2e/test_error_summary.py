"""After a refused save of a long form, the focus is on the error summary at the top, and its
links lead to the fields in error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import transplanted_participant
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_refused_save_puts_the_focus_on_the_error_summary(
    live_server, page, coordinator_a, site_a, trial
):
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=200)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=site_a.local_today() - timedelta(days=10)
    )
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(
        f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}"
        f"/visits/{m06.pk}/forms/alsfrs_r/"
    )
    page.wait_for_selector("form.crf-form")
    page.get_by_label("Mark the form complete").check()
    page.get_by_role("button", name="Save").click()  # complete, with nothing answered

    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    page.wait_for_function("document.activeElement?.dataset.testid === 'error-summary'")
    assert page.evaluate("window.scrollY") < 200  # the summary is at the top, in view
    assert not AlsfrsR.objects.filter(visit=m06).exists()

    summary.locator('a[href="#id_q8_walking_0"]').click()
    page.wait_for_function("document.activeElement?.id === 'id_q8_walking_0'")
