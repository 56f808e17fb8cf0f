"""The counts other pages show (participant, visit, record) and the list pages: the same
number of SQL queries for one query or many."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.vitals.models import Vitals
from queries import selectors, services
from tests.factories import ALSFRS_NORMAL, save_crf

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(m06, coordinator_a):
    baseline = m06.participant.visits.get(code="BL")
    return [
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL),
        save_crf(coordinator_a, baseline, Vitals, {"weight_kg": Decimal(60)}, complete=False),
        save_crf(coordinator_a, m06, Vitals, {"weight_kg": Decimal(61)}, complete=False),
    ]


def ask(monitor, record, field=""):
    return services.open_query(
        actor=monitor,
        site=record.visit.participant.site,
        record_type=record.form_code,
        record_pk=record.pk,
        field_name=field,
        text="Please check.",
    )


def test_counts_by_participant_visit_and_record_in_one_query_each(
    saved, m06, monitor_a, coordinator_a, django_assert_num_queries
):
    alsfrs, baseline_vitals, m06_vitals = saved
    participant = m06.participant
    first = ask(monitor_a, alsfrs, "q1_speech")
    with django_assert_num_queries(1):
        assert selectors.open_counts(participants=[participant])[participant.pk].open == 1
    with django_assert_num_queries(1):
        assert selectors.counts_for_records(saved) == {
            ("alsfrs_r", alsfrs.pk): selectors.Counts(1, 0)
        }

    ask(monitor_a, alsfrs)
    ask(monitor_a, m06_vitals, "weight_kg")
    second = ask(monitor_a, baseline_vitals)
    services.post(actor=coordinator_a, query=first, action="answer", text="Checked: 4.")
    services.post(actor=monitor_a, query=second, action="close", text="")
    with django_assert_num_queries(1):
        by_participant = selectors.open_counts(participants=[participant.pk, 999999])
    assert by_participant == {participant.pk: selectors.Counts(open=2, answered=1)}
    visits = list(participant.visits.all())
    with django_assert_num_queries(1):
        by_visit = selectors.open_counts(visits=visits)
    assert by_visit == {m06.pk: selectors.Counts(open=2, answered=1)}
    with django_assert_num_queries(1):
        by_record = selectors.counts_for_records(saved)
    assert by_record == {
        ("alsfrs_r", alsfrs.pk): selectors.Counts(1, 1),
        ("vitals", m06_vitals.pk): selectors.Counts(1, 0),
    }
    assert by_record[("alsfrs_r", alsfrs.pk)].unresolved == 2


def test_the_pages_take_the_same_queries_for_one_query_or_many(
    saved, m06, monitor_a, client_for, django_assert_num_queries
):
    alsfrs, baseline_vitals, m06_vitals = saved
    client = client_for(monitor_a)
    first = ask(monitor_a, alsfrs, "q1_speech")
    pages = [
        reverse("query-list", args=["ISF"]),
        reverse("participant-queries", args=["ISF", m06.participant_id]),
        reverse("check-list", args=["ISF"]),
        reverse("query-detail", args=["ISF", first.pk]),
    ]
    counted = []
    for url in pages:
        client.get(url)  # the session and the site's roles, as on any later page
        with CaptureQueriesContext(connection) as one:
            assert client.get(url).status_code == 200
        counted.append(len(one.captured_queries))
    for record in (alsfrs, baseline_vitals, m06_vitals, m06_vitals):
        services.post(actor=monitor_a, query=first, action="reply", text="More.")
        ask(monitor_a, record, "weight_kg" if record.form_code == "vitals" else "")
    for url, expected in zip(pages, counted, strict=True):
        with django_assert_num_queries(expected):
            assert client.get(url).status_code == 200
