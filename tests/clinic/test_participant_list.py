"""The participant list (clinic): search and filters, constant queries whatever its length."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.factories import enrol, register, transplanted_participant

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def test_list_searches_and_filters(frozen, client_for, coordinator_a, site_a, trial):
    screening = register(coordinator_a, site_a, trial, screened_on=TODAY, name="Zahra Screening")
    overdue = transplanted_participant(
        coordinator_a, site_a, trial, on=date(2025, 7, 1), name="Overdue Person"
    )
    client = client_for(coordinator_a)
    url = reverse("participant-list", args=["ISF"])

    def found(**params) -> set[int]:
        return {p.pk for p in client.get(url, params).context["page"]}

    assert found(q="zahra") == {screening.pk}
    assert found(q=overdue.study_id) == {overdue.pk}
    assert found(q="S001") == {screening.pk}
    assert found(status="transplanted") == {overdue.pk}
    assert found(due="overdue") == {overdue.pk}  # M06 window closed 29 Jan 2026
    assert found(due="nonsense", status="nonsense") == {screening.pk, overdue.pk}


def _count_list_queries(client, django_assert_num_queries, expected: int) -> None:
    with django_assert_num_queries(expected):
        response = client.get(reverse("participant-list", args=["ISF"]))
    assert response.status_code == 200


def test_the_list_uses_the_same_number_of_queries_for_5_and_60_participants(
    frozen, client_for, coordinator_a, site_a, trial, django_assert_num_queries
):
    """Session, user, site, roles, count, nav sites, one page (next visit as subqueries),
    unread notifications in the navbar, the page's open queries."""
    for i in range(5):
        enrol(
            coordinator_a,
            register(coordinator_a, site_a, trial, screened_on=TODAY, name=f"A{i}"),
            TODAY,
        )
    client = client_for(coordinator_a)
    _count_list_queries(client, django_assert_num_queries, 9)
    for i in range(55):
        register(coordinator_a, site_a, trial, screened_on=TODAY, name=f"B{i}")
    _count_list_queries(client, django_assert_num_queries, 9)
    second = client.get(reverse("participant-list", args=["ISF"]), {"page": 2})
    assert len(second.context["page"]) == 10
