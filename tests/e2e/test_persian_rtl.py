# ruff: noqa: RUF001  (Persian digits typed and expected are meant)
"""Issue 16 in a real browser: a coordinator switches to Persian, registers a participant with
Jalali dates typed in Persian digits, records the consent and a screening ALSFRS-R, and sees
the participant page, the form, the reminders page and the dashboard right to left: dir=rtl,
no horizontal overflow, every radio beside its label. Screenshots /tmp/persian_*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from participants.models import Participant
from tests.e2e.second_factor import pass_second_factor
from tests.factories import PASSWORD, SiteFactory, consent_version, member, transplanted_participant
from trials import jalali, services
from trials.models import Role
from trials.protocols import PROTOCOLS

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
    page.screenshot(path=f"/tmp/persian_{name}.png", full_page=True)  # noqa: S108


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

    # Registration with Jalali dates typed in Persian digits.
    page.goto(f"{base}/sites/ISF/participants/register/")
    screened = page.locator("#id_screened_on")
    assert screened.get_attribute("type") == "text"
    assert screened.input_value() == typed_jalali(today)
    page.fill("#id_full_name", "Browser Person")
    page.fill("#id_national_id", "۱۲۳۴۵۶۷۸۹۰")
    page.fill("#id_date_of_birth", "۱۳۴۸/۱۰/۲۵")  # 15 January 1970
    page.select_option("#id_sex", "female")
    page.fill("#id_height_cm", "۱۶۵")
    page.fill("#id_weight_kg", "۶۰٫۵")
    page.select_option("#id_ethnicity", "iranian")
    onset = today - timedelta(days=400)
    page.fill("#id_onset", jalali.persian_digits(f"{onset.year:04d}-{onset.month:02d}"))
    page.select_option("#id_onset_region", "lower_limb")
    diagnosed = today - timedelta(days=30)
    page.fill("#id_diagnosis_date", typed_jalali(diagnosed))
    page.select_option("#id_el_escorial", "probable")
    page.select_option("#id_family_history", "no")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/participants/\d+/$"))
    participant = Participant.objects.get(identity__full_name="Browser Person")
    assert participant.screened_on == today
    assert str(participant.demographics.date_of_birth) == "1970-01-15"
    assert participant.demographics.weight_kg == 60.5
    assert participant.als_history.diagnosis_date == diagnosed
    detail = page.url

    # The participant page: Jalali dates in Persian digits, ISO nowhere in the text.
    text = page.locator("main").inner_text()
    assert typed_jalali(today) in text
    assert today.isoformat() not in text
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
    page.fill("#id_signed_on", typed_jalali(today))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(detail)
    assert participant.consents.get().signed_on == today

    # A form: the screening ALSFRS-R, radios beside their labels.
    scr = participant.visits.get(code="SCR")
    url = f"{base}/sites/ISF/participants/{participant.pk}/visits/{scr.pk}/forms/alsfrs_r/"
    page.goto(url)
    assert check_radios_beside_labels(page) >= 12 * 5
    for name, value in ALSFRS.items():
        page.check(f"input[name='{name}'][value='{value}']")
    page.check("#id_mark_complete")
    page.locator("main button[type=submit]").last.click()
    page.wait_for_url(url)
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
