"""The queries list by an age range (whole days since opening, both ends included): the study
dashboard's bars 0 to 7, 8 to 30 and over 30 days open the list with it, and the list says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crfs.alsfrs_r.models import AlsfrsR
from queries import services
from queries.models import Query
from tests.factories import ALSFRS_NORMAL, save_crf

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(m06, monitor_a, coordinator_a):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    ages = {}
    for days in (0, 7, 8, 30, 31):
        query = services.open_query(
            actor=monitor_a,
            site=m06.participant.site,
            record_type="alsfrs_r",
            record_pk=record.pk,
            field_name="",
            text="Please check.",
        )
        # 23 hours more than the whole days: still that many whole days old.
        opened = timezone.now() - timedelta(days=days, hours=23)
        Query.objects.filter(pk=query.pk).update(opened_at=opened)
        ages[query.pk] = days
    return ages


def listed(client, **params):
    response = client.get(reverse("query-list", args=["ISF"]), params)
    assert response.status_code == 200
    return response, {q.pk for q, *_rest in response.context["rows"]}


def test_a_monitor_lists_the_queries_of_an_age_range(aged, monitor_a, client_for):
    client = client_for(monitor_a)
    by_age = {days: pk for pk, days in aged.items()}
    response, young = listed(client, min_age=0, max_age=7)
    assert young == {by_age[0], by_age[7]}
    assert "Only queries 0 to 7 days old." in response.content.decode()
    assert listed(client, min_age=8, max_age=30)[1] == {by_age[8], by_age[30]}
    response, old = listed(client, min_age=31)
    assert old == {by_age[31]}
    assert "Only queries 31 days old or older." in response.content.decode()
    # Without a range: every age, and no sentence about it.
    response, every = listed(client)
    assert every == set(aged) and "Only queries" not in response.content.decode()


def test_a_bad_age_is_a_form_error_not_a_500(aged, monitor_a, client_for):
    response = client_for(monitor_a).get(reverse("query-list", args=["ISF"]), {"max_age": "x"})
    assert response.status_code == 400
