"""Out-of-window visit dates: accepted, but said at save time, marked on the visit and
participant pages, and listed per site in constant queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.factories import transplanted_participant
from visits import services

pytestmark = pytest.mark.django_db


def test_an_out_of_window_date_is_saved_with_a_warning_and_marked_everywhere(
    frozen, client_for, coordinator_a, monitor_a, site_a, trial
):
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")  # target 2025-09-10, window 08-13 to 10-08
    client = client_for(coordinator_a)
    url = reverse("visit-detail", args=["ISF", participant.pk, m06.pk])
    saved = client.post(url, {"action": "date", "actual_date": "2025-10-20"}, follow=True)
    assert saved.status_code == 200
    [message] = list(saved.context["messages"])
    assert message.level_tag == "warning"
    assert "outside its window (2025-08-13 to 2025-10-08)" in message.message
    assert "protocol deviation" in message.message
    m06.refresh_from_db()
    assert (m06.actual_date, m06.status) == (date(2025, 10, 20), "done_out_of_window")
    # The participant page (where the save lands) and the visit page mark it.
    assert 'data-testid="out-of-window-M06"' in saved.text
    assert 'data-testid="out-of-window"' in client.get(url).text

    # An in-window date says only "Visit saved".
    m12 = participant.visits.get(code="M12")
    in_window = client.post(
        reverse("visit-detail", args=["ISF", participant.pk, m12.pk]),
        {"action": "date", "actual_date": "2026-03-09"},
        follow=True,
    )
    assert [m.level_tag for m in in_window.context["messages"]] == ["success"]

    # The monitor finds the deviation in the site's list.
    deviations = client_for(monitor_a).get(reverse("deviation-list", args=["ISF"]))
    assert deviations.status_code == 200
    assert [v.pk for v in deviations.context["page"]] == [m06.pk]
    assert "2025-10-20" in deviations.text and participant.study_id in deviations.text


def test_the_deviation_list_is_per_site_and_in_constant_queries(
    frozen,
    client_for,
    coordinator_a,
    coordinator_b,
    site_a,
    trial,
    django_assert_max_num_queries,
):
    url = reverse("deviation-list", args=["ISF"])
    # Another site's coordinator does not see this site's list.
    assert client_for(coordinator_b).get(url).status_code == 404
    client = client_for(coordinator_a)

    def deviate(index: int) -> None:
        participant = transplanted_participant(
            coordinator_a, site_a, trial, on=date(2025, 3, 10), name=f"P{index}"
        )
        services.record_visit_date(
            actor=coordinator_a,
            visit=participant.visits.get(code="M06"),
            actual_date=date(2025, 10, 20),
        )

    deviate(0)
    with django_assert_max_num_queries(20) as few:
        assert len(client.get(url).context["page"]) == 1
    for index in range(1, 6):
        deviate(index)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).context["page"]) == 6


def test_the_participant_list_marks_a_participant_with_a_visit_out_of_window(
    frozen, client_for, coordinator_a, site_a, trial, django_assert_num_queries
):
    """Read from the dates in the list's one query (an EXISTS), whatever the number marked."""
    url = reverse("participant-list", args=["ISF"])
    client = client_for(coordinator_a)
    in_window = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = in_window.visits.get(code="M06")
    services.record_visit_date(actor=coordinator_a, visit=m06, actual_date=m06.target_date)

    def deviate(index: int):
        participant = transplanted_participant(
            coordinator_a, site_a, trial, on=date(2025, 3, 10), name=f"P{index}"
        )
        services.record_visit_date(
            actor=coordinator_a,
            visit=participant.visits.get(code="M06"),
            actual_date=date(2025, 10, 20),  # window 2025-08-13 to 2025-10-08
        )
        return participant

    late = deviate(0)
    with django_assert_num_queries(9) as one:  # 8, and the page's open queries
        response = client.get(url)
    marked = {p.pk for p in response.context["page"] if p.has_deviation}
    assert marked == {late.pk}
    assert f'data-testid="deviation-{late.pk}"' in response.text
    assert f'data-testid="deviation-{in_window.pk}"' not in response.text
    assert f'href="{reverse("deviation-list", args=["ISF"])}"' in response.text
    for index in range(1, 4):
        deviate(index)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert sum(p.has_deviation for p in response.context["page"]) == 4
