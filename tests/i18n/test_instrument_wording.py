"""The instruments' wording in another language comes only from a file the trial provides.

The files under tests/i18n/fixtures are TEST FIXTURES with placeholder texts ("[متن آزمایشی]",
"test text"): not validated wording, never to be loaded on a real site.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crfs.alsfrs_r.scoring import ITEMS
from crfs.qol.scoring import ALSAQ40_ITEMS, RESPONSES
from crfs.wording.models import InstrumentWording
from crfs.wording.selectors import current_wording
from crfs.wording.spec import FORMAT, WordingFileError, parse
from tests.i18n import pofile

FIXTURES = Path(__file__).parent / "fixtures"
ALSFRS_R_FILE = FIXTURES / "TEST-FIXTURE-alsfrs_r-fa.json"
ALSAQ40_FILE = FIXTURES / "TEST-FIXTURE-alsaq40-fa.json"
SEIQOL_FILE = FIXTURES / "TEST-FIXTURE-seiqol-fa.json"
LANGUAGES = ("en", "fa")
PO = Path(__file__).resolve().parents[2] / "locale" / "fa" / "LC_MESSAGES" / "django.po"
NOTE_FA = "هیچ نسخه معتبر فارسی"  # the start of the note's Persian translation
# Persian pages show digits in Persian: the assertions read them back as ASCII.
ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹\u066b", "0123456789.")  # \u066b: the decimal point


def url(visit, form_code):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def persian(client, visit, form_code):
    response = client.get(url(visit, form_code), HTTP_ACCEPT_LANGUAGE="fa")
    assert response.status_code == 200
    assert 'lang="fa"' in response.text
    return response.text.translate(ASCII_DIGITS)


def load(path):
    call_command("load_instrument_wording", str(path), stdout=io.StringIO())


# --- the file ------------------------------------------------------------------------


def test_the_fixtures_are_marked_as_test_fixtures_not_validated_wording():
    for path in (ALSFRS_R_FILE, ALSAQ40_FILE, SEIQOL_FILE):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["note"].startswith("TEST FIXTURE, NOT VALIDATED WORDING")
        assert "not a validated translation" in data["source"]


def test_a_complete_file_parses_into_items_anchors_source_and_version():
    wording = parse(ALSFRS_R_FILE.read_bytes(), LANGUAGES)
    assert wording.instrument == "alsfrs_r" and wording.language == "fa"
    assert wording.version == "test-fixture-1"
    assert set(wording.texts["items"]) == {item.code for item in ITEMS}
    assert wording.texts["items"]["5b"]["anchors"]["0"] == "[متن آزمایشی] گویه 5b، پاسخ 0"
    assert len(wording.sha256) == 64


def _file(**changes) -> bytes:
    data = json.loads(ALSFRS_R_FILE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()


def _without_item(code):
    data = json.loads(ALSFRS_R_FILE.read_text(encoding="utf-8"))
    del data["items"][code]
    return data["items"]


def _without_anchor(code, score):
    data = json.loads(ALSFRS_R_FILE.read_text(encoding="utf-8"))
    del data["items"][code]["anchors"][score]
    return data["items"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not a UTF-8 JSON file"),
        (_file(format="other/1"), f'"format" must be "{FORMAT}"'),
        (_file(instrument="ALSFRS"), '"instrument" must be one of'),
        (_file(language="en"), "English is the published original"),
        (_file(language="de"), '"language" must be one of'),
        (_file(source=" "), '"source"'),
        (_file(version=None), '"version"'),
        (_file(items=_without_item("5a")), '"items": missing 5a'),
        (_file(items=_without_anchor("12", "0")), 'item "12" anchors: missing 0'),
        (_file(anchors={"0": "x"}), '"anchors": ALSFRS-R has none'),
        (_file(extra="x"), "unknown fields: extra"),
    ],
)
def test_an_incomplete_or_wrong_file_is_refused_with_its_problems(content, problem):
    with pytest.raises(WordingFileError) as error:
        parse(content, LANGUAGES)
    assert any(problem in p for p in error.value.problems), error.value.problems


# --- loading -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_stores_the_wording_with_its_source_version_and_an_audit_event(
    coordinator_a,
):
    call_command(
        "load_instrument_wording",
        str(ALSFRS_R_FILE),
        "--user",
        coordinator_a.username,
        stdout=io.StringIO(),
    )
    row = InstrumentWording.objects.get()
    assert (row.instrument, row.language, row.version) == ("alsfrs_r", "fa", "test-fixture-1")
    assert row.source == "Test fixture of the ALS eCRF tests (not a validated translation)"
    assert row.file_name == ALSFRS_R_FILE.name and row.loaded_by == coordinator_a
    assert current_wording("alsfrs_r", "fa") == row
    assert current_wording("alsfrs_r", "en") is None
    event = row.events.get()  # type: ignore[attr-defined]
    assert event.pgh_label == "insert"
    assert event.pgh_context["reason"].startswith("instrument wording loaded: TEST-FIXTURE")
    assert event.pgh_context["actor_id"] == coordinator_a.pk
    assert event.pgh_context["command"] == "load_instrument_wording"


@pytest.mark.django_db
def test_loading_the_same_file_again_changes_nothing_and_new_wording_needs_a_new_version(
    tmp_path,
):
    load(ALSFRS_R_FILE)
    load(ALSFRS_R_FILE)
    assert InstrumentWording.objects.count() == 1
    data = json.loads(ALSFRS_R_FILE.read_text(encoding="utf-8"))
    data["items"]["1"]["text"] = "[متن آزمایشی] گویه 1، اصلاح‌شده"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="loaded before with other wording"):
        load(changed)
    data["version"] = "test-fixture-2"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    load(changed)
    assert current_wording("alsfrs_r", "fa").version == "test-fixture-2"
    assert InstrumentWording.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_file_is_refused_by_the_command_and_nothing_is_stored(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(_file(items=_without_item("3")))
    with pytest.raises(CommandError, match='"items": missing 3'):
        load(bad)
    with pytest.raises(CommandError, match="no such file"):
        load(tmp_path / "absent.json")
    assert not InstrumentWording.objects.exists()


# --- the pages -----------------------------------------------------------------------


def test_without_a_loaded_wording_a_persian_alsfrs_r_page_keeps_the_english_items_and_says_so(
    client_for, coordinator_a, m06
):
    html = persian(client_for(coordinator_a), m06, "alsfrs_r")
    assert 'data-testid="instrument-wording-missing"' in html
    assert NOTE_FA in html
    assert "1. Speech" in html and "4 · Normal speech processes" in html
    assert "Marked drooling; requires constant tissue or handkerchief" in html
    assert "[متن آزمایشی]" not in html


def test_with_a_loaded_wording_a_persian_alsfrs_r_page_shows_it_with_its_source_and_version(
    client_for, coordinator_a, m06, django_assert_max_num_queries
):
    load(ALSFRS_R_FILE)
    html = persian(client_for(coordinator_a), m06, "alsfrs_r")
    assert 'data-testid="instrument-wording-missing"' not in html
    assert "1. [متن آزمایشی] گویه 1" in html
    assert "4 · [متن آزمایشی] گویه 1، پاسخ 4" in html
    assert "0 · [متن آزمایشی] گویه 12، پاسخ 0" in html
    assert "Normal speech processes" not in html
    source = html.split('data-testid="instrument-wording-source">', 1)[1].split("</p>", 1)[0]
    assert "Test fixture of the ALS eCRF tests (not a validated translation)" in source
    assert "test-fixture-1" in source


def test_an_english_page_shows_the_published_english_even_with_a_persian_wording_loaded(
    client_for, coordinator_a, m06
):
    load(ALSFRS_R_FILE)
    response = client_for(coordinator_a).get(url(m06, "alsfrs_r"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.text
    assert "1. Speech" in html and "[متن آزمایشی]" not in html
    assert "instrument-wording-missing" not in html and "instrument-wording-source" not in html


def test_the_alsaq40_page_in_persian_shows_the_loaded_items_and_answers_or_the_note(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    html = persian(client, m06, "alsaq40")
    assert NOTE_FA in html
    assert ALSAQ40_ITEMS[0].label in html  # the neutral label: no wording is reproduced
    assert "Always or cannot do at all" in html
    load(ALSAQ40_FILE)
    html = persian(client, m06, "alsaq40")
    assert NOTE_FA not in html
    assert "[متن آزمایشی] پرسش 40" in html
    assert "4 · [متن آزمایشی] پاسخ 4" in html  # each radio's answer
    assert RESPONSES[4] not in html


def test_the_seiqol_page_in_persian_shows_the_loaded_instructions_or_the_note(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    html = persian(client, m06, "seiqol")
    assert NOTE_FA in html and "seiqol-wording" not in html
    load(SEIQOL_FILE)
    html = persian(client, m06, "seiqol")
    assert NOTE_FA not in html
    assert "[متن آزمایشی] دستور اجرا" in html and "[متن آزمایشی] بهترین" in html


def test_no_instrument_wording_is_in_the_translation_catalogue():
    """The items' and answers' wording never goes through gettext (a translator's or a
    machine's translation): only the trial's validated file gives another language."""
    catalogue = {msgid for _ctx, msgid in pofile.messages(PO)}
    texts = {item.name for item in ITEMS} | {level.text for item in ITEMS for level in item.levels}
    texts |= {level.short for item in ITEMS for level in item.levels}
    texts |= set(RESPONSES.values())
    # One-word anchors the catalogue has for other uses ("Normal" polysomnography, "None"
    # as an adverse event's action taken).
    shared = {"Normal", "None"}
    assert not sorted((texts - shared) & catalogue)


def test_an_implausible_fvc_volume_is_refused_in_the_pages_language(client_for, coordinator_a, m06):
    """The pure scoring words its reasons in English; the form says them in Persian."""
    data = {"version": 0, "trial_1_litres": "0.05", "trial_1_acceptable": "on"}
    client = client_for(coordinator_a)
    response = client.post(url(m06, "fvc"), data, HTTP_ACCEPT_LANGUAGE="fa")
    assert response.status_code == 400
    html = response.text.translate(ASCII_DIGITS)
    assert "0.05 L کمتر از 0.20 L است، ظرفیت حیاتی پذیرفتنی‌ای نیست" in html
    assert "not a plausible vital capacity" not in html
    english = client.post(url(m06, "fvc"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert "0.05 L is below 0.20 L, not a plausible vital capacity" in english.text
