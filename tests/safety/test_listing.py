"""The site's adverse-event listing: filters, counts by term and grade and by relatedness,
days from the transplantation to onset, at a constant number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from tests.factories import transplanted_participant
from tests.safety.conftest import report
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db

LISTING = reverse("ae-listing", args=["ISF"])
SAE = {
    "term_code": "meningitis",
    "verbatim_term": "Meningitis",
    "onset_date": date(2025, 8, 11),
    "end_date": None,
    "end_precision": "",
    "ongoing": True,
    "grade": 3,
    "serious": True,
    "sae_hospitalisation": True,
    "related_procedure": "possible",
    "related_cells": "unlikely",
    "action": "hospitalisation",
    "outcome": "recovering",
}


@pytest.fixture
def events(m06, coordinator_a):
    headache = report(coordinator_a, m06)
    sae = report(coordinator_a, m06, **SAE)
    back_pain = report(
        coordinator_a,
        m06,
        term_code="back_pain",
        onset_date=date(2025, 9, 1),
        onset_precision="month",
        end_date=None,
        end_precision="",
        ongoing=True,
        related_procedure="not",
        outcome="not_recovered",
    )
    return headache, sae, back_pain


def numbers(response) -> set[int]:
    return {ae.number for ae in response.context["page"]}


def test_the_listing_filters_and_counts(events, monitor_a, client_for):
    client = client_for(monitor_a)  # monitors and data managers read the listing
    everything = client.get(LISTING)
    assert everything.status_code == 200 and numbers(everything) == {1, 2, 3}

    assert numbers(client.get(LISTING + "?serious=1")) == {2}
    assert numbers(client.get(LISTING + "?grade3=1")) == {2}
    assert numbers(client.get(LISTING + "?related=1")) == {1, 2}
    assert numbers(client.get(LISTING + "?ongoing=1")) == {2, 3}
    assert numbers(client.get(LISTING + "?unacknowledged=1")) == {2}
    assert numbers(client.get(LISTING + "?ongoing=1&related=1")) == {2}

    counts = everything.context["counts"]
    grades = counts.grades
    by_term = {
        label: dict(zip(grades, row, strict=True)) for label, row, _t in counts.by_term_grade
    }
    assert by_term["Meningitis"][3] == 1 and by_term["Back pain"][1] == 1
    assert by_term["Headache (post-lumbar puncture)"][1] == 1 and counts.total == 3
    relatedness = {label: (procedure, cells) for label, procedure, cells in counts.by_relatedness}
    assert relatedness["Probable"] == (1, 0) and relatedness["Possible"] == (1, 0)
    assert relatedness["Not related"] == (1, 2) and relatedness["Unlikely"] == (0, 1)

    # Days from the transplantation (2025-08-01) to onset; approximate for a month-only onset.
    days = {ae.number: ae.days_from_transplantation for ae in everything.context["page"]}
    assert days == {1: timedelta(days=1), 2: timedelta(days=10), 3: timedelta(days=31)}
    assert "≈ 31" in everything.content.decode()
    # The procedure's events show the needle of the transplantation (a post-LP headache's risk).
    assert "Atraumatic (pencil-point)" in everything.content.decode()


def test_an_acknowledged_sae_leaves_the_unacknowledged_filter(events, investigator_a, client_for):
    from safety.services import assess_adverse_event
    from tests.factories import PASSWORD

    sae = events[1]
    assess_adverse_event(
        actor=investigator_a,
        event=sae,
        serious=True,
        related_procedure="possible",
        related_cells="not",
        comment="",
        password=PASSWORD,
    )
    assert numbers(client_for(investigator_a).get(LISTING + "?unacknowledged=1")) == set()


def test_another_sites_coordinator_cannot_see_the_listing(events, coordinator_b, client_for):
    assert client_for(coordinator_b).get(LISTING).status_code == 404


def test_the_listing_takes_the_same_queries_for_3_events_or_9(
    events,
    coordinator_a,
    site_a,
    trial,
    client_for,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    client = client_for(coordinator_a)
    with django_assert_max_num_queries(25) as few:
        client.get(LISTING + "?related=1")
    queries = len(few.captured_queries)
    other = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 1), name="B")
    visit = other.visits.get(code="M06")
    record_visit_date(actor=coordinator_a, visit=visit, actual_date=date(2026, 1, 30))
    visit.refresh_from_db()
    for _n in range(6):
        report(coordinator_a, visit, **SAE)
    with django_assert_num_queries(queries):
        response = client.get(LISTING + "?related=1")
    assert len(response.context["page"]) == 8


def test_the_home_page_links_the_listing(site_a, monitor_a, investigator_a, client_for):
    assert LISTING in client_for(monitor_a).get("/").content.decode()
    page = client_for(investigator_a).get("/").content.decode()
    assert LISTING + "?unacknowledged=1" in page
