"""Issue 20's journey in a real browser, from the first sign-in to the monitor's verification.

The coordinator signs in with her password and enrols an authenticator at the first login
(the code typed from the key the page shows), registers and screens a participant (consent,
screening ALSFRS-R, spirometry, eligibility checklist), enrols her, dates the baseline and
records the transplantation. Then the clock really moves (time-machine moves it for the whole
process, so the live server's thread lives in the new time too) to the morning the month-6
window opens: the reminder scan runs as beat would run it, the idle session has ended, the
coordinator signs in again with her code and finds the M06 reminder among her notifications
and on the site's visits-due page. She dates the visit and types the M06 ALSFRS-R and FVC with
the keyboard only (Tab, arrows, space, digits, one score typed as a Persian digit), and
reports a serious adverse event. A monitor raises a query on the ALSFRS-R, the coordinator
answers it and the monitor closes it; the investigator signs the visit (password and code)
and exports the dataset, downloading the bundle; the monitor verifies the records. Every
page shown is screenshotted (see journey_steps.artefacts_dir) and checked by axe-core for
WCAG 2.1 AA violations, and the main pages again in Persian."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from exports import services as export_services
from exports import tasks as export_tasks
from participants.models import Participant
from queries import services as query_services
from queries import tasks as query_tasks
from queries.models import Query, QueryStatus
from reminders import tasks as reminder_tasks
from reminders.models import Notification, Reminder
from review.models import Signature, Verification
from safety.models import AdverseEvent
from tests.e2e.journey_steps import (
    Recorder,
    artefacts_dir,
    fresh_code,
    press_persian_digit,
    register,
    sign_in,
    tab_to,
    type_password_login,
    typed_registration,
)
from tests.e2e.test_second_factor import code_for
from tests.factories import PASSWORD, SCREENING_FVC, consent_version, member, with_authenticator
from tests.storage import use_folder
from trials.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
SCREENING_ALSFRS = {
    "q1_speech": "4",
    "q2_salivation": "4",
    "q3_swallowing": "3",
    "q4_handwriting": "3",
    "q5a_cutting_no_gastrostomy": "3",
    "q6_dressing_hygiene": "3",
    "q7_turning_in_bed": "4",
    "q8_walking": "3",
    "q9_climbing_stairs": "3",
    "q10_dyspnoea": "4",
    "q11_orthopnoea": "4",
    "q12_respiratory_insufficiency": "4",
}
EXCLUSIONS = (
    "ex_pregnancy_lactation",
    "ex_vascular_disease",
    "ex_diabetes",
    "ex_systemic_disease",
    "ex_recent_hospitalisation",
    "ex_short_survival",
    "ex_cell_culture_hypersensitivity",
)


@pytest.fixture
def in_process_workers(monkeypatch, settings, tmp_path):
    """The Celery tasks the journey starts run in the server's thread (their bodies are the
    services): the checks after a save, the reminders and alerts, the export."""
    monkeypatch.setattr(query_tasks.after_record_saved, "delay", query_services.after_record_saved)
    monkeypatch.setattr(reminder_tasks, "dispatch_send", reminder_tasks.send_reminder)
    use_folder(settings, "exports", tmp_path / "exports")
    monkeypatch.setattr(
        export_tasks.run_export_job, "delay", lambda job_id: export_services.run_export(job_id)
    )


def _context_page(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Asia/Tehran", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_the_whole_journey(live_server, browser, time_machine, site_a, trial, in_process_workers):
    base = live_server.url
    sites = f"{base}/sites/{site_a.code}"
    consent_version(trial)
    coordinator = member(Role.COORDINATOR, site_a, "sara")
    investigator = member(Role.INVESTIGATOR, site_a, "reza")
    monitor = member(Role.MONITOR, site_a, "mina")
    investigator_device = with_authenticator(investigator)
    monitor_device = with_authenticator(monitor)
    shots = Recorder(artefacts_dir())
    unringed: list[str] = []  # focused elements without a visible focus indicator
    today = site_a.local_today()

    # --- The coordinator's first sign-in: she enrols an authenticator app.
    page = _context_page(browser)
    type_password_login(page, base, coordinator.username)
    page.wait_for_url("**/accounts/two-factor/enrol/**")
    assert page.get_by_test_id("qr").locator("svg").count() == 1
    shots.page(page, "enrol_authenticator")
    secret = page.get_by_test_id("secret").inner_text()
    page.get_by_label("Code shown by the app").press_sequentially(code_for(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/two-factor/backup-codes/**")
    assert page.get_by_test_id("backup-codes").locator("li").count() == 10
    shots.page(page, "backup_codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(f"{base}/")
    shots.page(page, "home")
    coordinator_device = TOTPDevice.objects.get(user=coordinator, confirmed=True)

    # --- Registration.
    page.goto(f"{sites}/participants/register/")
    shots.page(page, "register")
    register(page, typed_registration("Journey Person", today))
    participant = Participant.objects.get()
    participant_url = page.url
    shots.page(page, "registered")

    # --- Consent.
    page.get_by_role("link", name="Record a consent").click()
    page.wait_for_url("**/consent/")
    shots.page(page, "consent")
    page.get_by_role("button", name="Record the consent").click()
    page.wait_for_url(participant_url)
    assert "version 1.0 signed" in page.get_by_test_id("consent").inner_text()

    # --- Screening: ALSFRS-R, spirometry, then the checklist.
    scr = participant.visits.get(code="SCR")
    scr_forms = f"{participant_url}visits/{scr.pk}/forms"
    page.goto(f"{participant_url}visits/{scr.pk}/")
    shots.page(page, "screening_visit")
    page.goto(f"{scr_forms}/alsfrs_r/")
    page.wait_for_load_state("domcontentloaded")
    for name, value in SCREENING_ALSFRS.items():
        page.check(f"input[name='{name}'][value='{value}']")
    page.check("#id_mark_complete")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=ALSFRS-R saved.")
    shots.page(page, "screening_alsfrs_r")
    page.goto(f"{scr_forms}/fvc/")
    page.select_option("#id_measure", SCREENING_FVC["measure"])
    page.select_option("#id_position", SCREENING_FVC["position"])
    for n in (1, 2, 3):
        page.fill(f"#id_trial_{n}_litres", str(SCREENING_FVC[f"trial_{n}_litres"]))
    page.check("#id_mark_complete")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=saved.")
    shots.page(page, "screening_fvc")
    page.goto(f"{scr_forms}/eligibility/")
    page.check("input[name='progression_6_months'][value='True']")
    page.fill("#id_polysomnography_date", (today - timedelta(days=3)).isoformat())
    page.check("input[name='polysomnography_result'][value='normal']")
    for name in EXCLUSIONS:
        page.check(f"input[name='{name}'][value='False']")
    page.check("#id_mark_complete")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{scr_forms}/eligibility/")
    assert page.get_by_test_id("decision").inner_text() == "Eligible"
    shots.page(page, "eligibility")

    # --- Enrolment.
    page.goto(participant_url)
    page.get_by_role("link", name="Enrol", exact=True).click()
    shots.page(page, "enrol")
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(participant_url)
    participant.refresh_from_db()
    assert participant.status == "enrolled" and participant.study_id
    assert page.get_by_test_id("participant-status").inner_text() == "Enrolled"
    shots.page(page, "enrolled")

    # --- Baseline visit dated today, then the transplantation.
    baseline = participant.visits.get(code="BL")
    page.goto(f"{participant_url}visits/{baseline.pk}/")
    page.get_by_label("Visit date").first.fill(today.isoformat())
    page.get_by_role("button", name="Save the date").click()
    page.wait_for_load_state()
    baseline.refresh_from_db()
    assert baseline.actual_date == today
    shots.page(page, "baseline_visit")
    page.goto(participant_url)
    page.get_by_role("link", name="Record the transplantation").click()
    page.wait_for_url("**/transplantation/")
    shots.page(page, "transplantation_form")
    page.fill("#id_performed_date", today.isoformat())
    page.fill("#id_performed_time", "09:30")
    page.select_option("#id_route", "both")
    page.fill("#id_injection_level", "L3-L4")
    page.fill("#id_cell_dose", "100000000")
    page.fill("#id_viability_percent", "95")
    page.fill("#id_volume_ml", "10")
    page.fill("#id_cell_lot", "LOT-J1")
    page.select_option("#id_needle_type", "atraumatic")
    page.fill("#id_needle_gauge", "25")
    page.fill("#id_operator", "Dr. Operator")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(participant_url)
    participant.refresh_from_db()
    assert participant.status == "transplanted"
    shots.page(page, "transplanted")
    m06 = participant.visits.get(code="M06")
    assert m06.window_start > today

    # --- The clock moves to the morning the month-6 window opens: nothing is due before.
    # One reminder per channel (e-mail and in the app), due together.
    opens = Reminder.objects.filter(visit=m06, kind="window_opens", recipient=coordinator)[0]
    assert not Notification.objects.exists()
    time_machine.move_to(opens.due_at + timedelta(hours=1), tick=True)
    day = site_a.local_today()
    assert day == m06.window_start
    reminder_tasks.scan_due_reminders()  # as beat runs it
    m06_notes = Notification.objects.filter(user=coordinator)
    assert m06_notes.exists()

    # Her session ended while she was away; she signs in again, with her code.
    page.goto(f"{base}/notifications/")
    page.wait_for_url("**/accounts/login/**")
    shots.page(page, "signed_out")
    sign_in(page, base, coordinator, coordinator_device, shots)
    page.goto(f"{base}/notifications/")
    notes = page.locator(".list-group").inner_text()
    assert "M06" in notes or "Month 6" in notes, notes
    shots.page(page, "notifications")
    page.goto(f"{sites}/reminders/")
    window_open = page.locator("table").nth(1)
    assert participant.study_id in window_open.inner_text()
    shots.page(page, "visits_due")
    window_open.get_by_role("link", name="M06").click()
    visit_url = f"{participant_url}visits/{m06.pk}/"
    page.wait_for_url(visit_url)
    shots.page(page, "m06_visit")

    # --- M06: the visit date, then the ALSFRS-R and FVC by keyboard only.
    tab_to(page, "#id_actual_date", unringed=unringed)
    # Chromium's date input: its parts in the order of the browser's own locale (month first
    # in Debian's headless build, whatever the page's locale); Shift+Tab goes back a part.
    date_input = page.locator("#id_actual_date")
    type_date(page, day, ("%m", "%d", "%Y"))
    if date_input.input_value() != day.isoformat():
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        type_date(page, day, ("%d", "%m", "%Y"))
    assert date_input.input_value() == day.isoformat()
    tab_to(page, "#visit-date [type=submit]", limit=10, unringed=unringed)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(participant_url)
    m06.refresh_from_db()
    assert m06.actual_date == day
    shots.page(page, "m06_dated")

    # From the participant's subject matrix to the M06 ALSFRS-R, with Tab and Enter.
    tab_to(page, "[data-testid=cell-M06-alsfrs_r]", limit=250, unringed=unringed)
    page.keyboard.press("Enter")
    page.wait_for_url("**/forms/alsfrs_r/")
    page.wait_for_selector("form.crf-form")
    page.wait_for_load_state("domcontentloaded")  # crf.js is deferred
    tab_to(page, "#id_q1_speech_0", unringed=unringed)
    # 1-3 typed as digits, 4 as a Persian digit (۳), 5a typed, 5b passed with Tab, then the
    # rest; item 8 chosen with the arrows instead (the radio group's own keys), then 9-12.
    for score in "433":
        page.keyboard.press(score)
    press_persian_digit(page, "۳")
    page.keyboard.press("3")  # 5a
    page.keyboard.press("Tab")  # 5b stays empty (no gastrostomy)
    for score in "33":  # 6, 7
        page.keyboard.press(score)
    # Item 8: the first radio has the focus; ArrowDown walks the group and checks as it goes.
    assert page.evaluate("document.activeElement.name") == "q8_walking"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    walking = page.locator("input[name=q8_walking]:checked").get_attribute("value")
    tab_to(page, "[name=q9_climbing_stairs]", unringed=unringed)
    for score in "2444":
        page.keyboard.press(score)
    tab_to(page, "#id_mark_complete", limit=60, unringed=unringed)
    page.keyboard.press("Space")
    tab_to(page, "form.crf-form [type=submit]", limit=60, unringed=unringed)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=ALSFRS-R saved.")
    alsfrs = AlsfrsR.objects.get(visit=m06)
    assert (alsfrs.q1_speech, alsfrs.q2_salivation, alsfrs.q3_swallowing) == (4, 3, 3)
    assert alsfrs.q4_handwriting == 3  # the Persian ۳
    assert alsfrs.q5b_cutting_gastrostomy is None and alsfrs.q5a_cutting_no_gastrostomy == 3
    assert str(alsfrs.q8_walking) == walking
    assert (alsfrs.q9_climbing_stairs, alsfrs.q12_respiratory_insufficiency) == (2, 4)
    assert alsfrs.status == "complete"
    shots.page(page, "m06_alsfrs_r")

    page.goto(f"{visit_url}forms/fvc/")
    page.wait_for_load_state("domcontentloaded")
    tab_to(page, "#id_measure", unringed=unringed)
    while page.locator("#id_measure").input_value() != "FVC":
        page.keyboard.press("ArrowDown")
    tab_to(page, "#id_position", unringed=unringed)
    while page.locator("#id_position").input_value() != "sitting":
        page.keyboard.press("ArrowDown")
    for n, litres in ((1, "2.41"), (2, "2.47"), (3, "2.44")):
        tab_to(page, f"#id_trial_{n}_litres", unringed=unringed)
        page.keyboard.type(litres)
    # The second manoeuvre was not acceptable: Shift+Tab back to its box, Space unticks it.
    tab_to(page, "#id_trial_3_acceptable", unringed=unringed)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "id_trial_2_acceptable"
    page.keyboard.press("Space")
    tab_to(page, "#id_mark_complete", unringed=unringed)
    page.keyboard.press("Space")
    tab_to(page, "form.crf-form [type=submit]", limit=60, unringed=unringed)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=saved.")
    fvc = Fvc.objects.get(visit=m06)
    assert (fvc.measure, fvc.position, fvc.status) == ("FVC", "sitting", "complete")
    assert not fvc.trial_2_acceptable and fvc.best_litres == fvc.trial_3_litres
    assert fvc.percent_predicted is not None
    shots.page(page, "m06_fvc")

    # --- A serious adverse event at M06.
    page.goto(f"{visit_url}safety/")
    shots.page(page, "m06_safety")
    page.get_by_role("link", name="Report an adverse event at this visit").click()
    page.wait_for_url(f"{participant_url}adverse-events/new/?visit={m06.pk}")
    page.get_by_label("Verbatim term").fill("Fever and stiff neck, admitted to hospital")
    page.get_by_label("Coded term").select_option(label="Meningitis")
    page.get_by_label("Onset").fill((day - timedelta(days=2)).isoformat())
    page.get_by_label("Ongoing").check()
    page.locator("#item-grade").get_by_label("3 · Severe or medically significant").check()
    page.locator("#item-serious").get_by_label("Yes").check()
    page.get_by_label("Requires or prolongs hospitalisation").check()
    page.locator("#item-related_procedure").get_by_label("Possible").check()
    page.locator("#item-related_cells").get_by_label("Unlikely").check()
    page.get_by_label("Action taken").select_option(label="Hospitalisation")
    page.get_by_label("Outcome").select_option(label="Recovering / resolving")
    page.get_by_label("Mark the form complete").check()
    shots.page(page, "sae_form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{participant_url}adverse-events/*/")
    event = AdverseEvent.objects.get(participant=participant)
    assert event.serious and event.visit_id == m06.pk
    assert investigator.email in {address for message in mail.outbox for address in message.to}
    shots.page(page, "sae_saved")

    # --- The monitor raises a query on the M06 ALSFRS-R.
    monitor_page = _context_page(browser)
    sign_in(monitor_page, base, monitor, monitor_device, shots)
    shots.page(monitor_page, "monitor_home")
    monitor_page.goto(f"{visit_url}forms/alsfrs_r/")
    shots.page(monitor_page, "monitor_reads_alsfrs_r")
    monitor_page.get_by_test_id("record-queries").get_by_role("link", name="Raise a query").click()
    shots.page(monitor_page, "query_open")
    monitor_page.get_by_label("About").select_option("q9_climbing_stairs")
    monitor_page.get_by_label("Message").fill("Climbing stairs 2 at M06: the notes say 3?")
    monitor_page.get_by_role("button", name="Open the query").click()
    monitor_page.wait_for_url(f"{sites}/queries/*/")
    query = Query.objects.get(record_type="alsfrs_r", opened_by=monitor)
    assert query.status == QueryStatus.OPEN
    shots.page(monitor_page, "query_opened")

    # --- The coordinator answers it from her query list.
    page.goto(f"{sites}/queries/")
    shots.page(page, "query_list")
    page.get_by_test_id("queries").get_by_role("link", name=str(query.pk), exact=True).click()
    page.wait_for_url(f"{sites}/queries/{query.pk}/")
    page.get_by_label("Message").fill("Checked the source: 2 is right (needs a rail).")
    shots.page(page, "query_answer")
    page.get_by_role("button", name="Answer").click()
    page.wait_for_load_state()
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    shots.page(page, "query_answered")
    monitor_page.goto(f"{sites}/queries/{query.pk}/")
    monitor_page.get_by_role("button", name="Close the query").click()
    monitor_page.wait_for_load_state()
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    shots.page(monitor_page, "query_closed")

    # --- The investigator signs the visit with password and code, then exports.
    signer = _context_page(browser)
    sign_in(signer, base, investigator, investigator_device, shots)
    shots.page(signer, "investigator_home")
    signer.goto(visit_url)
    signer.get_by_test_id("sign-visit").click()
    shots.page(signer, "sign_visit")
    signer.get_by_label("Your password (signature)").fill(PASSWORD)
    signer.get_by_label("Code from your authenticator app").press_sequentially(
        fresh_code(investigator_device)
    )
    signer.get_by_role("button", name="Sign").click()
    signer.wait_for_url(f"{sites}/review/participants/{participant.pk}/")
    assert Signature.objects.filter(participant=participant, invalidated_at=None).exists()
    shots.page(signer, "signed")

    signer.goto(f"{base}/exports/")
    shots.page(signer, "export_form")
    signer.get_by_role("button", name="Start the export").click()
    signer.wait_for_url(re.compile(r"/exports/\d+/$"))
    download = signer.locator("#export-status").get_by_role("link", name=re.compile("Download"))
    download.wait_for()
    shots.page(signer, "export_done")
    with signer.expect_download() as info:
        download.click()
    bundle = io.BytesIO(info.value.path().read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        alsfrs_file = next(n for n in names if "alsfrs_r" in n and n.endswith(".csv"))
        rows = list(csv.DictReader(io.StringIO(archive.read(alsfrs_file).decode("utf-8-sig"))))
    assert any("README" in n for n in names), names
    assert len(rows) == 2, rows  # screening and month 6
    assert "Journey Person" not in archive_text(bundle)  # de-identified by default

    # --- The monitor verifies the month-6 records.
    for key, record in (("alsfrs_r", alsfrs), ("fvc", fvc)):
        monitor_page.goto(
            f"{sites}/review/participants/{participant.pk}/records/{key}/{record.pk}/"
        )
        shots.page(monitor_page, f"verify_{key}")
        monitor_page.get_by_label("Verify the whole record").check()
        monitor_page.get_by_role("button", name="Mark as source verified").click()
        monitor_page.wait_for_load_state()
        assert Verification.objects.filter(record_id=record.pk, cleared_at=None).exists()
    monitor_page.goto(participant_url)
    cell = monitor_page.get_by_test_id("cell-M06-alsfrs_r")
    assert cell.get_attribute("title") in ("Source verified", "Signed")
    shots.page(monitor_page, "monitor_participant")

    # --- The coordinator's main pages again, in Persian.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "fa", "url": base}])
    page.context.set_extra_http_headers({"Accept-Language": "fa"})
    persian = {
        "home": f"{base}/",
        "participants": f"{sites}/participants/",
        "participant": participant_url,
        "visit": visit_url,
        "alsfrs_r": f"{visit_url}forms/alsfrs_r/",
        "fvc": f"{visit_url}forms/fvc/",
        "safety": f"{visit_url}safety/",
        "adverse_event": f"{participant_url}adverse-events/{event.pk}/",
        "query": f"{sites}/queries/{query.pk}/",
        "visits_due": f"{sites}/reminders/",
        "notifications": f"{base}/notifications/",
    }
    for name, url in persian.items():
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "fa", url
        assert page.locator("html").get_attribute("dir") == "rtl", url
        shots.page(page, f"fa_{name}")

    for context in {p.context for p in (page, monitor_page, signer)}:
        context.close()
    assert shots.found == {}, "\n".join(f"{k}: {v}" for k, v in shots.found.items())
    assert unringed == []


def archive_text(bundle: io.BytesIO) -> str:
    with zipfile.ZipFile(bundle) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()
        )


def type_date(page, day, parts) -> None:
    for part in parts:
        page.keyboard.type(day.strftime(part))
