"""A coordinator goes from the participant's subject matrix to the month-6 safety page,
records a serious adverse event as a user fills the form, the site's investigator is
e-mailed once, and the participant page counts the event: one reported at M06, serious, not
yet acknowledged. At 390 px the participant page still does not scroll sideways."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail

from reminders import tasks
from safety.models import AdverseEvent
from tests.clinic.test_safety_on_clinic_pages import medicate
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import PASSWORD, investigator_of, transplanted_participant
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shot(name: str) -> str:
    """Where a screenshot goes, to be looked at (desktop and phone)."""
    return str(Path(tempfile.gettempdir()) / f"clinsafe_{name}.png")


def test_a_coordinator_records_a_serious_event_at_m06_from_the_matrix(
    live_server, page, coordinator_a, site_a, trial, monkeypatch
):
    # The alert is sent in this process rather than through a broker another stack may read.
    monkeypatch.setattr(tasks, "dispatch_send", tasks.send_reminder)
    investigator = investigator_of(site_a)
    today = site_a.local_today()
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=today - timedelta(days=200), name="Sara Safety"
    )
    m06 = record_visit_date(
        actor=coordinator_a,
        visit=participant.visits.get(code="M06"),
        actual_date=today - timedelta(days=3),
    )
    medicate(coordinator_a, participant.visits.get(code="BL"))  # riluzole since 2025-03
    participant_url = f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}/"

    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(participant_url)
    card = page.get_by_test_id("safety-card")
    assert card.get_by_test_id("safety-ae-counts").inner_text().strip() == "0 events · 0 serious"
    assert page.get_by_test_id("drugs-BL").inner_text().strip() == (
        "Riluzole started 2025-03, ongoing"
    )
    # Under its visit rather than in a column of its own: the timeline fits a desktop card.
    assert page.locator("table.timeline").evaluate(
        "table => table.parentElement.scrollWidth <= table.parentElement.clientWidth"
    )
    cell = page.get_by_test_id("cell-M06-adverse_events")
    assert cell.get_attribute("title") == "Not answered"
    assert page.get_by_test_id("completeness-M06").inner_text().strip() == "0 / 8 forms complete"

    cell.click()
    page.wait_for_url(f"{participant_url}visits/{m06.pk}/safety/")
    assert page.get_by_test_id("ae-status").inner_text().strip() == "Not answered"
    page.screenshot(path=_shot("visit_safety_desktop"), full_page=True)
    page.get_by_role("link", name="Report an adverse event at this visit").click()
    page.wait_for_url(f"{participant_url}adverse-events/new/?visit={m06.pk}")

    # The visit comes chosen from the safety page; the rest is typed and ticked.
    assert page.get_by_label("Reported at visit").input_value() == str(m06.pk)
    page.get_by_label("Verbatim term").fill("Fever and stiff neck, admitted to hospital")
    page.get_by_label("Coded term").select_option(label="Meningitis")
    page.get_by_label("Onset").fill((today - timedelta(days=5)).isoformat())
    page.get_by_label("Ongoing").check()
    page.locator("#item-grade").get_by_label("3 · Severe or medically significant").check()
    page.locator("#item-serious").get_by_label("Yes").check()
    page.get_by_label("Requires or prolongs hospitalisation").check()
    page.locator("#item-related_procedure").get_by_label("Possible").check()
    page.locator("#item-related_cells").get_by_label("Unlikely").check()
    page.get_by_label("Action taken").select_option(label="Hospitalisation")
    page.get_by_label("Outcome").select_option(label="Recovering / resolving")
    page.get_by_label("Treatment").fill("Intravenous antibiotics")
    page.get_by_label("Mark the form complete").check()
    page.screenshot(path=_shot("ae_form_desktop"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{participant_url}adverse-events/*/")
    assert "the investigators are alerted" in page.locator(".alert").first.inner_text()

    event = AdverseEvent.objects.get(participant=participant)
    assert (event.visit_id, event.serious, event.grade, event.status) == (
        m06.pk,
        True,
        3,
        "complete",
    )
    assert [message.to for message in mail.outbox] == [[investigator.email]]

    page.goto(participant_url)
    card = page.get_by_test_id("safety-card")
    assert card.get_by_test_id("safety-ae-counts").inner_text().splitlines() == [
        "1 event · 1 serious",
        "1 serious event not yet acknowledged by an investigator",
    ]
    assert page.get_by_test_id("cell-M06-adverse_events").get_attribute("title") == (
        "1 event reported"
    )
    assert page.get_by_test_id("completeness-M06").inner_text().strip() == "1 / 8 forms complete"
    card.scroll_into_view_if_needed()
    page.screenshot(path=_shot("participant_desktop"), full_page=True)
    page.locator("table.timeline").screenshot(path=_shot("timeline_desktop"))
    card.screenshot(path=_shot("safety_card_desktop"))

    # The visit page lists the answered question among M06's forms, linked to its page.
    page.goto(f"{participant_url}visits/{m06.pk}/")
    row = page.get_by_test_id("form-adverse_events")
    assert "1 event reported" in row.inner_text()
    assert row.get_attribute("href").endswith(f"/visits/{m06.pk}/safety/")
    assert page.get_by_test_id("completeness").inner_text().strip() == "1 / 8 forms complete"
    page.screenshot(path=_shot("visit_desktop"), full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(participant_url)
    card = page.get_by_test_id("safety-card")
    card.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=_shot("participant_phone"), full_page=True)
    page.locator("table.timeline").screenshot(path=_shot("timeline_phone"))
    card.screenshot(path=_shot("safety_card_phone"))
    # The matrix scrolls in its own box to M06, whose safety cells say what they hold.
    m06_cell = page.get_by_test_id("cell-M06-adverse_events")
    m06_cell.scroll_into_view_if_needed()
    assert m06_cell.get_attribute("title") == "1 event reported"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#subject-matrix").screenshot(path=_shot("matrix_phone"))

    # The investigator: one in-app notification leads to the event, which they assess and sign
    # with their password; the site's listing counts it and no longer lists it unacknowledged.
    page.set_viewport_size(DESKTOP)
    page.context.clear_cookies()
    log_in(page, live_server.url, investigator.username)
    page.goto(f"{live_server.url}/notifications/")
    notifications = page.get_by_role("button", name="Open")
    assert notifications.count() == 1
    notifications.click()
    page.wait_for_url(f"{participant_url}adverse-events/{event.pk}/")
    assessments = page.get_by_test_id("assessments")
    assert "Not yet acknowledged by an investigator." in assessments.inner_text()
    assessments.get_by_role("link", name="Assess and sign").click()
    page.wait_for_url(f"{participant_url}adverse-events/{event.pk}/assess/")
    page.locator("#div_id_serious").get_by_label("Yes").check()
    page.locator("#div_id_related_procedure").get_by_label("Probable").check()
    page.locator("#div_id_related_cells").get_by_label("Unlikely").check()
    page.get_by_label("Your password (signature)").fill("not my password")
    page.get_by_role("button", name="Sign the assessment").click()
    page.get_by_test_id("error-summary").wait_for()  # a wrong password signs nothing
    assert not event.assessments.exists()
    page.get_by_label("Your password (signature)").fill(PASSWORD)
    page.get_by_role("button", name="Sign the assessment").click()
    page.wait_for_url(f"{participant_url}adverse-events/{event.pk}/")
    signed = page.get_by_test_id("assessments").inner_text()
    assert f"Signed by {investigator.username}" in signed and "Probable" in signed
    page.screenshot(path=_shot("ae_assessed_desktop"), full_page=True)

    listing = f"{live_server.url}/sites/{site_a.code}/adverse-events/"
    page.goto(f"{listing}?serious=1")
    rows = page.get_by_test_id("ae-listing").locator("tbody tr")
    assert rows.count() == 1 and "Meningitis" in rows.first.inner_text()
    assert "not acknowledged" not in rows.first.inner_text()
    page.goto(f"{listing}?unacknowledged=1")
    assert "Meningitis" not in page.get_by_test_id("ae-listing").inner_text()
    page.screenshot(path=_shot("listing_desktop"), full_page=True)
