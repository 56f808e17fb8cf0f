# ruff: noqa: RUF001  (Persian digits typed and expected are meant)
"""Issue 16 in a real browser: a coordinator switches to Persian, registers a participant with
Jalali dates typed in Persian digits (the symptom onset a Jalali month alone), records the
consent, dates the M06 visit in Jalali and enters its ALSFRS-R, and sees the participant page,
the form, the reminders page and the dashboard right to left: dir=rtl, no horizontal overflow,
every radio beside its label, the English items isolated left to right. Screenshots in
$ECRF_SCREENSHOTS/persian/ (else the temporary folder's persian/)."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from participants.models import Participant
from tests.e2e.journey_steps import register
from tests.e2e.second_factor import pass_second_factor
from tests.factories import (
    PASSWORD,
    SiteFactory,
    consent_version,
    enrol,
    member,
    transplant,
    transplanted_participant,
)
from trials import jalali, services
from trials.models import Role
from trials.protocols import PROTOCOLS
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ALSFRS = {
    "q1_speech": "4",
    "q2_salivation": "4",
    "q3_swallowing": "3",
    "q4_handwriting": "3",
    "q5a_cutting_no_gastrostomy": "3",
    "q6_dressing_hygiene": "3",
    "q7_turning_in_bed": "4",
    "q8_walking": "3",
    "q9_climbing_stairs": "2",
    "q10_dyspnoea": "4",
    "q11_orthopnoea": "4",
    "q12_respiratory_insufficiency": "4",
}


def typed_jalali(day) -> str:
    """What a coordinator types on a Persian keyboard: 1404/02/15 in Persian digits."""
    year, month, dd = jalali.to_jalali(day)
    return jalali.persian_digits(f"{year:04d}/{month:02d}/{dd:02d}")


def check_right_to_left(page, name: str) -> None:
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "fa"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name}: {overflow} px of horizontal overflow"
    css = page.evaluate(
        "() => [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href).join(' ')"
    )
    assert "bootstrap.rtl.min.css" in css
    # Beside the journey's pictures: $ECRF_SCREENSHOTS/persian, else the temporary folder.
    folder = Path(os.environ.get("ECRF_SCREENSHOTS") or tempfile.gettempdir()) / "persian"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def check_radios_beside_labels(page) -> int:
    """Every visible radio of a .form-check sits on its label's line, just right of the label
    (the line's start in RTL), not across the column."""
    pairs = page.evaluate(
        """() => [...document.querySelectorAll('.form-check')].map(box => {
             const input = box.querySelector('input[type=radio], input[type=checkbox]');
             const label = box.querySelector('label');
             if (!input || !label || input.offsetParent === null) return null;
             const i = input.getBoundingClientRect(), l = label.getBoundingClientRect();
             return {name: input.name, i: [i.left, i.right, i.top, i.bottom],
                     l: [l.left, l.right, l.top, l.bottom]};
           }).filter(Boolean)"""
    )
    assert pairs
    for pair in pairs:
        i_left, _i_right, i_top, i_bottom = pair["i"]
        _l_left, l_right, l_top, l_bottom = pair["l"]
        gap = i_left - l_right  # the input is right of its label's (last line's) end
        assert -2 <= gap <= 24, f"{pair['name']}: {gap:.0f} px between the label and its input"
        assert i_top < l_bottom and i_bottom > l_top, f"{pair['name']}: not on the label's line"
    return len(pairs)


def test_a_coordinator_works_in_persian_right_to_left(live_server, browser):
    base = live_server.url
    site = SiteFactory(code="ISF", name="Neurosciences Research Center, Isfahan")
    trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    consent_version(trial)
    sara = member(Role.COORDINATOR, site, "sara")
    today = site.local_today()
    # Someone with a schedule, so the reminders page and the dashboard have rows.
    transplanted_participant(sara, site, trial, on=today - timedelta(days=160), name="Other One")

    context = browser.new_context(
        locale="en-GB", timezone_id="Asia/Tehran", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "sara")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    pass_second_factor(page, base)
    page.wait_for_url(f"{base}/")
    assert page.locator("html").get_attribute("dir") == "ltr"

    # The navbar's switch.
    page.locator("#language-fa").click()
    page.wait_for_url(f"{base}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#language-en").is_visible()

    # Registration with Jalali dates typed in Persian digits: screened 220 days ago (so that
    # the M06 window is open today once transplanted 40 days later), the onset known to the
    # Jalali month only.
    screened = today - timedelta(days=220)
    onset_year, onset_month, _day = jalali.to_jalali(screened - timedelta(days=400))
    page.goto(f"{base}/sites/ISF/participants/register/")
    screened_input = page.locator("#id_screened_on")
    assert screened_input.get_attribute("type") == "text"
    assert screened_input.input_value() == typed_jalali(today)
    diagnosed = screened - timedelta(days=30)
    register(
        page,
        {
            "#id_screened_on": typed_jalali(screened),
            "#id_full_name": "Browser Person",
            "#id_national_id": "۱۲۳۴۵۶۷۸۹۰",
            "#id_date_of_birth": "۱۳۴۸/۱۰/۲۵",  # 15 January 1970
            "#id_height_cm": "۱۶۵",
            "#id_weight_kg": "۶۰٫۵",
            "#id_onset": jalali.persian_digits(f"{onset_year:04d}/{onset_month:02d}"),
            "#id_diagnosis_date": typed_jalali(diagnosed),
        },
    )
    participant = Participant.objects.get(identity__full_name="Browser Person")
    assert participant.screened_on == screened
    assert str(participant.demographics.date_of_birth) == "1970-01-15"
    assert participant.demographics.weight_kg == 60.5
    assert participant.als_history.diagnosis_date == diagnosed
    history = participant.als_history
    assert history.onset_precision == "jmon"  # a Jalali month, not refused, not Gregorian
    assert history.onset_date == jalali.from_jalali(onset_year, onset_month, 1)
    detail = page.url

    # The participant page: Jalali dates in Persian digits, ISO nowhere in the text.
    text = page.locator("main").inner_text()
    assert typed_jalali(screened) in text
    assert screened.isoformat() not in text
    assert jalali.persian_digits(f"{onset_year:04d}/{onset_month:02d}") in text  # the onset
    # Numbers in Persian digits; identifiers as they are (screening number, national ID).
    assert "۱۶۵٫۰ cm" in text and "۶۰٫۵ kg" in text
    assert participant.screening_number in text
    assert "1234567890" in text
    check_right_to_left(page, "participant")

    # A typed day the Jalali calendar lacks is a field error, nothing saved.
    page.goto(f"{base}/sites/ISF/participants/{participant.pk}/consent/")
    page.fill("#id_signed_on", "۱۴۰۴/۱۲/۳۰")
    page.locator("main button[type=submit]").click()
    assert page.locator("#id_signed_on.is-invalid").is_visible()
    assert not participant.consents.exists()
    page.fill("#id_signed_on", typed_jalali(screened))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(detail)
    assert participant.consents.get().signed_on == screened

    # Screening, enrolment and the transplantation as the services record them (the English
    # journey, tests/e2e/test_full_journey.py, walks them in the browser).
    participant = enrol(sara, participant, screened + timedelta(days=5))
    baseline = participant.visits.get(code="BL")
    record_visit_date(actor=sara, visit=baseline, actual_date=screened + timedelta(days=33))
    transplant(sara, participant, screened + timedelta(days=40))

    # The M06 visit dated in Jalali, Persian digits, on its page.
    m06 = participant.visits.get(code="M06")
    visit_url = f"{base}/sites/ISF/participants/{participant.pk}/visits/{m06.pk}/"
    page.goto(visit_url)
    date_input = page.locator("#id_actual_date")
    assert date_input.get_attribute("type") == "text"
    date_input.fill(typed_jalali(today))
    page.locator("#visit-date [type=submit]").click()
    page.wait_for_url(detail)
    m06.refresh_from_db()
    assert m06.actual_date == today

    # A form: the M06 ALSFRS-R, radios beside their labels, the English items isolated.
    url = f"{visit_url}forms/alsfrs_r/"
    page.goto(url)
    assert check_radios_beside_labels(page) >= 12 * 5
    speech = page.locator("#item-q1_speech legend span[dir=ltr][lang=en]")
    assert speech.inner_text() == "1. Speech"
    for name, value in ALSFRS.items():
        page.check(f"input[name='{name}'][value='{value}']")
    page.check("#id_mark_complete")
    page.locator("main button[type=submit]").last.click()
    page.wait_for_url(url)
    alsfrs = AlsfrsR.objects.get(visit=m06)
    assert alsfrs.status == "complete" and alsfrs.total == 41
    assert alsfrs.delta_fs is None  # ΔFS describes progression before treatment only
    # The screening ALSFRS-R's ΔFS from the Jalali-month onset, imputed at the month's 15th.
    screening = AlsfrsR.objects.get(visit__participant=participant, visit__code="SCR")
    assert screening.delta_fs is not None and screening.delta_fs_onset_imputed
    check_right_to_left(page, "form")

    # The reminders page and the dashboard.
    page.goto(f"{base}/sites/ISF/reminders/")
    check_right_to_left(page, "reminders")
    page.goto(f"{base}/reports/dashboard/")
    check_right_to_left(page, "dashboard")

    # On a phone too.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(detail)
    check_right_to_left(page, "participant_phone")
    context.close()
