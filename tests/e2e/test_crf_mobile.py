"""A coordinator fills in the EMG muscle table and the ALSAQ-40 grid on a phone (390 x 844):
the page fits the screen (no sideways scrolling), the answers are labelled, big enough to
tap, and one of them is chosen and saved. Screenshots at phone and desktop width go to
/tmp/crfui_*.png for a person to look at."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crfs.emg.models import Emg, EmgMuscleFinding
from crfs.qol.models import Alsaq40
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import transplanted_participant
from tests.trials.test_digits_numbers import persian
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MIN_TARGET_PX = 44


def shot(name: str) -> str:
    """Where a screenshot goes: /tmp/crfui_<name>.png on this machine."""
    return str(Path(tempfile.gettempdir()) / f"crfui_{name}.png")


@pytest.fixture
def m06_url(live_server, coordinator_a, site_a, trial):
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=200)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=site_a.local_today() - timedelta(days=10)
    )
    return m06, (
        f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}/visits/{m06.pk}/forms"
    )


def open_form(page, live_server, coordinator_a, url: str, viewport: dict) -> None:
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(url)
    page.wait_for_selector("form.crf-form")
    page.wait_for_load_state("load")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def test_the_emg_muscle_table_fits_a_phone_and_a_finding_is_saved(
    live_server, page, coordinator_a, m06_url
):
    m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/emg/", PHONE)
    assert page_width(page) <= PHONE["width"]

    # The first listed muscle is a card: its selects carry visible labels and are tall enough.
    row = page.locator("#finding-0")
    side = row.get_by_label("Side")
    assert side.is_visible()
    assert box(side)["height"] >= MIN_TARGET_PX
    assert box(side)["x"] + box(side)["width"] <= PHONE["width"]
    muscle = row.locator("th").inner_text().strip()
    page.screenshot(path=shot("emg_phone"))
    row.scroll_into_view_if_needed()
    page.screenshot(path=shot("emg_phone_rows"))

    # Typed on a Persian keyboard: Persian digits and the decimal separator U+066B.
    page.locator("#id_cmap_median").click()
    page.keyboard.type(persian("5.2"))
    side.select_option("right")
    row.get_by_label("Fibrillations / PSW").select_option("2")
    row.get_by_label("Fasciculations").select_option("present")
    row.get_by_label("MUP morphology").select_option("neurogenic")
    row.get_by_label("Recruitment").select_option("reduced")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=EMG / nerve conduction saved")

    assert Emg.objects.get(visit=m06).cmap_median == Decimal("5.2")
    finding = EmgMuscleFinding.objects.get(emg__visit=m06)
    assert (finding.side, finding.fibrillations, finding.recruitment) == ("right", 2, "reduced")
    assert finding.get_muscle_display() in muscle
    assert page_width(page) <= PHONE["width"]


def test_the_emg_page_at_desktop_width_is_a_table(live_server, page, coordinator_a, m06_url):
    _m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/emg/", DESKTOP)
    assert page_width(page) <= DESKTOP["width"]
    assert page.locator("[data-testid=emg-findings] thead th").first.is_visible()
    # The column heading names the cell: the label is there for screen readers only.
    assert box(page.locator("#finding-0 label.crf-stack-label").first)["width"] <= 1
    page.locator("[data-testid=emg-findings]").scroll_into_view_if_needed()
    page.screenshot(path=shot("emg_desktop"))


def test_the_alsaq40_grid_fits_a_phone_and_an_answer_is_saved(
    live_server, page, coordinator_a, m06_url
):
    m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/alsaq40/", PHONE)
    assert page_width(page) <= PHONE["width"]

    item = page.locator("#item-item_01")
    item.scroll_into_view_if_needed()
    page.screenshot(path=shot("alsaq40_phone"))
    # Each answer is a labelled radio in the item's group, a target of at least 44 x 44 px
    # next to its text, inside the screen.
    group = page.get_by_role("group", name="1. Physical mobility item 1")
    choice = group.get_by_label("2 · Sometimes")
    target = box(group.locator("label.alsaq-choice").nth(2))
    assert target["height"] >= MIN_TARGET_PX and target["width"] >= MIN_TARGET_PX
    assert target["x"] >= 0 and target["x"] + target["width"] <= PHONE["width"]
    radio = box(choice)
    assert (
        target["y"] <= radio["y"] and radio["y"] + radio["height"] <= target["y"] + target["height"]
    )
    assert group.locator("label.alsaq-choice").nth(2).get_by_text("Sometimes").is_visible()

    # A tap on the answer's text (not the small radio itself) chooses it.
    group.locator("label.alsaq-choice").nth(2).get_by_text("Sometimes").click()
    assert choice.is_checked()
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=ALSAQ-40 saved")
    assert Alsaq40.objects.get(visit=m06).item_01 == 2
    assert (
        page.get_by_role("group", name="1. Physical mobility item 1")
        .get_by_label("2 · Sometimes")
        .is_checked()
    )
    assert page_width(page) <= PHONE["width"]


def test_the_alsaq40_grid_at_desktop_width_is_one_row_per_item(
    live_server, page, coordinator_a, m06_url
):
    _m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/alsaq40/", DESKTOP)
    assert page_width(page) <= DESKTOP["width"]
    item = page.locator("#item-item_01")
    legend, first, last = (
        box(item.locator("legend")),
        box(item.locator("label.alsaq-choice").first),
        box(item.locator("label.alsaq-choice").last),
    )
    # The item's name and its five answers share one line, the answers under their headings.
    assert abs(legend["y"] - first["y"]) < first["height"] and abs(first["y"] - last["y"]) < 1
    assert box(item.locator(".alsaq-choice-text").nth(2))["width"] <= 1  # under its heading
    page.locator("[data-testid=alsaq40-items]").scroll_into_view_if_needed()
    page.screenshot(path=shot("alsaq40_desktop"))


def test_a_refused_save_on_a_phone_shows_each_error_in_its_card(
    live_server, page, coordinator_a, m06_url
):
    _m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/emg/", PHONE)
    row = page.locator("#finding-0")
    row.get_by_label("Fibrillations / PSW").select_option("2")  # findings without a side
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("error-summary").wait_for()
    assert page_width(page) <= PHONE["width"]
    side = page.locator("#finding-0").get_by_label("Side")
    assert side.get_attribute("aria-invalid") == "true"
    message = page.locator("#" + side.get_attribute("aria-describedby"))
    assert "Needed when the muscle has findings" in message.inner_text()
    message.scroll_into_view_if_needed()
    assert box(message)["x"] + box(message)["width"] <= PHONE["width"]
    page.screenshot(path=shot("emg_phone_error"))

    page.goto(f"{forms}/alsaq40/")
    page.wait_for_selector("form.crf-form")
    page.get_by_label("Mark the form complete").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("error-summary").wait_for()
    assert page_width(page) <= PHONE["width"]
    item = page.locator("#item-item_01")
    assert item.get_attribute("aria-invalid") == "true"
    item.scroll_into_view_if_needed()
    page.screenshot(path=shot("alsaq40_phone_error"))


def test_right_to_left_the_phone_layout_still_fits(live_server, page, coordinator_a, m06_url):
    # The Persian interface will be right to left: the CSS uses logical properties only.
    _m06, forms = m06_url
    for form_code in ("emg", "alsaq40"):
        open_form(page, live_server, coordinator_a, f"{forms}/{form_code}/", PHONE)
        page.evaluate("document.documentElement.dir = 'rtl'")
        assert page_width(page) <= PHONE["width"]
        first = page.locator("#finding-0" if form_code == "emg" else "#item-item_01")
        first.scroll_into_view_if_needed()
        page.screenshot(path=shot(f"{form_code}_phone_rtl"))


def test_every_follow_up_form_fits_a_phone(live_server, page, coordinator_a, m06_url):
    m06, forms = m06_url
    codes = ("alsfrs_r", "fvc", "emg", "alsaq40", "seiqol", "vitals")
    assert set(codes) <= set(m06.expected_forms())
    log_in(page, live_server.url, coordinator_a.username)
    page.set_viewport_size(PHONE)
    for code in codes:
        page.goto(f"{forms}/{code}/")
        page.wait_for_selector("form.crf-form")
        assert page_width(page) <= PHONE["width"], code
        page.locator("form.crf-form").scroll_into_view_if_needed()
        page.screenshot(path=shot(f"{code}_phone_form"))
        if code == "alsfrs_r":  # each answer's label is a tap target beside its radio
            answer = page.locator("label[for=id_q1_speech_1]")
            assert box(answer)["height"] >= MIN_TARGET_PX
            radio = box(page.locator("#id_q1_speech_1"))
            assert radio["x"] + radio["width"] <= box(answer)["x"] + 8
            answer.click()
            assert page.locator("#id_q1_speech_1").is_checked()


def test_the_alsaq40_grid_is_typed_with_the_keyboard_at_desktop_width(
    live_server, page, coordinator_a, m06_url
):
    # static/js/crf.js on the fieldset-per-item grid: a digit chooses and moves on.
    m06, forms = m06_url
    open_form(page, live_server, coordinator_a, f"{forms}/alsaq40/", DESKTOP)
    page.wait_for_load_state("domcontentloaded")
    page.locator("#item-item_01 input[type=radio]").first.focus()
    answers = [n % 5 for n in range(1, 41)]
    for answer in answers:
        page.keyboard.press(str(answer))
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=ALSAQ-40 saved")
    record = Alsaq40.objects.get(visit=m06)
    assert [getattr(record, f"item_{n:02d}") for n in range(1, 41)] == answers
