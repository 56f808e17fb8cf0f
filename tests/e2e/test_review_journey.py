"""Issue 14's journey in the browser, as far as the clinic pages lead: a monitor verifies the
month-6 ALSFRS-R and queries its swallowing item; the coordinator sees the query on the
matrix and the form and corrects the value with a reason; the verification is cleared, the
query answered, and the monitor closes it; the investigator signs the visit; the data manager
locks the participant and the form shows the lock with no Save. Screenshots at desktop and
390 px (/tmp/wire10_*.png)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crfs.alsfrs_r.models import AlsfrsR
from queries import services as query_services
from queries import tasks
from queries.models import Query, QueryStatus
from review.models import Lock, Signature, Verification
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import (
    ALSFRS_NORMAL,
    PASSWORD,
    investigator_of,
    member,
    save_crf,
    transplanted_participant,
)
from trials.models import Role
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shot(page, name: str) -> None:
    """The whole page, and what the screen shows first (readable at phone size)."""
    folder = Path(tempfile.gettempdir())
    page.screenshot(path=str(folder / f"wire10_{name}.png"), full_page=True)
    page.screenshot(path=str(folder / f"wire10_{name}_top.png"))


def _as(browser, live_server, user, viewport=DESKTOP):
    context = browser.new_context(locale="en-GB", timezone_id="Asia/Tehran", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, user.username)
    return page


def test_verify_query_correct_close_sign_and_lock(
    live_server, browser, monkeypatch, coordinator_a, monitor_a, site_a, trial
):
    # The correction's after-commit work (answering the query) runs as the worker would.
    monkeypatch.setattr(
        tasks.after_record_saved, "delay", lambda *args: query_services.after_record_saved(*args)
    )
    today = timezone.localdate()
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=today - timedelta(days=200), name="Reza Review"
    )
    m06 = record_visit_date(
        actor=coordinator_a,
        visit=participant.visits.get(code="M06"),
        actual_date=today - timedelta(days=10),
    )
    alsfrs = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    investigator = investigator_of(site_a)
    data_manager = member(Role.DATA_MANAGER, site_a)
    sites = f"{live_server.url}/sites/{site_a.code}"
    participant_url = f"{sites}/participants/{participant.pk}/"
    visit_url = f"{participant_url}visits/{m06.pk}/"
    form_url = f"{visit_url}forms/alsfrs_r/"

    # The monitor verifies the whole form, then queries its swallowing item.
    monitor = _as(browser, live_server, monitor_a)
    monitor.goto(participant_url)
    monitor.get_by_test_id("review-open").click()
    monitor.goto(f"{sites}/review/participants/{participant.pk}/records/alsfrs_r/{alsfrs.pk}/")
    monitor.get_by_label("Verify the whole record").check()
    monitor.get_by_role("button", name="Mark as source verified").click()
    monitor.wait_for_load_state()
    assert Verification.objects.filter(record_id=alsfrs.pk, cleared_at=None).exists()
    monitor.goto(form_url)
    monitor.get_by_test_id("record-queries").get_by_role("link", name="Raise a query").click()
    monitor.get_by_label("About").select_option("q3_swallowing")
    monitor.get_by_label("Message").fill("The source notes say 3 for swallowing.")
    monitor.get_by_role("button", name="Open the query").click()
    monitor.wait_for_url(f"{sites}/queries/*/")
    query = Query.objects.get()

    # The coordinator sees the verified form and its query on the matrix and the visit page.
    coordinator = _as(browser, live_server, coordinator_a)
    coordinator.goto(participant_url)
    cell = coordinator.get_by_test_id("subject-matrix").get_by_test_id("cell-M06-alsfrs_r")
    assert cell.get_attribute("title") == "Source verified"
    badge = cell.get_by_test_id("cell-M06-alsfrs_r-queries")
    assert "1 open query" in badge.inner_text()
    assert "1 open" in coordinator.get_by_test_id("review-queries").inner_text()
    coordinator.get_by_test_id("subject-matrix").scroll_into_view_if_needed()
    _shot(coordinator, "participant_desktop")
    coordinator.goto(visit_url)
    assert "1 open query" in coordinator.get_by_test_id("form-alsfrs_r").inner_text()
    assert coordinator.get_by_test_id("verified").is_visible()
    _shot(coordinator, "visit_desktop")

    # ... and corrects the value from the form, with a reason.
    coordinator.goto(form_url)
    assert "1 open query" in coordinator.get_by_test_id("record-queries").inner_text()
    coordinator.wait_for_load_state("domcontentloaded")
    coordinator.locator("input[name=q3_swallowing][value='3']").check()
    coordinator.locator("#id_reason_for_change").fill("Transcription error, source says 3")
    _shot(coordinator, "form_desktop")
    coordinator.get_by_role("button", name="Save").click()
    coordinator.wait_for_selector("text=ALSFRS-R saved.")
    alsfrs.refresh_from_db()
    assert alsfrs.q3_swallowing == 3
    # The verification is cleared by the change, and the query answered by it.
    assert not Verification.objects.filter(record_id=alsfrs.pk, cleared_at=None).exists()
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    coordinator.goto(visit_url)
    assert coordinator.get_by_test_id("verification-cleared").is_visible()

    # The monitor closes the answered query.
    monitor.goto(f"{sites}/queries/{query.pk}/")
    monitor.get_by_role("button", name="Close the query").click()
    monitor.wait_for_load_state()
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    coordinator.goto(participant_url)
    assert (
        coordinator.get_by_test_id("subject-matrix")
        .get_by_test_id("cell-M06-alsfrs_r-queries")
        .count()
        == 0
    )

    # The investigator signs the visit from the visit page.
    signer = _as(browser, live_server, investigator)
    signer.goto(visit_url)
    signer.get_by_test_id("sign-visit").click()
    signer.get_by_label("Password").fill(PASSWORD)
    signer.get_by_role("button", name="Sign").click()
    signer.wait_for_load_state()
    assert Signature.objects.filter(participant=participant, invalidated_at=None).exists()
    signer.goto(participant_url)
    assert (
        signer.get_by_test_id("subject-matrix")
        .get_by_test_id("cell-M06-alsfrs_r")
        .get_attribute("title")
        == "Signed"
    )

    # The data manager locks the participant from the participant page.
    manager = _as(browser, live_server, data_manager)
    manager.goto(participant_url)
    manager.get_by_test_id("review-lock-participant").click()
    manager.get_by_label("Reason").fill("Interim analysis")
    manager.get_by_role("button", name="Lock").click()
    manager.wait_for_load_state()
    assert Lock.objects.active().filter(participant=participant).exists()

    # The coordinator's form now shows the lock and no Save; the matrix says locked.
    coordinator.goto(form_url)
    assert "Interim analysis" in coordinator.get_by_test_id("lock").inner_text()
    assert coordinator.get_by_role("button", name="Save").count() == 0
    _shot(coordinator, "form_locked_desktop")
    coordinator.goto(participant_url)
    assert (
        coordinator.get_by_test_id("subject-matrix")
        .get_by_test_id("cell-M06-alsfrs_r")
        .get_attribute("title")
        == "Locked"
    )
    _shot(coordinator, "participant_locked_desktop")

    phone = _as(browser, live_server, coordinator_a, viewport=PHONE)
    for name, url in (
        ("participant_phone", participant_url),
        ("visit_phone", visit_url),
        ("form_locked_phone", form_url),
    ):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(phone, name)
