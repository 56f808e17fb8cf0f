"""A monitor verifies records or single fields; a later change to a verified value clears
the verification, naming the change (its audit event and the record version); progress per
participant, visit and site follows the trial's targeted SDV."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from review import selectors, services
from review.models import Verification
from tests.factories import ALSFRS_NORMAL, SCREENING_FVC, save_crf
from tests.review.conftest import record_type

pytestmark = pytest.mark.django_db


def test_a_change_clears_the_verification_and_names_the_change(
    client_for, monitor_a, coordinator_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    url = reverse(
        "review-record", args=[participant.site.code, participant.pk, "alsfrs_r", record.pk]
    )
    monitor = client_for(monitor_a)
    assert monitor.post(url, {"whole": "on"}).status_code == 302
    assert "Verified" in monitor.get(url).text

    changed = save_crf(
        coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 3}, reason="source says 3"
    )
    verification = Verification.objects.get()
    assert verification.cleared_at is not None
    assert verification.cleared_fields == ["q1_speech"]
    assert verification.cleared_version == changed.version
    event = AlsfrsR.pgh_event_model.objects.filter(pgh_obj_id=record.pk).latest("pgh_id")
    assert verification.cleared_by_event == event.pgh_id
    assert event.pgh_context["reason"] == "source says 3"

    page = client_for(monitor_a).get(url)
    assert "cleared" in page.text and f"audit event {event.pgh_id}" in page.text
    states = selectors.record_states([(record_type("alsfrs_r"), changed)])
    state = states[("alsfrs_r", record.pk)]
    assert not state.verified and state.cleared == verification


def test_a_verified_field_stays_verified_when_another_field_changes(monitor_a, coordinator_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    services.verify(
        actor=monitor_a,
        record_type=record_type("alsfrs_r"),
        record=record,
        fields=["q2_salivation"],
    )
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 3}, reason="typo")
    assert Verification.objects.active().count() == 1
    save_crf(
        coordinator_a,
        m06,
        AlsfrsR,
        ALSFRS_NORMAL | {"q1_speech": 3, "q2_salivation": 2},
        reason="typo",
    )
    assert Verification.objects.active().count() == 0


def test_re_derivation_does_not_clear_a_verification_of_the_answers(
    monitor_a, coordinator_a, data_manager_a, m06, trial
):
    from crfs.rederive import rederive_trial_spirometry

    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    services.verify(actor=monitor_a, record_type=record_type("fvc"), record=record)
    trial.spirometry_equation = "GLI-2012"
    trial.save()
    assert rederive_trial_spirometry(trial, actor=data_manager_a).changed
    assert Verification.objects.active().count() == 1


def test_a_coordinator_cannot_verify(client_for, coordinator_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    url = reverse(
        "review-record", args=[participant.site.code, participant.pk, "alsfrs_r", record.pk]
    )
    assert client_for(coordinator_a).post(url, {"whole": "on"}).status_code == 404
    assert not Verification.objects.exists()


def test_progress_follows_the_trials_targeted_sdv(
    client_for, monitor_a, coordinator_a, data_manager_a, m06, trial
):
    alsfrs = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    participant = m06.participant
    everything = selectors.sdv_progress(participant=participant)
    assert everything.site.total > 2 and everything.site.verified == 0

    site = participant.site
    response = client_for(data_manager_a).post(
        reverse("review-targets", args=[site.code, trial.pk]), {"targets": ["alsfrs_r"]}
    )
    assert response.status_code == 302
    # Every ALSFRS-R of the participant (screening and month 6), nothing else.
    targeted = selectors.sdv_progress(participant=participant)
    count = AlsfrsR.objects.filter(visit__participant=participant).count()
    assert (targeted.site.total, targeted.site.verified) == (count, 0)
    services.verify(actor=monitor_a, record_type=record_type("alsfrs_r"), record=alsfrs)
    targeted = selectors.sdv_progress(participant=participant)
    assert (targeted.site.total, targeted.site.verified) == (count, 1)
    assert (targeted.by_visit[m06.pk].total, targeted.by_visit[m06.pk].verified) == (1, 1)
    by_site = selectors.sdv_progress(site=site)
    assert by_site.by_participant[participant.pk].verified == 1
    # A monitor may not change the targets.
    assert (
        client_for(monitor_a).get(reverse("review-targets", args=[site.code, trial.pk])).status_code
        == 404
    )
