"""A coordinator types a whole ALSFRS-R at the M06 visit with the keyboard and sees the scores."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from tests.e2e.second_factor import pass_second_factor
from tests.factories import PASSWORD, transplanted_participant
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor(page, base)
    page.wait_for_url(f"{base}/")


def test_coordinator_types_an_alsfrs_r_without_the_mouse(
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
        f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}/visits/{m06.pk}/"
    )
    page.get_by_role("link", name="ALSFRS-R").click()
    page.wait_for_selector("form.crf-form")
    # crf.js is deferred: it runs just before DOMContentLoaded, which can come after the
    # form is in the page (seen under CI load: the first scores were typed into nothing).
    page.wait_for_load_state("domcontentloaded")

    page.locator("#id_q1_speech_0").focus()
    # Items 1-4, 5a, 6-12; 5b is skipped with Tab (no gastrostomy).
    for score in "4334":
        page.keyboard.press(score)
    page.keyboard.press("3")  # 5a
    page.keyboard.press("Tab")  # leave 5b empty
    for score in "4432443":
        page.keyboard.press(score)
    page.get_by_label("Mark the form complete").check()
    page.get_by_role("button", name="Save").click()

    page.wait_for_selector("text=ALSFRS-R saved.")
    record = AlsfrsR.objects.get(visit=m06)
    assert record.status == "complete"
    assert record.total == 4 + 3 + 3 + 4 + 3 + 4 + 4 + 3 + 2 + 4 + 4 + 3
    assert page.get_by_test_id("form-status").inner_text() == "Complete"
    assert page.get_by_text("Derived scores").is_visible()
    if os.environ.get("ECRF_SCREENSHOTS"):
        page.screenshot(
            path=os.path.join(os.environ["ECRF_SCREENSHOTS"], "alsfrs_r.png"), full_page=True
        )
