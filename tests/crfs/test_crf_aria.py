"""A screen-reader user saves a CRF with a mistake: the input (or the radio group's fieldset)
in error says it is invalid and points at its error message (and help text), so the
message is read with the field. Checked on the ALSFRS-R, FVC, EMG (its muscle rows too)
and SEIQoL pages, each rendered by the shared CRF field rendering (crfs/templatetags)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.crfs.test_emg_form import CMAP, FINDINGS, form_data

pytestmark = pytest.mark.django_db

VOID = {"input", "br", "img", "hr", "meta", "link", "col", "area", "base", "source", "wbr"}


class Page(HTMLParser):
    """Every element's attributes by id, and the text inside each element that has an id."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.text: dict[str, str] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if a.get("id"):
            self.by_id[a["id"]] = a
            self.text.setdefault(a["id"], "")
        if tag not in VOID:
            self._open.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag not in VOID and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def described_text(self, element_id: str) -> str:
        ids = (self.by_id[element_id].get("aria-describedby") or "").split()
        return " ".join(self.text.get(i, "") for i in ids)

    def dangling_references(self) -> list[tuple[str, str]]:
        """(element id or tag, id) of every aria-describedby naming no element of the page."""
        return [
            (a.get("id") or tag, ref)
            for tag, a in self.elements
            for ref in (a.get("aria-describedby") or "").split()
            if ref not in self.by_id
        ]


def url(visit, form_code):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def refused(client, visit, form_code, data) -> Page:
    response = client.post(url(visit, form_code), data)
    assert response.status_code == 400
    return Page(response.text)


def assert_points_at_its_error(page: Page, element_id: str, message: str) -> None:
    element = page.by_id[element_id]
    assert element.get("aria-invalid") == "true", element
    assert message in page.described_text(element_id), (element, page.described_text(element_id))


def test_every_crf_page_refers_only_to_ids_it_has(client_for, coordinator_a, m06):
    # The help texts of "Mark the form complete" and "Reason for change" are described by id.
    client = client_for(coordinator_a)
    for form_code in ("alsfrs_r", "fvc", "emg", "alsaq40", "seiqol", "vitals"):
        page = Page(client.get(url(m06, form_code)).text)
        assert page.dangling_references() == [], form_code
    page = Page(client.get(url(m06, "alsfrs_r")).text)
    assert "Complete needs every answer" in page.described_text("id_mark_complete")


def test_alsfrs_r_radio_group_and_missing_reason_in_error(client_for, coordinator_a, m06):
    page = refused(
        client_for(coordinator_a),
        m06,
        "alsfrs_r",
        {"version": 0, "q1_speech": "7", "q3_swallowing__missing": "lazy"},
    )
    assert page.dangling_references() == []
    # The radio group: its fieldset is invalid and described by the message; each radio is
    # invalid too.
    assert_points_at_its_error(page, "item-q1_speech", "Select a valid choice")
    assert page.by_id["id_q1_speech_0"].get("aria-invalid") == "true"
    assert page.by_id["item-q2_salivation"].get("aria-invalid") is None  # not in error
    assert_points_at_its_error(page, "id_q3_swallowing__missing", "Select a valid choice")


def test_fvc_litres_in_error_point_at_their_message(client_for, coordinator_a, m06):
    page = refused(
        client_for(coordinator_a),
        m06,
        "fvc",
        {"version": 0, "measure": "FVC", "position": "sitting", "trial_1_litres": "abc"},
    )
    assert page.dangling_references() == []
    assert_points_at_its_error(page, "id_trial_1_litres", "Enter a number")
    assert page.by_id["id_trial_2_litres"].get("aria-invalid") is None


def test_emg_amplitude_and_muscle_row_in_error_point_at_their_messages(
    client_for, coordinator_a, m06
):
    rows = [FINDINGS[0] | {"fibrillations": "7"}, FINDINGS[1] | {"side": None}]
    data = form_data(CMAP | {"cmap_median": "99"}, rows, version=0)
    page = refused(client_for(coordinator_a), m06, "emg", data)
    assert page.dangling_references() == []
    assert_points_at_its_error(page, "id_cmap_median", "less than or equal to 30")
    assert_points_at_its_error(page, "id_finding-0-fibrillations", "Select a valid choice")
    assert_points_at_its_error(page, "id_finding-1-side", "Needed when the muscle has findings")
    assert page.by_id["id_finding-1-mup"].get("aria-invalid") is None


def test_seiqol_level_in_error_points_at_its_message(client_for, coordinator_a, m06):
    page = refused(
        client_for(coordinator_a),
        m06,
        "seiqol",
        {"version": 0, "cue_1_name": "family", "cue_1_level": "200"},
    )
    assert page.dangling_references() == []
    assert_points_at_its_error(page, "id_cue_1_level", "less than or equal to 100")


def test_a_field_with_help_text_points_at_its_help_and_its_error(client_for, coordinator_a, m06):
    page = refused(client_for(coordinator_a), m06, "vitals", {"version": 0, "height_cm": "tall"})
    assert page.dangling_references() == []
    assert_points_at_its_error(page, "id_height_cm", "Enter a number")
    assert "BMI uses the height in the demographics" in page.described_text("id_height_cm")


def test_the_eligibility_checklist_in_error_points_at_its_messages(
    client_for, coordinator_a, tx_participant
):
    screening = tx_participant.visits.get(code="SCR")
    page = refused(
        client_for(coordinator_a),
        screening,
        "eligibility",
        {"version": 0, "polysomnography_date": "someday", "el_escorial": "maybe"},
    )
    assert page.dangling_references() == []
    assert_points_at_its_error(page, "id_polysomnography_date", "Enter a valid date")
    assert_points_at_its_error(page, "item-el_escorial", "Select a valid choice")
