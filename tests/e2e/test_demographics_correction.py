"""A coordinator corrects a participant's height from the participant page, with a reason, and
sees the FVC % predicted re-derived; a wrong input is answered by the error summary."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crfs.fvc.models import Fvc
from participants.models import Demographics
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import register, screen_eligible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir())  # /tmp/correct_*.png: looked at when the page changes


def test_a_coordinator_corrects_the_height_and_sees_fvc_percent_predicted_change(
    live_server, page, coordinator_a, site_a, trial
):
    person = register(
        coordinator_a, site_a, trial, screened_on=timezone.localdate() - timedelta(days=2)
    )
    screen_eligible(coordinator_a, person)
    before = Fvc.objects.get(visit__participant=person).percent_predicted
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(f"{live_server.url}/sites/{site_a.code}/participants/{person.pk}/")
    page.get_by_test_id("corrections").get_by_role("link", name="demographics").click()

    # A wrong input first: the summary at the top names it and leads to the field.
    page.get_by_label("Height (cm)").fill("20")
    page.get_by_label("Reason for change").fill("Height re-measured at the clinic")
    page.get_by_role("button", name="Save the correction").click()
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    page.wait_for_function("document.activeElement?.dataset.testid === 'error-summary'")
    assert "Height must be between 100 and 230 cm." in summary.inner_text()
    page.screenshot(path=SHOTS / "correct_error_summary.png", full_page=True)
    summary.locator('a[href="#id_height_cm"]').click()
    page.wait_for_function("document.activeElement?.id === 'id_height_cm'")
    assert Demographics.objects.get(participant=person).version == 1

    page.get_by_label("Height (cm)").fill("175.0")
    page.get_by_role("button", name="Save the correction").click()
    page.wait_for_url(f"{live_server.url}/sites/{site_a.code}/participants/{person.pk}/")
    after = Fvc.objects.get(visit__participant=person).percent_predicted
    assert after < before
    alerts = page.get_by_role("alert")
    alerts.filter(has_text="Corrected: height (cm).").wait_for()
    fvc_line = alerts.filter(has_text="FVC (spirometry) at SCR:")
    assert f"% predicted {before:.1f} → {after:.1f}" in fvc_line.inner_text()
    assert "175.0 cm" in page.locator("main").inner_text()  # the demographics card
    page.screenshot(path=SHOTS / "correct_result.png", full_page=True)
