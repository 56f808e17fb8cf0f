"""A coordinator corrects a participant's height from the participant page, with a reason, and
sees the FVC % predicted re-derived; a wrong input is answered by the error summary."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from crfs.fvc.models import Fvc
from crfs.screening.services import record_screen_failure
from participants.choices import ParticipantStatus as S
from participants.models import Demographics
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import consent, register, screen_eligible, screening_forms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir())  # /tmp/correct_*.png: looked at when the page changes


def test_a_coordinator_corrects_the_height_and_sees_fvc_percent_predicted_change(
    live_server, page, coordinator_a, site_a, trial
):
    person = register(
        coordinator_a, site_a, trial, screened_on=site_a.local_today() - timedelta(days=2)
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


def test_a_wrong_onset_region_is_corrected_and_the_screen_failure_undone(
    live_server, page, coordinator_a, site_a, trial
):
    today = site_a.local_today()
    person = register(
        coordinator_a, site_a, trial, screened_on=today - timedelta(days=2), onset_region="bulbar"
    )
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person)
    record_screen_failure(actor=coordinator_a, participant=person, effective_date=today)
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(f"{live_server.url}/sites/{site_a.code}/participants/{person.pk}/")
    page.get_by_test_id("corrections").get_by_role("link", name="ALS history").click()

    page.get_by_label("Onset region").select_option(label="Lower limb")
    page.get_by_label("Reason for change").fill("Onset region misread from the referral letter")
    page.get_by_role("button", name="Save the correction").click()
    page.get_by_test_id("return-offer").wait_for()
    assert page.get_by_test_id("error-summary").count() == 0  # nothing submitted yet
    assert page.get_by_role("alert").filter(has_text="now Eligible (was Screen failure)").count()
    page.screenshot(path=SHOTS / "correct_return_offer.png", full_page=True)

    page.get_by_label("Reason").fill("The screen failure came from the misread onset region")
    page.get_by_role("button", name="Return to screening").click()
    page.wait_for_url(f"{live_server.url}/sites/{site_a.code}/participants/{person.pk}/")
    person.refresh_from_db()
    assert person.status == S.SCREENING
    assert page.get_by_role("link", name="Enrol").count() == 1
