"""Visit attendance apart from data completeness, and the subject matrix (visits by forms):
a dated visit whose forms are empty is "Attended", not "Done", with "0 / n forms complete";
the matrix shows each form's state at each visit, links into the entry pages, and costs the
same number of queries for 2 and for 6 dated visits with forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from clinic.selectors import FormState
from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from tests.factories import (
    ALSFRS_NORMAL,
    SCREENING_FVC,
    enrol,
    register,
    save_crf,
    transplant,
)
from visits.services import mark_visit_missed, record_visit_date

pytestmark = pytest.mark.django_db


def _cells(response) -> dict[tuple[str, str], object]:
    matrix = response.context["matrix"]
    return {(cell.visit_code, row.code): cell for row in matrix.rows for cell in row.cells}


def test_a_dated_visit_with_empty_forms_is_attended_and_says_how_complete_its_data_are(
    client_for, coordinator_a, tx_participant, m06
):
    client = client_for(coordinator_a)
    page = client.get(reverse("participant-detail", args=["ISF", tx_participant.pk]))
    timeline = {row.visit.code: row for row in page.context["timeline"]}
    # M06 has a date and not one form: attended, with nothing complete.
    assert timeline["M06"].status_label == "Attended"
    assert (timeline["M06"].complete_count, timeline["M06"].expected_count) == (0, 8)
    html = page.text
    assert ">Done<" not in html
    assert "0 / 8 forms complete" in html

    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    page = client.get(reverse("participant-detail", args=["ISF", tx_participant.pk]))
    timeline = {row.visit.code: row for row in page.context["timeline"]}
    assert (timeline["M06"].complete_count, timeline["M06"].expected_count) == (1, 8)
    assert "1 / 8 forms complete" in page.text
    # Screening: consent, demographics and ALS history recorded, ALSFRS-R, FVC and the
    # checklist complete; vital signs not started.
    assert (timeline["SCR"].status_label, timeline["SCR"].complete_count) == ("Attended", 6)
    assert timeline["SCR"].expected_count == 7
    # Upcoming visits have nothing complete yet; their attendance says so.
    assert timeline["M12"].status_label == "Upcoming"
    assert timeline["M12"].complete_count == 0

    visit_page = client.get(reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]))
    assert visit_page.context["progress"].status_label == "Attended"
    assert "1 / 8 forms complete" in visit_page.text
    forms = {cell.code: cell for cell in visit_page.context["progress"].forms}
    assert forms["alsfrs_r"].state == FormState.COMPLETE
    assert forms["fvc"].state == FormState.NOT_STARTED
    assert forms["fvc"].href == reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "fvc"])
    # The safety questions are asked and not answered yet; they open the visit's safety page.
    assert forms["adverse_events"].state == FormState.NOT_ANSWERED
    assert forms["adverse_events"].href == reverse(
        "visit-safety", args=["ISF", tx_participant.pk, m06.pk]
    )
    assert "No page yet" not in visit_page.text


def test_an_out_of_window_visit_is_attended_out_of_window(
    client_for, coordinator_a, tx_participant
):
    m06 = tx_participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=m06.window_end + timedelta(days=3)
    )
    page = client_for(coordinator_a).get(
        reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk])
    )
    assert page.context["progress"].status_label == "Attended out of window"
    assert "0 / 8 forms complete" in page.text


def test_the_subject_matrix_shows_each_forms_state_at_each_visit_with_links(
    client_for, coordinator_a, monitor_a, tx_participant, m06
):
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC, complete=False)
    client = client_for(coordinator_a)
    url = reverse("participant-detail", args=["ISF", tx_participant.pk])
    response = client.get(url)
    cells = _cells(response)
    visits = [column.visit.code for column in response.context["matrix"].visits]
    assert visits == ["SCR", "BL", "TX", "M06", "M12", "M18", "M24"]
    entry = reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "alsfrs_r"])
    assert (cells["M06", "alsfrs_r"].state, cells["M06", "alsfrs_r"].href) == (
        FormState.COMPLETE,
        entry,
    )
    assert cells["M06", "fvc"].state == FormState.IN_PROGRESS
    assert cells["M06", "emg"].state == FormState.NOT_STARTED
    assert cells["M06", "conmeds"].state == FormState.NOT_ANSWERED
    assert cells["SCR", "emg"].state == FormState.NOT_EXPECTED
    assert cells["SCR", "emg"].href == ""
    assert cells["SCR", "consent"].state == FormState.RECORDED
    assert cells["TX", "transplantation"].state == FormState.RECORDED
    assert cells["SCR", "demographics"].href == reverse(
        "participant-demographics", args=["ISF", tx_participant.pk]
    )
    # Icon and words: the screen reader hears the form, the visit and the state.
    html = response.text
    assert f'href="{entry}"' in html
    assert "ALSFRS-R at M06: Complete" in html
    assert 'data-testid="matrix-legend"' in html and "Not expected at this visit" in html

    # A monitor may not enter data, but opens the same form to read it.
    monitor = client_for(monitor_a)
    cells = _cells(monitor.get(url))
    assert cells["M06", "alsfrs_r"].href == entry
    assert cells["SCR", "consent"].href == ""  # the consent page is the coordinator's
    assert cells["SCR", "demographics"].href == ""  # and so are the corrections
    assert monitor.get(entry).status_code == 200


def test_a_missed_visit_shows_its_forms_as_missed_and_no_completeness(
    client_for, coordinator_a, tx_participant, time_machine
):
    m06 = tx_participant.visits.get(code="M06")
    mark_visit_missed(actor=coordinator_a, visit=m06, reason="In hospital")
    response = client_for(coordinator_a).get(
        reverse("participant-detail", args=["ISF", tx_participant.pk])
    )
    assert _cells(response)["M06", "alsfrs_r"].state == FormState.VISIT_MISSED
    assert _cells(response)["M06", "alsfrs_r"].href == ""
    row = next(row for row in response.context["timeline"] if row.visit.code == "M06")
    assert (row.status_label, row.expects_data) == ("Missed", False)


# Session, user, memberships, site, the participant record (read once, with its
# participant-level forms), its prefetched lists (status changes with their users, consents
# with version and taker, contact attempts), the checklist, the visits, the form statuses (one
# UNION), the safety answers (events, medication and reviews by visit: three), the ALS drug
# records, the Safety card's counts, the navbar's sites and notifications; the forms' review
# states (verifications, signatures, locks by target and by site) and open queries; the
# Review card's SDV progress (two), signatures, locks and open queries; the trajectory card
# (reports: the visits with their outcomes, the adverse events, the medication).
PAGE_QUERIES = 31
# Session, user, memberships, site and participant, the visit, consent, the visit's form
# statuses, the participant-level forms, the safety answers (three), the navbar's two; the
# visit's lock, its forms' review states (four) and open queries, the visit's open queries.
VISIT_PAGE_QUERIES = 21


def _safety_records(actor, visit) -> None:
    """A serious event and an edaravone record at a follow-up visit, the "no change in
    medication" answer left out (medication is recorded there)."""
    from safety.services import save_conmed
    from tests.safety.conftest import report

    report(
        actor,
        visit,
        onset_date=visit.actual_date,
        end_date=visit.actual_date,
        grade=3,
        serious=True,
        sae_hospitalisation=True,
    )
    save_conmed(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        conmed_id=None,
        answers={
            "medication": "edaravone",
            "indication": "ALS",
            "dose": 60,
            "dose_unit": "mg",
            "route": "iv",
            "frequency": "cycles",
            "start_date": visit.actual_date,
            "start_precision": "day",
            "ongoing": True,
        },
        expected_version=0,
        complete=True,
    )


def test_the_participant_page_costs_the_same_queries_for_2_and_6_dated_visits(
    frozen, client_for, coordinator_a, site_a, trial, django_assert_num_queries
):
    """One query for every instrument's statuses (a UNION), one for the participant-level
    forms, one for the visits: not one per visit or per form."""
    tx_day = date(2024, 3, 1)  # M06 to M24 are all in the past on 2026-03-10
    participant = register(coordinator_a, site_a, trial, screened_on=tx_day - timedelta(days=40))
    participant = enrol(coordinator_a, participant, tx_day - timedelta(days=35))
    baseline = participant.visits.get(code="BL")
    baseline = record_visit_date(
        actor=coordinator_a, visit=baseline, actual_date=tx_day - timedelta(days=7)
    )
    save_crf(coordinator_a, baseline, AlsfrsR, ALSFRS_NORMAL)
    client = client_for(coordinator_a)
    url = reverse("participant-detail", args=["ISF", participant.pk])
    client.get(url)  # warm the per-process caches (protocol, registry)
    dated = [v for v in participant.visits.all() if v.actual_date]
    assert [v.code for v in dated] == ["SCR", "BL"]
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url)
    assert len(response.context["matrix"].visits) == 2

    visit_url = reverse("visit-detail", args=["ISF", participant.pk, baseline.pk])
    with django_assert_num_queries(VISIT_PAGE_QUERIES):
        client.get(visit_url)

    transplant(coordinator_a, participant, tx_day)
    for code in ("M06", "M12", "M18", "M24"):
        visit = participant.visits.get(code=code)
        visit = record_visit_date(actor=coordinator_a, visit=visit, actual_date=visit.target_date)
        save_crf(coordinator_a, visit, AlsfrsR, ALSFRS_NORMAL)
        save_crf(coordinator_a, visit, Fvc, SCREENING_FVC, complete=False)
        _safety_records(coordinator_a, visit)
    dated = [v for v in participant.visits.all() if v.actual_date]
    assert len(dated) >= 6
    with django_assert_num_queries(PAGE_QUERIES) as six:
        response = client.get(url)
    statuses = [
        q["sql"]
        for q in six.captured_queries
        if "UNION ALL" in q["sql"] and "entry_form" in q["sql"]
    ]
    assert len(statuses) == 1  # every instrument in one query
    cells = _cells(response)
    follow_ups = ("M06", "M12", "M18", "M24")
    assert {cells[code, "alsfrs_r"].state for code in follow_ups} == {FormState.COMPLETE}
    assert {cells[code, "adverse_events"].state_label for code in follow_ups} == {
        "1 event reported"
    }
    assert {cells[code, "conmeds"].state for code in follow_ups} == {FormState.REPORTED}
    timeline = {row.visit.code: row for row in response.context["timeline"]}
    assert all(len(timeline[code].drug_changes) == 1 for code in follow_ups)
    assert response.context["safety"].unacknowledged == 4

    m24 = participant.visits.get(code="M24")
    with django_assert_num_queries(VISIT_PAGE_QUERIES):
        response = client.get(reverse("visit-detail", args=["ISF", participant.pk, m24.pk]))
    assert response.context["progress"].complete_count == 3  # ALSFRS-R and both safety answers
