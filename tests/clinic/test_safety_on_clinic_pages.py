"""The participant and visit pages show each visit's safety answers as they stand in the safety
app: adverse events reported at the visit, "none since the last visit" answered, or not
answered (the same for concomitant medication), count them toward "n / m forms complete",
link them to the visit's safety page, and sum the participant's safety logs up in a Safety
card (events, serious, serious not yet acknowledged) with the riluzole and edaravone records
on the visit timeline. A monitor reads the same; another site's user gets 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from clinic.selectors import FormState
from safety.services import assess_adverse_event, save_conmed, save_visit_review
from tests.factories import PASSWORD, investigator_of, member
from tests.safety.conftest import report
from trials.models import Role
from visits.services import mark_visit_missed

pytestmark = pytest.mark.django_db

RILUZOLE = {
    "medication": "riluzole",
    "other_name": "",
    "indication": "ALS",
    "dose": Decimal(50),
    "dose_unit": "mg",
    "route": "oral",
    "frequency": "bid",
    "start_date": date(2025, 3, 1),
    "start_precision": "month",
    "stop_date": None,
    "stop_precision": "",
    "ongoing": True,
}


def medicate(actor, visit, **changes):
    """A complete medication record saved through the service at `visit`."""
    return save_conmed(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        conmed_id=None,
        answers=RILUZOLE | changes,
        expected_version=0,
        complete=True,
    )


def participant_url(participant) -> str:
    return reverse("participant-detail", args=["ISF", participant.pk])


def safety_url(visit) -> str:
    return reverse("visit-safety", args=["ISF", visit.participant_id, visit.pk])


def cells(response) -> dict[tuple[str, str], object]:
    matrix = response.context["matrix"]
    return {(cell.visit_code, row.code): cell for row in matrix.rows for cell in row.cells}


def test_each_visits_safety_answers_show_and_count_on_the_participant_and_visit_pages(
    client_for, coordinator_a, tx_participant, m06
):
    client = client_for(coordinator_a)
    page = client.get(participant_url(tx_participant))
    m06_ae = cells(page)["M06", "adverse_events"]
    # Asked, not answered yet: a gap, and the way to the page that answers it.
    assert (m06_ae.state, m06_ae.state_label, m06_ae.href) == (
        FormState.NOT_ANSWERED,
        "Not answered",
        safety_url(m06),
    )
    assert cells(page)["M06", "conmeds"].href == safety_url(m06)
    assert "0 / 8 forms complete" in page.text

    report(coordinator_a, m06)
    report(coordinator_a, m06, verbatim_term="Low back pain", term_code="back_pain")
    save_visit_review(
        actor=coordinator_a, visit=m06, answers={"no_conmed_changes": True}, expected_version=0
    )
    tx = tx_participant.visits.get(code="TX")
    save_visit_review(
        actor=coordinator_a,
        visit=tx,
        answers={"no_adverse_events": True, "no_conmed_changes": True},
        expected_version=0,
    )
    baseline = tx_participant.visits.get(code="BL")
    medicate(coordinator_a, baseline)

    page = client.get(participant_url(tx_participant))
    found = cells(page)
    assert (found["M06", "adverse_events"].state, found["M06", "adverse_events"].state_label) == (
        FormState.REPORTED,
        "2 events reported",
    )
    assert (found["M06", "conmeds"].state, found["M06", "conmeds"].state_label) == (
        FormState.NOTHING_NEW,
        "No change since the last visit (answered)",
    )
    assert found["TX", "adverse_events"].state_label == "None since the last visit (answered)"
    assert found["TX", "adverse_events"].href == safety_url(tx)
    assert (found["BL", "conmeds"].state, found["BL", "conmeds"].state_label) == (
        FormState.REPORTED,
        "1 medication recorded",
    )
    # Later visits are asked too and not answered yet.
    assert found["M12", "adverse_events"].state == FormState.NOT_ANSWERED
    # Both answers count toward the visit's completeness.
    timeline = {row.visit.code: row for row in page.context["timeline"]}
    assert (timeline["M06"].complete_count, timeline["M06"].expected_count) == (2, 8)
    assert "2 / 8 forms complete" in page.text
    html = page.text
    assert "Adverse events at M06: 2 events reported" in html
    assert f'href="{safety_url(m06)}"' in html
    assert "Not answered" in html  # in the legend, with its own icon
    assert "bi-question-circle" in html

    visit_page = client.get(reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]))
    forms = {cell.code: cell for cell in visit_page.context["progress"].forms}
    assert (forms["adverse_events"].state_label, forms["adverse_events"].href) == (
        "2 events reported",
        safety_url(m06),
    )
    assert forms["conmeds"].state == FormState.NOTHING_NEW
    assert "2 / 8 forms complete" in visit_page.text
    assert "No page yet" not in visit_page.text
    # The link leads to the visit's events.
    safety_page = client.get(forms["adverse_events"].href)
    assert safety_page.status_code == 200
    assert [event.verbatim_term for event in safety_page.context["events"]] == [
        "Headache",
        "Low back pain",
    ]


def test_a_missed_visit_has_no_safety_answer_to_give(client_for, coordinator_a, tx_participant):
    m06 = tx_participant.visits.get(code="M06")
    mark_visit_missed(actor=coordinator_a, visit=m06, reason="In hospital")
    page = client_for(coordinator_a).get(participant_url(tx_participant))
    ae = cells(page)["M06", "adverse_events"]
    assert (ae.state, ae.href) == (FormState.VISIT_MISSED, "")


def test_the_safety_card_counts_events_serious_and_unacknowledged_and_links_the_logs(
    client_for, coordinator_a, monitor_a, tx_participant, m06
):
    investigator = investigator_of(tx_participant.site)
    report(coordinator_a, m06)
    first = report(
        coordinator_a,
        m06,
        verbatim_term="Bacterial meningitis",
        term_code="meningitis",
        grade=3,
        serious=True,
        sae_hospitalisation=True,
        outcome="recovering",
        end_date=None,
        end_precision="",
        ongoing=True,
    )
    report(
        coordinator_a,
        m06,
        verbatim_term="Fever with rigors",
        term_code="fever",
        grade=3,
        serious=True,
        sae_hospitalisation=True,
    )
    medicate(coordinator_a, m06)
    url = participant_url(tx_participant)
    ae_log = reverse("adverse-event-list", args=["ISF", tx_participant.pk])
    conmed_log = reverse("conmed-list", args=["ISF", tx_participant.pk])

    page = client_for(coordinator_a).get(url)
    summary = page.context["safety"]
    assert (summary.events, summary.serious, summary.unacknowledged, summary.medications) == (
        3,
        2,
        2,
        1,
    )
    html = page.text
    assert 'data-testid="safety-card"' in html
    assert f'href="{ae_log}"' in html and f'href="{conmed_log}"' in html
    assert "3 events · 2 serious" in html
    assert "2 serious events not yet acknowledged by an investigator" in html
    # A coordinator adds events and medication from here.
    assert reverse("adverse-event-new", args=["ISF", tx_participant.pk]) in html
    assert reverse("conmed-new", args=["ISF", tx_participant.pk]) in html

    assess_adverse_event(
        actor=investigator,
        event=first,
        serious=True,
        related_procedure="possible",
        related_cells="not",
        comment="",
        password=PASSWORD,
    )
    # A monitor reads the same counts and the logs, and adds nothing.
    page = client_for(monitor_a).get(url)
    assert page.context["safety"].unacknowledged == 1
    html = page.text
    assert "1 serious event not yet acknowledged by an investigator" in html
    assert f'href="{ae_log}"' in html and f'href="{conmed_log}"' in html
    assert reverse("adverse-event-new", args=["ISF", tx_participant.pk]) not in html
    assert reverse("conmed-new", args=["ISF", tx_participant.pk]) not in html
    assert cells(page)["M06", "adverse_events"].href == safety_url(m06)
    # The links open read-only pages for the monitor and the data manager.
    data_manager = member(Role.DATA_MANAGER, tx_participant.site, "dm_a")
    for reader in (client_for(monitor_a), client_for(data_manager)):
        page = reader.get(url)
        assert page.context["safety"].events == 3
        assert "safety-report-event" not in page.text and "safety-add-conmed" not in page.text
        assert reader.get(ae_log).status_code == 200
        assert reader.get(conmed_log).status_code == 200
        read_only = reader.get(safety_url(m06))
        assert read_only.status_code == 200
        assert read_only.context["may_enter"] is False
        assert "Report an adverse event at this visit" not in read_only.text


def test_a_participant_without_safety_records_says_so(client_for, coordinator_a, tx_participant):
    page = client_for(coordinator_a).get(participant_url(tx_participant))
    assert "0 events · 0 serious" in page.text
    assert "not yet acknowledged" not in page.text
    assert "0 medications" in page.text
    assert 'data-testid="drugs-' not in page.text  # no ALS drug column without a record


def test_riluzole_and_edaravone_records_are_marked_on_the_visit_timeline(
    client_for, coordinator_a, tx_participant, m06
):
    baseline = tx_participant.visits.get(code="BL")
    riluzole = medicate(coordinator_a, baseline)
    edaravone = medicate(
        coordinator_a,
        m06,
        medication="edaravone",
        route="iv",
        dose=Decimal(60),
        frequency="qd",
        start_date=date(2025, 9, 1),
        stop_date=date(2026, 1, 1),
        stop_precision="month",
        ongoing=False,
    )
    medicate(coordinator_a, m06, medication="other", other_name="Baclofen", indication="Spasm")

    page = client_for(coordinator_a).get(participant_url(tx_participant))
    timeline = {row.visit.code: row for row in page.context["timeline"]}
    assert timeline["BL"].drug_changes == [riluzole]
    assert timeline["M06"].drug_changes == [edaravone]  # Baclofen is not an ALS drug
    assert timeline["M12"].drug_changes == []
    html = page.text
    baseline_cell = html.split('data-testid="drugs-BL"')[1].split("</td>")[0]
    assert "Riluzole" in baseline_cell and "started 2025-03, ongoing" in baseline_cell
    m06_cell = html.split('data-testid="drugs-M06"')[1].split("</td>")[0]
    assert "Edaravone" in m06_cell
    assert "started 2025-09" in m06_cell and "stopped 2026-01" in m06_cell
    assert "Baclofen" not in m06_cell
    assert reverse("conmed-edit", args=["ISF", tx_participant.pk, edaravone.pk]) in m06_cell


def test_another_sites_user_gets_404(client_for, coordinator_b, coordinator_a, tx_participant, m06):
    report(coordinator_a, m06)
    client = client_for(coordinator_b)
    for url in (
        participant_url(tx_participant),
        reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]),
        safety_url(m06),
        reverse("adverse-event-list", args=["ISF", tx_participant.pk]),
        reverse("conmed-list", args=["ISF", tx_participant.pk]),
        # Their own site's code does not reach another site's participant either.
        reverse("participant-detail", args=["THR", tx_participant.pk]),
    ):
        assert client.get(url).status_code == 404, url
