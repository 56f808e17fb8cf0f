"""A coordinator registers, enrols and ends participants; the lifecycle refuses illegal moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from participants import services
from participants.choices import ParticipantStatus as S
from participants.partial_dates import format_partial_date, parse_partial_date
from tests.factories import enrol, register, transplanted_participant

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
WITHDRAWAL = {"withdrawn_by": "participant", "follow_up_allowed": False}


def test_registration_assigns_a_screening_number_and_opens_screening(
    frozen, coordinator_a, site_a, trial
):
    first = register(coordinator_a, site_a, trial, screened_on=TODAY)
    second = register(coordinator_a, site_a, trial, screened_on=TODAY)
    assert (first.screening_number, second.screening_number) == ("ISF-S001", "ISF-S002")
    assert first.status == S.SCREENING and first.study_id is None
    assert first.identity.full_name == "Test Person"
    assert first.als_history.onset_display == "2025-03"
    scr = first.visits.get()
    assert (scr.code, scr.actual_date, scr.status) == ("SCR", TODAY, "done")
    assert [c.to_status for c in first.status_changes.all()] == [S.SCREENING]


def test_enrolment_allocates_a_study_id_and_opens_baseline(frozen, coordinator_a, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))
    participant = enrol(coordinator_a, participant, TODAY)
    assert participant.study_id == "ISF-0001-8"
    assert (participant.status, participant.enrolled_on, participant.status_date) == (
        S.ENROLLED,
        TODAY,
        TODAY,
    )
    baseline = participant.visits.get(code="BL")
    assert baseline.target_date is None  # known once the transplantation date is
    assert baseline.status == "upcoming"


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        ("screening", S.WITHDRAWN, "“Screening” cannot become “Withdrawn”"),
        ("screening", S.COMPLETED, "“Screening” cannot become “Completed”"),
        ("enrolled", S.COMPLETED, "“Enrolled” cannot become “Completed”"),
        ("enrolled", S.SCREEN_FAILED, "“Enrolled” cannot become “Screen failure”"),
        ("withdrawn", S.DIED, "“Withdrawn” cannot become “Died”"),
    ],
)
def test_illegal_status_transitions_are_refused_with_a_clear_message(
    frozen, coordinator_a, site_a, trial, start, target, message
):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=9))
    if start != "screening":
        participant = enrol(coordinator_a, participant, TODAY - timedelta(days=8))
    if start == "withdrawn":
        participant = services.change_status(
            actor=coordinator_a,
            participant=participant,
            to_status=S.WITHDRAWN,
            effective_date=TODAY - timedelta(days=7),
            reason="Moved away",
            details=WITHDRAWAL,
        )
    with pytest.raises(ValidationError) as refused:
        services.change_status(
            actor=coordinator_a,
            participant=participant,
            to_status=target,
            effective_date=TODAY,
            reason="test",
        )
    assert message in refused.value.message_dict["status"][0]
    participant.refresh_from_db()
    assert participant.status == start


def test_enrolment_and_transplantation_are_not_set_by_hand(frozen, coordinator_a, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY)
    with pytest.raises(ValidationError) as refused:
        services.change_status(
            actor=coordinator_a,
            participant=participant,
            to_status=S.ENROLLED,
            effective_date=TODAY,
            reason="",
        )
    assert "has its own page: enrolment" in refused.value.message_dict["status"][0]
    screen_failed = services.change_status(
        actor=coordinator_a,
        participant=participant,
        to_status=S.SCREEN_FAILED,
        effective_date=TODAY,
        reason="FVC 42 % predicted",
    )
    with pytest.raises(ValidationError, match="cannot become"):
        enrol(coordinator_a, screen_failed, TODAY)


def test_withdrawal_needs_a_reason_and_a_date_not_in_the_future(
    frozen, coordinator_a, site_a, trial
):
    participant = enrol(
        coordinator_a,
        register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3)),
        TODAY - timedelta(days=2),
    )
    kwargs = {
        "actor": coordinator_a,
        "participant": participant,
        "to_status": S.WITHDRAWN,
        "details": WITHDRAWAL,
    }
    with pytest.raises(ValidationError) as no_reason:
        services.change_status(**kwargs, effective_date=TODAY, reason="  ")
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError) as future:
        services.change_status(**kwargs, effective_date=TODAY + timedelta(days=1), reason="x")
    assert "future" in future.value.message_dict["effective_date"][0]
    with pytest.raises(ValidationError) as before:
        services.change_status(**kwargs, effective_date=TODAY - timedelta(days=5), reason="x")
    assert "before the current status" in before.value.message_dict["effective_date"][0]
    done = services.change_status(**kwargs, effective_date=TODAY, reason="Consent withdrawn")
    assert (done.status, done.exited_on) == (S.WITHDRAWN, TODAY)
    assert done.status_changes.last().reason == "Consent withdrawn"
    assert done.visits.get(code="BL").status == "not_expected"


def test_death_after_transplantation_closes_future_visits_only(
    frozen, coordinator_a, site_a, trial
):
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 5, 1))
    died = services.change_status(
        actor=coordinator_a,
        participant=participant,
        to_status=S.DIED,
        effective_date=date(2026, 1, 10),
        reason="Respiratory failure",
        details={"death_cause": "Respiratory failure", "death_als_related": "yes"},
    )
    statuses = dict(died.visits.values_list("code", "status"))
    assert statuses["M06"] == "overdue"  # due before death: stays open to be marked missed
    assert statuses["M12"] == statuses["M24"] == "not_expected"


def test_registration_rules_give_field_errors_and_save_nothing(
    frozen, coordinator_a, site_a, trial
):
    from participants.models import Participant

    with pytest.raises(ValidationError) as refused:
        services.register_participant(
            actor=coordinator_a,
            site=site_a,
            trial=trial,
            screened_on=TODAY,
            identity={"full_name": "X", "phone": "call me"},
            demographics={
                "date_of_birth": TODAY + timedelta(days=1),
                "sex": "female",
                "height_cm": 300,
                "weight_kg": 60,
                "ethnicity": "iranian",
            },
            als_history={},
        )
    assert "date_of_birth" in refused.value.message_dict
    assert not Participant.objects.exists()


def test_a_monitor_cannot_register(frozen, monitor_a, site_a, trial):
    with pytest.raises(PermissionDenied):
        register(monitor_a, site_a, trial, screened_on=TODAY)


@pytest.mark.parametrize(
    ("text", "stored", "precision", "shown"),
    [
        ("2024-03-17", date(2024, 3, 17), "day", "2024-03-17"),
        ("2024-03", date(2024, 3, 1), "month", "2024-03"),
        ("2025", date(2025, 1, 1), "year", "2025"),
    ],
)
def test_partial_onset_dates(text, stored, precision, shown):
    assert parse_partial_date(text) == (stored, precision)
    assert format_partial_date(stored, precision) == shown


@pytest.mark.parametrize("text", ["2024-13", "2024-02-30", "03/2024", "", "twenty"])
def test_impossible_partial_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_partial_date(text)
