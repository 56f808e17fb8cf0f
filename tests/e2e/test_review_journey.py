"""Issue 14's "Done when" in the browser: a monitor verifies the month-6 ALSFRS-R and queries
its swallowing item; the coordinator sees the query on the matrix and the form and corrects
the value with a reason; the verification is cleared, the query answered, and the monitor
closes it; the coordinator enters the month-12 ALSFRS-R with an implausible rise of the total,
the edit check raises its query, and a correction with a reason closes it; the investigator
signs the visit; the data manager locks the participant, the form shows the lock with no
Save, a write through the read API is refused (405) and the admin shows the record read-only
and refuses a POST (403); the form's history page shows each change, old → new, who and why.
Screenshots at desktop and 390 px (/tmp/wire10_*.png, /tmp/journey_*.png)."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from queries import services as query_services
from queries import tasks
from queries.models import Query, QueryStatus
from review.models import Lock, Signature, Verification
from tests.e2e.second_factor import pass_second_factor
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


def _journey_shot(page, name: str) -> None:
    page.screenshot(path=str(Path(tempfile.gettempdir()) / f"journey_{name}.png"), full_page=True)


# Six items one point below normal at month 6 (total 42; 41 once swallowing is corrected):
# the month-12 form entered as all normal (48) is 7 above it, no item rising by 2.
M06_SCORES = ALSFRS_NORMAL | {
    "q1_speech": 3,
    "q2_salivation": 3,
    "q4_handwriting": 3,
    "q6_dressing_hygiene": 3,
    "q7_turning_in_bed": 3,
    "q8_walking": 3,
}


def _as(browser, live_server, user, viewport=DESKTOP):
    context = browser.new_context(locale="en-GB", timezone_id="Asia/Tehran", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, user.username)
    return page


def test_verify_query_correct_close_sign_and_lock(
    live_server, browser, monkeypatch, coordinator_a, monitor_a, site_a, trial, django_user_model
):
    # A save's after-commit work (answering queries, the edit checks) runs at once, in the
    # request: each service's changes keep its own audit reason (trials.history.audit_context).
    monkeypatch.setattr(tasks.after_record_saved, "delay", query_services.after_record_saved)
    today = site_a.local_today()
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=today - timedelta(days=380), name="Reza Review"
    )
    m06, m12 = (participant.visits.get(code=code) for code in ("M06", "M12"))
    assert m12.target_date <= today
    m06 = record_visit_date(actor=coordinator_a, visit=m06, actual_date=m06.target_date)
    m12 = record_visit_date(actor=coordinator_a, visit=m12, actual_date=m12.target_date)
    alsfrs = save_crf(coordinator_a, m06, AlsfrsR, M06_SCORES)
    assert not Query.objects.exists()  # month 6 is below screening: no check fires
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
    assert "3. Swallowing" in monitor.get_by_test_id("query-facts").inner_text()

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

    # The coordinator enters month 12 as all normal: the total rose by 7 since month 6, and
    # the edit check (run after the commit, as the worker would) raises its query.
    m12_form_url = f"{participant_url}visits/{m12.pk}/forms/alsfrs_r/"
    coordinator.goto(m12_form_url)
    coordinator.wait_for_selector("form.crf-form")
    coordinator.wait_for_load_state("domcontentloaded")
    for name, score in ALSFRS_NORMAL.items():
        coordinator.locator(f"input[name={name}][value='{score}']").check()
    coordinator.get_by_label("Mark the form complete").check()
    coordinator.get_by_role("button", name="Save").click()
    coordinator.wait_for_selector("text=ALSFRS-R saved.")
    m12_alsfrs = AlsfrsR.objects.get(visit=m12)
    assert m12_alsfrs.total == 48
    check_query = Query.objects.get(record_pk=m12_alsfrs.pk, record_type="alsfrs_r")
    assert (check_query.check_key, check_query.status) == ("alsfrs_r_total_rise", "open")
    coordinator.goto(m12_form_url)
    assert "1 open query" in coordinator.get_by_test_id("record-queries").inner_text()
    coordinator.get_by_test_id("record-queries").get_by_role("link", name="1 open query").click()
    listed = coordinator.get_by_test_id("queries").inner_text()
    assert "ALSFRS-R" in listed and "M12" in listed
    _journey_shot(coordinator, "check_query_list")
    coordinator.get_by_test_id("queries").get_by_role("link", name=str(check_query.pk)).click()
    thread = coordinator.get_by_test_id("thread").inner_text()
    assert "total rose from 41 at M06 to 48 at M12 (+7)" in thread
    assert "Edit check" in thread
    _journey_shot(coordinator, "check_query_open")

    # ... and corrects two items from the record's page, with a reason: the rise is 5, and
    # the check closes its query itself.
    coordinator.get_by_test_id("record-link").click()
    coordinator.wait_for_selector("form.crf-form")
    coordinator.wait_for_load_state("domcontentloaded")
    coordinator.locator("input[name=q1_speech][value='3']").check()
    coordinator.locator("input[name=q2_salivation][value='3']").check()
    coordinator.locator("#id_reason_for_change").fill("Speech and salivation misread, source 3")
    coordinator.get_by_role("button", name="Save").click()
    coordinator.wait_for_selector("text=ALSFRS-R saved.")
    check_query.refresh_from_db()
    assert check_query.status == QueryStatus.CLOSED and check_query.closed_by_check
    coordinator.goto(f"{sites}/queries/{check_query.pk}/")
    facts = coordinator.get_by_test_id("query-facts").inner_text()
    assert "by the edit check" in facts
    _journey_shot(coordinator, "check_query_closed")
    coordinator.goto(m12_form_url)
    assert "open query" not in coordinator.get_by_test_id("record-queries").inner_text()

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

    # A write through the read API is refused, with the coordinator's own token.
    coordinator.goto(f"{live_server.url}/account/api-token/")
    coordinator.get_by_role("button", name="Create a token").click()
    token = coordinator.locator("#api-token").inner_text()
    api = coordinator.request
    headers = {"Authorization": f"Token {token}"}
    api_url = f"{live_server.url}/api/v1/participants/{participant.pk}/"
    assert api.get(api_url, headers=headers).status == 200
    for write in (api.patch, api.put, api.delete):
        assert write(api_url, headers=headers, data={"status": "withdrawn"}).status == 405
    records_url = f"{live_server.url}/api/v1/forms/alsfrs_r/records/"
    assert api.post(records_url, headers=headers, data={"q3_swallowing": 4}).status == 405

    # The admin shows the locked record read-only, with its lock and no Save; a POST of the
    # change form (with its CSRF token, as the browser would send it) is refused.
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    admin = browser.new_context(locale="en-GB", viewport=DESKTOP).new_page()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.get_by_label("Username").fill("root")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    pass_second_factor(admin, live_server.url)
    admin.wait_for_url(f"{live_server.url}/admin/")
    meta = AlsfrsR._meta
    change_url = f"{live_server.url}/admin/{meta.app_label}/{meta.model_name}/{alsfrs.pk}/change/"
    admin.goto(change_url)
    assert "Interim analysis" in admin.locator("h1, h2").all_inner_texts().__str__()
    assert admin.locator("input[type=submit]").count() == 0
    assert admin.locator("input[name=q3_swallowing], select[name=q3_swallowing]").count() == 0
    _journey_shot(admin, "admin_locked")
    csrf = next(c["value"] for c in admin.context.cookies() if c["name"] == "csrftoken")
    refused = admin.request.post(
        change_url,
        form={"csrfmiddlewaretoken": csrf, "q3_swallowing": "4"},
        headers={"Referer": change_url},
    )
    assert refused.status == 403
    alsfrs.refresh_from_db()
    assert alsfrs.q3_swallowing == 3

    # The form's history: the entry, the correction (4 → 3) by the coordinator with the
    # reason, through the page.
    monitor.goto(f"{sites}/audit/records/alsfrs_r/{alsfrs.pk}/")
    entries = monitor.get_by_test_id("audit-entries")
    _journey_shot(monitor, "history_m06")
    rows = entries.locator("tbody tr")
    kinds = [rows.nth(i).get_attribute("data-kind") for i in range(rows.count())]
    assert "insert" in kinds and "update" in kinds
    correction = entries.locator("tr[data-kind=update]", has_text="Transcription error")
    assert correction.count() == 1
    text = " ".join(correction.inner_text().split())
    assert "3. Swallowing 4 · Normal eating habits → 3 · Early eating problems" in text, text
    assert coordinator_a.username in text or coordinator_a.get_full_name() in text, text
    inserted = " ".join(entries.locator("tr[data-kind=insert]").inner_text().split())
    assert "3. Swallowing 4" in inserted, inserted
    _journey_shot(monitor, "history_m06")
    monitor.goto(f"{sites}/audit/records/alsfrs_r/{m12_alsfrs.pk}/")
    text = " ".join(monitor.get_by_test_id("audit-entries").inner_text().split())
    assert re.search(r"1\. Speech 4 · [^→]+ → 3 · ", text), text
    assert re.search(r"2\. Salivation 4 · [^→]+ → 3 · ", text), text
    assert "Speech and salivation misread, source 3" in text
    _journey_shot(monitor, "history_m12")

    phone = _as(browser, live_server, coordinator_a, viewport=PHONE)
    for name, url in (
        ("participant_phone", participant_url),
        ("visit_phone", visit_url),
        ("form_locked_phone", form_url),
    ):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(phone, name)
