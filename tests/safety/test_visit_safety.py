"""Each follow-up visit answers the safety questions explicitly: adverse events reported at
it, or "no adverse events since the last visit" (and the same for medication), so its
safety status is complete and never silently empty."""

from __future__ import annotations

import pytest
from django.urls import reverse

from safety.models import VisitSafetyReview
from safety.selectors import SafetyStatus, visit_safety_status
from tests.factories import transplanted_participant
from tests.safety.conftest import ae_post, conmed_post

pytestmark = pytest.mark.django_db


def safety_url(visit):
    return reverse("visit-safety", args=["ISF", visit.participant_id, visit.pk])


def test_no_adverse_events_since_the_last_visit_is_an_explicit_answer(
    m06, coordinator_a, client_for
):
    client = client_for(coordinator_a)
    page = client.get(safety_url(m06))
    assert page.status_code == 200
    assert page.context["status"].adverse_events == SafetyStatus.NOT_ANSWERED
    assert not page.context["status"].complete

    response = client.post(
        safety_url(m06), {"no_adverse_events": "on", "no_conmed_changes": "on", "version": "0"}
    )
    assert response.status_code == 302
    review = VisitSafetyReview.objects.get(visit=m06)
    assert review.no_adverse_events is True and review.status == "complete"
    state = visit_safety_status([m06])[m06.pk]
    assert (state.adverse_events, state.conmeds, state.complete) == (
        SafetyStatus.NONE,
        SafetyStatus.NONE,
        True,
    )
    # Saved through the forms' write path: changing it needs a reason.
    refused = client.post(safety_url(m06), {"no_conmed_changes": "on", "version": "1"})
    assert refused.status_code == 400
    assert "give a reason for the change" in str(refused.context["form"].errors)


def test_none_is_refused_where_an_event_was_reported_and_the_other_way_round(
    m06, coordinator_a, client_for
):
    client = client_for(coordinator_a)
    client.post(reverse("adverse-event-new", args=["ISF", m06.participant_id]), ae_post(m06))
    refused = client.post(safety_url(m06), {"no_adverse_events": "on", "version": "0"})
    assert refused.status_code == 400
    assert "Adverse events are reported at this visit" in str(
        refused.context["form"].errors["no_adverse_events"]
    )
    assert not VisitSafetyReview.objects.exists()
    page = client.get(safety_url(m06))
    assert page.context["status"].adverse_events == SafetyStatus.RECORDED
    assert "Headache (post-lumbar puncture)" in page.content.decode()

    # Medication unchanged is an answer of its own; once given, none is recorded there.
    saved = client.post(safety_url(m06), {"no_conmed_changes": "on", "version": "0"})
    assert saved.status_code == 302
    med = client.post(reverse("conmed-new", args=["ISF", m06.participant_id]), conmed_post(m06))
    assert med.status_code == 400
    assert "did not change since the last visit" in str(med.context["form"].errors["visit"])


def test_an_event_at_a_visit_that_said_none_is_refused(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    client.post(safety_url(m06), {"no_adverse_events": "on", "version": "0"})
    response = client.post(
        reverse("adverse-event-new", args=["ISF", m06.participant_id]), ae_post(m06)
    )
    assert response.status_code == 400
    assert "change that answer first" in str(response.context["form"].errors["visit"])


def test_a_monitor_reads_the_visit_safety_page_and_cannot_answer(m06, monitor_a, client_for):
    client = client_for(monitor_a)
    assert client.get(safety_url(m06)).status_code == 200
    assert (
        client.post(safety_url(m06), {"no_adverse_events": "on", "version": "0"}).status_code == 404
    )


def test_the_status_of_many_visits_takes_three_queries(
    m06, coordinator_a, site_a, trial, client_for, django_assert_num_queries
):
    other = transplanted_participant(
        coordinator_a, site_a, trial, on=m06.participant.transplantation.performed_on, name="B"
    )
    visits = [
        *m06.participant.visits.select_related("participant__trial"),
        *other.visits.select_related("participant__trial"),
    ]
    with django_assert_num_queries(3):
        states = visit_safety_status(visits)
    by_code = {(v.participant_id, v.code): states[v.pk] for v in visits}
    # Baseline asks for medication only; screening for neither.
    baseline = by_code[(m06.participant_id, "BL")]
    assert baseline.adverse_events is None and baseline.conmeds == SafetyStatus.NOT_ANSWERED
    assert by_code[(m06.participant_id, "SCR")].statuses == {}


def test_a_stale_answer_is_refused_and_an_undated_visit_takes_none(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    assert (
        client.post(safety_url(m06), {"no_adverse_events": "on", "version": "0"}).status_code == 302
    )
    # A second page opened before that save.
    stale = client.post(safety_url(m06), {"no_conmed_changes": "on", "version": "0"})
    assert stale.status_code == 400
    assert "Someone else saved these answers meanwhile" in stale.content.decode()
    review = VisitSafetyReview.objects.get()
    assert (review.no_adverse_events, review.no_conmed_changes, review.version) == (True, None, 1)

    m12 = m06.participant.visits.get(code="M12")
    undated = client.post(safety_url(m12), {"no_adverse_events": "on", "version": "0"})
    assert undated.status_code == 400
    assert "record the visit date" in undated.content.decode()
    assert not VisitSafetyReview.objects.filter(visit=m12).exists()
